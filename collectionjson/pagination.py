from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.utils.urls import remove_query_param, replace_query_param

# SQL LIMIT and OFFSET take 64-bit integers; a larger value makes the query fail.
MAX_SQL_INTEGER = 2**63 - 1
# From this offset on, a page is found by its primary keys first: the database then walks
# an index to skip rows instead of building every skipped row.
DEFERRED_OFFSET = 1000


def loadable_by_key(queryset) -> bool:
    """Rows carry nothing but their own and select_related fields (no annotations).

    ``values()`` rows qualify when they carry their key as ``pk``.

    False for a plain list (the file browser pages one), which has no keys to load by.
    """
    if not isinstance(queryset, QuerySet):
        return False
    if queryset.query.values_select and "pk" not in queryset.query.values_select:
        return False
    return not queryset.query.annotations and not queryset._prefetch_related_lookups


def related_paths(tree: dict | bool, prefix: str = "") -> list[str]:
    """``select_related`` arguments that rebuild a query's select_related tree."""
    if not isinstance(tree, dict):
        return []
    paths = []
    for name, subtree in tree.items():
        paths.append(prefix + name)
        paths.extend(related_paths(subtree, f"{prefix}{name}__"))
    return paths


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """Limit/offset paging where a zero, negative or bad ``limit`` means the default size."""

    max_limit = MAX_SQL_INTEGER

    def get_offset(self, request) -> int:
        return min(super().get_offset(request), MAX_SQL_INTEGER)

    def paginate_queryset(self, queryset, request, view=None) -> list | None:
        if self.get_offset(request) < DEFERRED_OFFSET or not loadable_by_key(queryset):
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        self.limit = self.get_limit(request)
        self.count = self.get_count(queryset)
        self.offset = self.get_offset(request)
        keys = list(queryset.values_list("pk", flat=True)[self.offset : self.offset + self.limit])
        # Loaded by key alone: with the list's filters kept, the database may walk the filter's
        # index again instead of fetching the rows by key.
        rows = queryset.model._default_manager.all()
        if names := queryset.query.values_select:  # values() rows, keyed by their "pk"
            by_key = {row["pk"]: row for row in rows.filter(pk__in=keys).values(*names)}
            return [by_key[key] for key in keys]
        if paths := related_paths(queryset.query.select_related):
            rows = rows.select_related(*paths)  # without paths, it would follow every key
        rows = rows.in_bulk(keys)
        return [rows[key] for key in keys]

    def get_previous_link(self) -> str | None:
        if self.offset <= 0:
            return None
        url = replace_query_param(
            self.request.build_absolute_uri(), self.limit_query_param, self.limit
        )
        if self.offset - self.limit <= 0:
            return remove_query_param(url, self.offset_query_param)
        return replace_query_param(url, self.offset_query_param, self.offset - self.limit)
