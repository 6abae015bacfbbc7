"""SQL compiled once from an ORM query, for the queries that run on nearly every request.

Compiling an ORM query costs several times what running it on an indexed table does: such a
query is compiled once per database with placeholder values, then run on a cursor with the
request's own values in their place.
"""

from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler


def compiled(queryset: QuerySet, placeholders: list) -> tuple[str, SQLCompiler]:
    """The SQL of ``queryset`` and the compiler that wrote it.

    The query's parameters must be exactly ``placeholders``, in order, so that the caller's
    values take their places.
    """
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    if list(params) != list(placeholders):
        raise ValueError(f"expected the parameters {placeholders!r}, got {params!r}")
    return sql, compiler
