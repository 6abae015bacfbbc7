"""The queries that a token request reading a user runs, compiled once (see cube.queries)."""

import functools

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections

from cube.queries import compiled

User = get_user_model()


@functools.cache
def token_owner_query(alias: str) -> tuple[str, list[str], dict]:
    """The SQL, the selected attribute names and the backend's value converters.

    Loading the row through ``raw()`` or a queryset would work all of these out again for
    every request.
    """
    sql, compiler = compiled(User.objects.using(alias).filter(auth_token__key=""), [""])
    columns = [expression for expression, _, _ in compiler.select]
    return sql, [column.target.attname for column in columns], compiler.get_converters(columns)


@functools.cache
def feed_keys_sql(alias: str) -> str:
    return compiled(User(pk=0).feed.db_manager(alias).values_list("pk", flat=True), [0])[0]


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
