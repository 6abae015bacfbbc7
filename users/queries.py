"""The queries that a token request reading a user runs, compiled once.

Compiling an ORM query costs several times what running it on an indexed table does, and
these run on nearly every request: their SQL is built once per database, then run with the
request's value.
"""

import functools

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

User = get_user_model()


def compiled(queryset: QuerySet) -> str:
    """The SQL of a query with exactly one parameter."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    if len(params) != 1:
        raise ValueError(f"expected one parameter, got {params!r}")
    return sql


@functools.cache
def token_owner_query(alias: str) -> tuple[str, list[str], dict]:
    """The SQL, the selected attribute names and the backend's value converters.

    Loading the row through ``raw()`` or a queryset would work all of these out again for
    every request.
    """
    compiler = User.objects.using(alias).filter(auth_token__key="").query.get_compiler(alias)
    sql, params = compiler.as_sql()
    if len(params) != 1:
        raise ValueError(f"expected one parameter, got {params!r}")
    columns = [expression for expression, _, _ in compiler.select]
    return sql, [column.target.attname for column in columns], compiler.get_converters(columns)


@functools.cache
def feed_keys_sql(alias: str) -> str:
    return compiled(User(pk=0).feed.db_manager(alias).values_list("pk", flat=True))


def token_owner(key: str) -> User | None:
    """The user a token belongs to, active or not."""
    connection = connections[DEFAULT_DB_ALIAS]
    sql, attnames, converters = token_owner_query(DEFAULT_DB_ALIAS)
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, (functions, expression) in converters.items():
        for function in functions:
            values[index] = function(values[index], expression, connection)
    return User.from_db(DEFAULT_DB_ALIAS, attnames, values)


def feed_keys(user: User) -> list[int]:
    """The keys of the feeds a user owns, newest first (the feeds' own ordering)."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(feed_keys_sql(DEFAULT_DB_ALIAS), [user.pk])
        return [key for (key,) in cursor.fetchall()]
