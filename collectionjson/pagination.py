from rest_framework import pagination
from rest_framework.utils.urls import remove_query_param, replace_query_param

# SQL LIMIT and OFFSET take 64-bit integers; a larger value makes the query fail.
MAX_SQL_INTEGER = 2**63 - 1
# From this offset on, a page is found by its primary keys first: the database then walks
# an index to skip rows instead of building every skipped row.
DEFERRED_OFFSET = 1000


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """Limit/offset paging where a zero, negative or bad ``limit`` means the default size."""

    max_limit = MAX_SQL_INTEGER

    def get_offset(self, request) -> int:
        return min(super().get_offset(request), MAX_SQL_INTEGER)

    def paginate_queryset(self, queryset, request, view=None) -> list | None:
        if self.get_offset(request) < DEFERRED_OFFSET:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        self.limit = self.get_limit(request)
        self.count = self.get_count(queryset)
        self.offset = self.get_offset(request)
        keys = list(queryset.values_list("pk", flat=True)[self.offset : self.offset + self.limit])
        rows = queryset.in_bulk(keys)
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
