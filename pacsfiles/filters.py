import django_filters
from django.db.models import QuerySet

from collectionjson.filters import FileFilterSet, terms_filter
from pacsfiles.models import PACSFile


def filter_topdir_unique(queryset: QuerySet, name: str, value: str) -> QuerySet:
    """Files containing every term, one per ``SERVICES/PACS/<pacs>/<topdir>`` folder."""
    queryset = terms_filter("fname__icontains")(queryset, name, value)
    keep: dict[str, int] = {}
    for pk, fname in queryset.order_by("fname").values_list("pk", "fname").iterator():
        keep.setdefault("/".join(fname.split("/")[:4]), pk)
    return queryset.filter(pk__in=keep.values())


class PACSFileFilter(FileFilterSet):
    fname_icontains_topdir_unique = django_filters.CharFilter(method=filter_topdir_unique)
    PatientName = django_filters.CharFilter(field_name="PatientName", lookup_expr="icontains")
    min_PatientAge = django_filters.NumberFilter(field_name="PatientAge", lookup_expr="gte")
    max_PatientAge = django_filters.NumberFilter(field_name="PatientAge", lookup_expr="lte")
    ProtocolName = django_filters.CharFilter(field_name="ProtocolName", lookup_expr="icontains")
    StudyDescription = django_filters.CharFilter(
        field_name="StudyDescription", lookup_expr="icontains"
    )
    SeriesDescription = django_filters.CharFilter(
        field_name="SeriesDescription", lookup_expr="icontains"
    )
    pacs_identifier = django_filters.CharFilter(field_name="pacs__identifier", lookup_expr="exact")

    class Meta:
        model = PACSFile
        fields = [
            "id", "min_creation_date", "max_creation_date", "fname", "fname_exact",
            "fname_icontains", "fname_icontains_topdir_unique", "fname_nslashes", "PatientID",
            "PatientName", "PatientSex", "PatientAge", "min_PatientAge", "max_PatientAge",
            "PatientBirthDate", "StudyDate", "AccessionNumber", "ProtocolName",
            "StudyInstanceUID", "StudyDescription", "SeriesInstanceUID", "SeriesDescription",
            "pacs_identifier",
        ]  # fmt: skip
