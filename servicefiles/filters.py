import django_filters

from collectionjson.filters import FileFilterSet
from servicefiles.models import ServiceFile


class ServiceFileFilter(FileFilterSet):
    service_identifier = django_filters.CharFilter(
        field_name="service__identifier", lookup_expr="exact"
    )
    service_id = django_filters.NumberFilter(field_name="service__id")

    class Meta:
        model = ServiceFile
        fields = [
            "id", "min_creation_date", "max_creation_date", "fname", "fname_exact",
            "fname_icontains", "fname_nslashes", "service_identifier", "service_id",
        ]  # fmt: skip
