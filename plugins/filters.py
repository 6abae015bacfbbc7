import django_filters
from django.db.models import Q, QuerySet

from collectionjson.filters import FileFilterSet, UTCDateTimeFilter
from plugins.models import (
    ComputeResource,
    Plugin,
    PluginInstance,
    PluginInstanceFile,
    PluginMeta,
)
from plugins.status import Status


def any_of(*lookups: str):
    def apply(queryset: QuerySet, name: str, value: str) -> QuerySet:
        condition = Q()
        for lookup in lookups:
            condition |= Q(**{lookup: value})
        return queryset.filter(condition)

    return apply


class ComputeResourceFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    name_exact = django_filters.CharFilter(field_name="name", lookup_expr="exact")
    description = django_filters.CharFilter(field_name="description", lookup_expr="icontains")
    plugin_id = django_filters.NumberFilter(field_name="plugins__id")

    class Meta:
        model = ComputeResource
        fields = ["id", "name", "name_exact", "description", "plugin_id"]


class PluginMetaFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    name_exact = django_filters.CharFilter(field_name="name", lookup_expr="exact")
    title = django_filters.CharFilter(field_name="title", lookup_expr="icontains")
    category = django_filters.CharFilter(field_name="category", lookup_expr="icontains")
    type = django_filters.CharFilter(field_name="type", lookup_expr="exact")
    authors = django_filters.CharFilter(field_name="authors", lookup_expr="icontains")
    min_creation_date = UTCDateTimeFilter(field_name="creation_date", lookup_expr="gte")
    max_creation_date = UTCDateTimeFilter(field_name="creation_date", lookup_expr="lte")
    name_title_category = django_filters.CharFilter(
        method=any_of("name__icontains", "title__icontains", "category__icontains")
    )
    name_authors_category = django_filters.CharFilter(
        method=any_of("name__icontains", "authors__icontains", "category__icontains")
    )

    class Meta:
        model = PluginMeta
        fields = [
            "id", "name", "name_exact", "title", "category", "type", "authors",
            "min_creation_date", "max_creation_date", "name_title_category",
            "name_authors_category",
        ]  # fmt: skip


class PluginFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="meta__name", lookup_expr="icontains")
    name_exact = django_filters.CharFilter(field_name="meta__name", lookup_expr="exact")
    version = django_filters.CharFilter(field_name="version", lookup_expr="exact")
    dock_image = django_filters.CharFilter(field_name="dock_image", lookup_expr="exact")
    type = django_filters.CharFilter(field_name="meta__type", lookup_expr="exact")
    category = django_filters.CharFilter(field_name="meta__category", lookup_expr="icontains")
    min_creation_date = UTCDateTimeFilter(field_name="creation_date", lookup_expr="gte")
    max_creation_date = UTCDateTimeFilter(field_name="creation_date", lookup_expr="lte")
    title = django_filters.CharFilter(field_name="meta__title", lookup_expr="icontains")
    description = django_filters.CharFilter(field_name="description", lookup_expr="icontains")
    name_title_category = django_filters.CharFilter(
        method=any_of(
            "meta__name__icontains", "meta__title__icontains", "meta__category__icontains"
        )
    )
    compute_resource_id = django_filters.NumberFilter(field_name="compute_resources__id")

    class Meta:
        model = Plugin
        fields = [
            "id", "name", "name_exact", "version", "dock_image", "type", "category",
            "min_creation_date", "max_creation_date", "title", "description",
            "name_title_category", "compute_resource_id",
        ]  # fmt: skip


def filter_root_id(queryset: QuerySet, name: str, value: int) -> QuerySet:
    """The instance with this id and all of its descendants."""
    root = PluginInstance.objects.filter(pk=value).first()
    if root is None:
        return queryset.none()
    return queryset.filter(pk__in=PluginInstance.objects.descendant_ids(root.pk))


# Foreign keys are filtered as ``<fk>__id``: Django range-checks integer lookups on the target
# field, while ``<fk>_id`` passes a huge id straight to SQLite, which overflows (a 500).
class PluginInstanceFilter(django_filters.FilterSet):
    min_start_date = UTCDateTimeFilter(field_name="start_date", lookup_expr="gte")
    max_start_date = UTCDateTimeFilter(field_name="start_date", lookup_expr="lte")
    min_end_date = UTCDateTimeFilter(field_name="end_date", lookup_expr="gte")
    max_end_date = UTCDateTimeFilter(field_name="end_date", lookup_expr="lte")
    root_id = django_filters.NumberFilter(method=filter_root_id)
    previous_id = django_filters.NumberFilter(field_name="previous__id")
    title = django_filters.CharFilter(field_name="title", lookup_expr="icontains")
    status = django_filters.ChoiceFilter(field_name="status", choices=Status.choices)
    owner_username = django_filters.CharFilter(field_name="owner__username")
    feed_id = django_filters.NumberFilter(field_name="feed__id")
    plugin_id = django_filters.NumberFilter(field_name="plugin__id")
    plugin_name = django_filters.CharFilter(
        field_name="plugin__meta__name", lookup_expr="icontains"
    )
    plugin_name_exact = django_filters.CharFilter(field_name="plugin__meta__name")
    plugin_version = django_filters.CharFilter(field_name="plugin__version")
    pipeline_inst_id = django_filters.NumberFilter(field_name="pipeline_inst__id")
    workflow_id = django_filters.NumberFilter(field_name="workflow__id")

    class Meta:
        model = PluginInstance
        fields = [
            "id", "min_start_date", "max_start_date", "min_end_date", "max_end_date",
            "root_id", "previous_id", "title", "status", "owner_username", "feed_id",
            "plugin_id", "plugin_name", "plugin_name_exact", "plugin_version",
            "pipeline_inst_id", "workflow_id",
        ]  # fmt: skip


class PluginInstanceFileFilter(FileFilterSet):
    plugin_inst_id = django_filters.NumberFilter(field_name="plugin_inst__id")
    feed_id = django_filters.NumberFilter(field_name="feed__id")

    class Meta:
        model = PluginInstanceFile
        fields = [
            "id", "min_creation_date", "max_creation_date", "plugin_inst_id", "feed_id",
            "fname", "fname_exact", "fname_icontains", "fname_nslashes",
        ]  # fmt: skip
