from django.contrib.auth import get_user_model
from rest_framework import generics, permissions
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from collectionjson.mixins import CollectionJsonMixin
from collectionjson.parsers import CheckedParsers
from cube.permissions import IsSelf, IsSuperuser, ReadOnly
from users import services
from users.serializers import UserSerializer, UserUpdateSerializer

User = get_user_model()


class UserCreate(CollectionJsonMixin, generics.ListCreateAPIView):
    """Sign-up. Listing never shows anyone: it is an empty list with the template."""

    serializer_class = UserSerializer
    permission_classes = (permissions.AllowAny,)
    template_fields = ("username", "password", "email")

    def get_queryset(self):
        return User.objects.none()

    def perform_create(self, serializer):
        serializer.instance = services.create_user(**serializer.validated_data)


class UserDetail(CollectionJsonMixin, generics.RetrieveUpdateAPIView):
    http_method_names = ["get", "put"]
    serializer_class = UserUpdateSerializer
    permission_classes = (permissions.IsAuthenticated, ReadOnly | IsSelf | IsSuperuser)
    queryset = User.objects.all()
    template_fields = ("password", "email")

    def update(self, request, *args, **kwargs):
        # Both fields are required on PUT: no partial updates of credentials.
        return super().update(request, *args, partial=False, **kwargs)

    def perform_update(self, serializer):
        serializer.instance = services.update_user(serializer.instance, **serializer.validated_data)

    def get_object(self):
        # Users mostly read themselves: the authenticated user is that row, already loaded.
        user = self.request.user
        if str(user.pk) != str(self.kwargs["pk"]):
            return super().get_object()
        self.check_object_permissions(self.request, user)
        return user

    def get(self, request, *args, **kwargs) -> Response:
        return self.retrieve(request, *args, **kwargs)


class AuthToken(CheckedParsers, ObtainAuthToken):
    """DRF's token login (JSON in, JSON out), with the body checks of every other route."""
