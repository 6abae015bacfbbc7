import django_filters

from collectionjson.filters import FileFilterSet, terms_filter
from uploadedfiles.models import UploadedFile


class UploadedFileFilter(FileFilterSet):
    owner_username = django_filters.CharFilter(field_name="owner__username", lookup_expr="exact")
    fname_icontains_multiple = django_filters.CharFilter(method=terms_filter("fname__icontains"))

    class Meta:
        model = UploadedFile
        fields = [
            "id", "min_creation_date", "max_creation_date", "fname", "fname_exact",
            "fname_icontains", "fname_nslashes", "owner_username", "fname_icontains_multiple",
        ]  # fmt: skip
