from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet
from django.db.models.query import ValuesListIterable
from rest_framework import pagination
from rest_framework.utils.urls import remove_query_param, replace_query_param

# SQL LIMIT and OFFSET take 64-bit integers; a larger value makes the query fail.
MAX_SQL_INTEGER = 2**63 - 1
# From this offset on, a page is found by its primary keys first: the database then walks
# an index to skip rows instead of building every skipped row.
DEFERRED_OFFSET = 1000


def loadable_by_key(queryset) -> bool:
    """Rows carry nothing but their own and select_related fields (no annotations).

    ``values_list()`` rows qualify when their key, as ``pk``, comes first (see ``Rows``).

    False for a plain list (the file browser pages one), which has no keys to load by.
    """
    if not isinstance(queryset, QuerySet):
        return False
    if queryset.query.values_select and (
        queryset._iterable_class is not ValuesListIterable
        or queryset.query.values_select[0] != "pk"
    ):
        return False
    return not queryset.query.annotations and not queryset._prefetch_related_lookups


def unique_ordering(queryset: QuerySet) -> tuple[str, bool] | None:
    """``(column, descending)`` when a queryset is ordered by one unique, non-null column."""
    query = queryset.query
    ordering = query.order_by or (queryset.model._meta.ordering if query.default_ordering else ())
    if len(ordering) != 1 or not isinstance(ordering[0], str) or query.extra_order_by:
        return None
    name = ordering[0].removeprefix("-")
    try:
        field = queryset.model._meta.get_field(name) if name != "pk" else queryset.model._meta.pk
    except FieldDoesNotExist:
        return None
    if not (field.primary_key or field.unique) or field.null or field.is_relation:
        return None
    return field.name, ordering[0].startswith("-")


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
        # A view whose list size is kept with the data says so, and nothing is counted.
        self.known_count = view.list_count() if hasattr(view, "list_count") else None
        if self.get_offset(request) < DEFERRED_OFFSET or not loadable_by_key(queryset):
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        keys = self.load_keys(queryset)
        # Loaded by key alone: with the list's filters kept, the database may walk the filter's
        # index again instead of fetching the rows by key.
        rows = queryset.model._default_manager.all()
        if names := queryset.query.values_select:  # values_list() rows, their key first
            by_key = {row[0]: row for row in rows.filter(pk__in=keys).values_list(*names)}
            return [by_key[key] for key in keys]
        if paths := related_paths(queryset.query.select_related):
            rows = rows.select_related(*paths)  # without paths, it would follow every key
        rows = rows.in_bulk(keys)
        return [rows[key] for key in keys]

    def get_count(self, queryset) -> int:
        if self.known_count is not None:
            return self.known_count
        return super().get_count(queryset)

    def load_keys(self, queryset: QuerySet) -> list:
        """The page's keys, and ``self.count``.

        When one unique column orders the list, the rows before the page are the offset, so
        only those after its last row are counted: the database walks the list once, not
        once to count it and again up to the offset.
        """
        window = slice(self.offset, self.offset + self.limit)
        order = unique_ordering(queryset)
        if self.known_count is not None:
            self.count = self.known_count
            if order is not None and self.offset > self.count // 2:
                return self.keys_from_the_end(queryset, order)
            return list(queryset.values_list("pk", flat=True)[window])
        if order is None:
            self.count = self.get_count(queryset)
            return list(queryset.values_list("pk", flat=True)[window])
        name, descending = order
        page = list(queryset.values_list("pk", name)[window])
        if len(page) == self.limit:
            after = queryset.filter(**{f"{name}__{'lt' if descending else 'gt'}": page[-1][1]})
            # SQLite bounds an index range by the first of two bounds on one side of a column:
            # the page's bound, the tighter one, goes before any the list's filters put there.
            after.query.where.children.insert(0, after.query.where.children.pop())
            self.count = self.offset + self.limit + after.count()
        elif page:
            self.count = self.offset + len(page)
        else:
            self.count = self.get_count(queryset)
        return [key for key, _ in page]

    def keys_from_the_end(self, queryset: QuerySet, order: tuple[str, bool]) -> list:
        """A page in the list's second half, read in reverse order from the list's end.

        With the list's size known, the database then skips at most half the list: the last
        page of 100,000 rows skips none instead of 99,900.
        """
        name, descending = order
        stop = self.count - self.offset
        if stop <= 0:
            return []
        reverse = queryset.order_by(name if descending else f"-{name}")
        keys = list(reverse.values_list("pk", flat=True)[max(stop - self.limit, 0) : stop])
        keys.reverse()
        return keys

    def get_previous_link(self) -> str | None:
        if self.offset <= 0:
            return None
        url = replace_query_param(
            self.request.build_absolute_uri(), self.limit_query_param, self.limit
        )
        if self.offset - self.limit <= 0:
            return remove_query_param(url, self.offset_query_param)
        return replace_query_param(url, self.offset_query_param, self.offset - self.limit)
