from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from rest_framework import serializers
from rest_framework.reverse import reverse
from rest_framework.validators import UniqueValidator

from users import queries

User = get_user_model()

RESERVED_USERNAMES = {"chris", "SERVICES", "PIPELINES"}
USERNAME_CHARACTERS = UnicodeUsernameValidator(
    message="This field may contain only letters, digits and the characters @ . + - _"
)


class UserSerializer(serializers.HyperlinkedModelSerializer):
    username = serializers.CharField(
        min_length=4,
        max_length=32,
        validators=[UniqueValidator(queryset=User.objects.all())],
    )
    email = serializers.EmailField(
        required=True, validators=[UniqueValidator(queryset=User.objects.all())]
    )
    password = serializers.CharField(
        min_length=8, max_length=100, write_only=True, style={"input_type": "password"}
    )
    is_staff = serializers.BooleanField(read_only=True)
    feed = serializers.HyperlinkedRelatedField(many=True, view_name="feed-detail", read_only=True)

    class Meta:
        model = User
        fields = ("url", "id", "username", "email", "password", "is_staff", "feed")
        extra_kwargs = {"url": {"view_name": "user-detail"}}

    def to_representation(self, user: User) -> dict:
        """What the fields above give, written out: reading a user is the smallest request
        there is, and building DRF's fields would be most of its cost.
        ``tests/users`` holds this to the fields' own output."""
        request = self.context.get("request")
        feeds = queries.feed_keys(user)
        return {
            "url": reverse("user-detail", kwargs={"pk": user.pk}, request=request),
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "is_staff": user.is_staff,
            "feed": [reverse("feed-detail", kwargs={"pk": pk}, request=request) for pk in feeds],
        }

    def validate_username(self, username: str) -> str:
        """v5's rules, and those of a storage folder name: the username heads its paths."""
        if "/" in username:
            raise serializers.ValidationError("This field may not contain forward slashes.")
        if username in RESERVED_USERNAMES:
            raise serializers.ValidationError(f"Username {username} is not available.")
        if username.startswith("."):
            raise serializers.ValidationError("This field may not start with '.'.")
        # Letters, digits and @.+-_ only (Django's own rule): no commas, which separate
        # path parameters, and no spaces or control characters.
        USERNAME_CHARACTERS(username)
        return username


class UserUpdateSerializer(UserSerializer):
    """Users change their email and password; the username is fixed."""

    username = serializers.CharField(read_only=True)

    def validate_email(self, email: str) -> str:
        if User.objects.filter(email=email).exclude(pk=self.instance.pk).exists():
            raise serializers.ValidationError("This field must be unique.")
        return email

    email = serializers.EmailField(required=True)
