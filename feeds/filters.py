import django_filters

from collectionjson.filters import UTCDateTimeFilter, terms_filter
from feeds.models import Comment, Feed, Tag
from plugins.models import PluginInstanceFile


class FeedFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    name_exact = django_filters.CharFilter(field_name="name", lookup_expr="exact")
    name_startswith = django_filters.CharFilter(field_name="name", lookup_expr="startswith")
    min_id = django_filters.NumberFilter(field_name="id", lookup_expr="gte")
    max_id = django_filters.NumberFilter(field_name="id", lookup_expr="lte")
    min_creation_date = UTCDateTimeFilter(field_name="creation_date", lookup_expr="gte")
    max_creation_date = UTCDateTimeFilter(field_name="creation_date", lookup_expr="lte")
    public = django_filters.BooleanFilter(field_name="public")
    files_fname_icontains = django_filters.CharFilter(method="filter_files_fname")

    class Meta:
        model = Feed
        fields = [
            "id", "name", "name_exact", "name_startswith", "min_id", "max_id",
            "min_creation_date", "max_creation_date", "public", "files_fname_icontains",
        ]  # fmt: skip

    def filter_files_fname(self, queryset, name, value):
        files = terms_filter("fname__icontains")(PluginInstanceFile.objects.all(), name, value)
        return queryset.filter(pk__in=files.values("feed_id"))


class CommentFilter(django_filters.FilterSet):
    class Meta:
        model = Comment
        fields = ["id"]


class TagFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    color = django_filters.CharFilter(field_name="color", lookup_expr="icontains")
    owner_username = django_filters.CharFilter(field_name="owner__username", lookup_expr="exact")

    class Meta:
        model = Tag
        fields = ["id", "name", "color", "owner_username"]
