import io
import logging

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from storage import StorageError
from uploadedfiles import services as uploadedfiles_services

logger = logging.getLogger(__name__)
User = get_user_model()

WELCOME_TEXT = b"Welcome to ChRIS!"


def create_user(*, username: str, email: str, password: str) -> User:
    """Sign a user up and give them a welcome file in their uploads.

    The serializer has checked every rule, so from here on nothing fails the sign-up once
    the account exists: two sign-ups racing for one username or email get a 400 for the
    loser (the database decides), and a welcome file that can't be stored is only logged.
    """
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError as error:
        field = "username" if User.objects.filter(username=username).exists() else "email"
        raise ValidationError({field: ["This field must be unique."]}) from error
    try:
        uploadedfiles_services.create_uploaded_file(
            owner=user,
            upload_path=f"{username}/uploads/welcome.txt",
            stream=io.BytesIO(WELCOME_TEXT),
        )
    except (StorageError, ValidationError):
        # ValidationError: an object left at that key (say, by a deleted user of that name).
        logger.exception("Could not store the welcome file of user %s", username)
    return user


def update_user(user: User, *, email: str, password: str) -> User:
    """Change a user's email and password."""
    user.email = email
    user.set_password(password)
    user.save(update_fields=["email", "password"])
    return user


def ensure_superuser(*, username: str, password: str, email: str) -> User:
    """Create the superuser if missing; an existing one keeps its password."""
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": email, "is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user
