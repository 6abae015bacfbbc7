from rest_framework import generics

from chrisinstance import services
from chrisinstance.serializers import ChrisInstanceSerializer
from collectionjson.mixins import CollectionJsonMixin


class ChrisInstanceDetail(CollectionJsonMixin, generics.RetrieveAPIView):
    """The singleton, whatever id the URL names."""

    serializer_class = ChrisInstanceSerializer
    template_fields = ()

    def get_object(self):
        return services.get_chris_instance()
