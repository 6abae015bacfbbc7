import posixpath

from rest_framework import serializers

from collectionjson.fields import LinkField
from pacsfiles.models import PACSFile
from servicefiles.paths import clean_service_path
from servicefiles.services import ALREADY_REGISTERED

DICOM_FIELDS = (
    "PatientID", "PatientName", "PatientBirthDate", "PatientAge", "PatientSex", "StudyDate",
    "AccessionNumber", "Modality", "ProtocolName", "StudyInstanceUID", "StudyDescription",
    "SeriesInstanceUID", "SeriesDescription",
)  # fmt: skip


class PACSFileSerializer(serializers.HyperlinkedModelSerializer):
    path = serializers.CharField(write_only=True, max_length=1024)
    pacs_name = serializers.CharField(write_only=True, max_length=20)
    pacs_identifier = serializers.CharField(source="pacs.identifier", read_only=True)
    file_resource = LinkField(
        lambda f: ("pacsfile-resource", {"pk": f.pk, "name": posixpath.basename(f.fname)})
    )

    class Meta:
        model = PACSFile
        fields = (
            "url", "id", "creation_date", "fname", "fsize", *DICOM_FIELDS, "pacs_identifier",
            "path", "pacs_name", "file_resource",
        )  # fmt: skip
        read_only_fields = ("fname", "fsize")
        extra_kwargs = {"url": {"view_name": "pacsfile-detail"}}

    def validate_pacs_name(self, pacs_name: str) -> str:
        if "/" in pacs_name or pacs_name in (".", ".."):
            raise serializers.ValidationError("This field may not contain forward slashes.")
        return pacs_name

    def validate_path(self, path: str) -> str:
        return clean_service_path(path, prefix="SERVICES/PACS/")

    def validate(self, attrs: dict) -> dict:
        prefix = f"SERVICES/PACS/{attrs['pacs_name']}/"
        if not attrs["path"].startswith(prefix):
            raise serializers.ValidationError({"path": [f"File path must start with '{prefix}'."]})
        if PACSFile.objects.filter(fname=attrs["path"]).exists():
            raise serializers.ValidationError({"path": [ALREADY_REGISTERED]})
        return attrs
