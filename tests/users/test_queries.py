import datetime

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from users import queries

pytestmark = pytest.mark.django_db


def test_token_owner_is_the_row_the_orm_loads(user):
    user.is_staff = True
    user.last_login = timezone.now() - datetime.timedelta(days=3, microseconds=7)
    user.save()
    token = Token.objects.create(user=user)

    owner = queries.token_owner(token.key)

    expected = User.objects.get(pk=user.pk)
    for field in User._meta.concrete_fields:
        value = getattr(owner, field.attname)
        assert value == getattr(expected, field.attname), field.name
        assert type(value) is type(getattr(expected, field.attname)), field.name
    assert owner.last_login.tzinfo is not None
    assert owner._state.adding is False
    assert owner._state.db == connection.alias
    owner.first_name = "changed"
    owner.save(update_fields=["first_name"])  # a loaded row, so an UPDATE of that row
    assert User.objects.get(pk=user.pk).first_name == "changed"


def test_token_owner_of_an_unknown_key_is_none(user):
    Token.objects.create(user=user)
    assert queries.token_owner("0" * 40) is None


def test_token_owner_without_last_login(user):
    user.last_login = None
    user.save()
    token = Token.objects.create(user=user)
    assert queries.token_owner(token.key).last_login is None
