import posixpath

from rest_framework import serializers

from collectionjson.fields import LinkField
from collectionjson.rows import Basename, Date, Link, Rows
from collectionjson.schema import extend_schema_field_by_direction
from collectionjson.serializers import DeclaredInputFields
from uploadedfiles.models import UploadedFile


@extend_schema_field_by_direction(
    request={"type": "string", "format": "binary"},
    response={"type": "string", "description": "The file's storage path."},
)
class UploadField(serializers.FileField):
    """Takes the uploaded file part on input; shows the storage key on output."""

    def to_representation(self, value: str) -> str:
        return value


class UploadedFileSerializer(DeclaredInputFields, serializers.HyperlinkedModelSerializer):
    upload_path = serializers.CharField(write_only=True, max_length=1024)
    fname = UploadField()
    file_resource = LinkField(
        lambda f: ("uploadedfile-resource", {"pk": f.pk, "name": posixpath.basename(f.fname)})
    )
    owner = serializers.HyperlinkedRelatedField(view_name="user-detail", read_only=True)

    class Meta:
        model = UploadedFile
        fields = (
            "url", "id", "creation_date", "fname", "fsize", "upload_path",
            "file_resource", "owner",
        )  # fmt: skip
        read_only_fields = ("fsize",)
        extra_kwargs = {"url": {"view_name": "uploadedfile-detail"}}

    def to_representation(self, uploaded_file: UploadedFile) -> dict:
        """The list pages' item for this file: building the fields above costs a one-item
        response most of its time. ``tests/uploadedfiles/test_serializers.py`` holds this to
        the fields' output."""
        return UploadedFileRows.item(uploaded_file, request=self.context.get("request"))


class UploadedFileRows(Rows):
    """UploadedFileSerializer's items, for list pages."""

    columns = {
        "url": Link("uploadedfile-detail", pk="pk"),
        "id": "id",
        "creation_date": Date("creation_date"),
        "fname": "fname",
        "fsize": "fsize",
        "file_resource": Link("uploadedfile-resource", pk="pk", name=Basename("fname")),
        "owner": Link("user-detail", pk="owner_id"),
    }


class UploadedFileMoveSerializer(UploadedFileSerializer):
    fname = serializers.CharField(read_only=True)
