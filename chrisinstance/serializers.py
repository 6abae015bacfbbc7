from django.conf import settings
from rest_framework import serializers

from chrisinstance.models import ChrisInstance


class ChrisInstanceSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.SerializerMethodField()
    job_id_prefix = serializers.SerializerMethodField()

    class Meta:
        model = ChrisInstance
        fields = ("url", "id", "creation_date", "name", "uuid", "job_id_prefix", "description")
        read_only_fields = fields

    def get_url(self, instance: ChrisInstance) -> str:
        return self.context["request"].build_absolute_uri(f"/api/v1/chrisinstance/{instance.pk}/")

    def get_job_id_prefix(self, instance: ChrisInstance) -> str:
        # Job ids are built from the setting, so the setting is what clients must see.
        return settings.JOB_ID_PREFIX
