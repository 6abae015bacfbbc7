import posixpath

from rest_framework import serializers

from collectionjson.fields import LinkField
from servicefiles.models import ServiceFile
from servicefiles.paths import clean_service_path
from servicefiles.services import ALREADY_REGISTERED

# Services that have their own API and may not register files here.
REGISTERED_SERVICES = ("PACS",)


class ServiceFileSerializer(serializers.HyperlinkedModelSerializer):
    path = serializers.CharField(write_only=True, max_length=1024)
    service_name = serializers.CharField(write_only=True, max_length=20)
    service_identifier = serializers.CharField(source="service.identifier", read_only=True)
    file_resource = LinkField(
        lambda f: ("servicefile-resource", {"pk": f.pk, "name": posixpath.basename(f.fname)})
    )

    class Meta:
        model = ServiceFile
        fields = (
            "url", "id", "creation_date", "fname", "fsize", "service_identifier", "path",
            "service_name", "file_resource",
        )  # fmt: skip
        read_only_fields = ("fname", "fsize")
        extra_kwargs = {"url": {"view_name": "servicefile-detail"}}

    def validate_service_name(self, service_name: str) -> str:
        if service_name in REGISTERED_SERVICES:
            raise serializers.ValidationError(
                "This is the name of a registered service. Please use the service-specific API."
            )
        if "/" in service_name or service_name in (".", ".."):
            raise serializers.ValidationError("This field may not contain forward slashes.")
        return service_name

    def validate_path(self, path: str) -> str:
        return clean_service_path(path, prefix="SERVICES/")

    def validate(self, attrs: dict) -> dict:
        prefix = f"SERVICES/{attrs['service_name']}/"
        if not attrs["path"].startswith(prefix):
            raise serializers.ValidationError({"path": [f"File path must start with '{prefix}'."]})
        if ServiceFile.objects.filter(fname=attrs["path"]).exists():
            raise serializers.ValidationError({"path": [ALREADY_REGISTERED]})
        return attrs
