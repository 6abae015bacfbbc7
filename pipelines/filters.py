import django_filters

from collectionjson.filters import UTCDateTimeFilter, filter_fname_prefix
from pipelines.models import Pipeline, PipelineInstance, PipelineSourceFile, Workflow


class PipelineFilter(django_filters.FilterSet):
    owner_username = django_filters.CharFilter(field_name="owner__username")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    category = django_filters.CharFilter(field_name="category", lookup_expr="icontains")
    description = django_filters.CharFilter(field_name="description", lookup_expr="icontains")
    authors = django_filters.CharFilter(field_name="authors", lookup_expr="icontains")
    min_creation_date = UTCDateTimeFilter(field_name="creation_date", lookup_expr="gte")
    max_creation_date = UTCDateTimeFilter(field_name="creation_date", lookup_expr="lte")

    class Meta:
        model = Pipeline
        fields = [
            "id", "owner_username", "name", "category", "description", "authors",
            "min_creation_date", "max_creation_date",
        ]  # fmt: skip


class PipelineSourceFileFilter(django_filters.FilterSet):
    min_creation_date = UTCDateTimeFilter(field_name="creation_date", lookup_expr="gte")
    max_creation_date = UTCDateTimeFilter(field_name="creation_date", lookup_expr="lte")
    fname = django_filters.CharFilter(method=filter_fname_prefix)
    fname_exact = django_filters.CharFilter(field_name="fname", lookup_expr="exact")
    fname_icontains = django_filters.CharFilter(field_name="fname", lookup_expr="icontains")
    type = django_filters.CharFilter(field_name="type", lookup_expr="exact")
    owner_username = django_filters.CharFilter(field_name="owner__username")

    class Meta:
        model = PipelineSourceFile
        fields = [
            "id", "min_creation_date", "max_creation_date", "fname", "fname_exact",
            "fname_icontains", "type", "owner_username",
        ]  # fmt: skip


class PipelineInstanceFilter(django_filters.FilterSet):
    title = django_filters.CharFilter(field_name="title", lookup_expr="icontains")
    description = django_filters.CharFilter(field_name="description", lookup_expr="icontains")
    pipeline_name = django_filters.CharFilter(field_name="pipeline__name", lookup_expr="icontains")
    owner_username = django_filters.CharFilter(field_name="owner__username")

    class Meta:
        model = PipelineInstance
        fields = ["id", "title", "description", "pipeline_name", "owner_username"]


class WorkflowFilter(django_filters.FilterSet):
    title = django_filters.CharFilter(field_name="title", lookup_expr="icontains")
    pipeline_name = django_filters.CharFilter(field_name="pipeline__name", lookup_expr="icontains")
    owner_username = django_filters.CharFilter(field_name="owner__username")

    class Meta:
        model = Workflow
        fields = ["id", "title", "pipeline_name", "owner_username"]
