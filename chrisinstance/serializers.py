from rest_framework import serializers

from chrisinstance.models import ChrisInstance


class ChrisInstanceSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ChrisInstance
        fields = ("url", "id", "creation_date", "name", "uuid", "job_id_prefix", "description")
        read_only_fields = fields

    def get_url(self, instance: ChrisInstance) -> str:
        return self.context["request"].build_absolute_uri(f"/api/v1/chrisinstance/{instance.pk}/")
