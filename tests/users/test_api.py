import base64

import pytest
from django.contrib.auth.models import User

from tests.helpers import CJ, cj_items, cj_template

pytestmark = pytest.mark.django_db


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_users_list_is_empty_with_template(anonymous_client):
    response = anonymous_client.get("/api/v1/users/")
    assert response.status_code == 200
    assert response.json() == {
        "collection": {
            "version": "1.0",
            "href": "http://testserver/api/v1/users/",
            "items": [],
            "links": [],
            "template": {
                "data": [
                    {"name": "username", "value": ""},
                    {"name": "password", "value": ""},
                    {"name": "email", "value": ""},
                ]
            },
            "total": 0,
        }
    }


def test_sign_up_creates_user_and_welcome_file(anonymous_client, storage):
    body = cj_template({"username": "cube", "password": "cube1234", "email": "cube@example.org"})
    response = anonymous_client.post("/api/v1/users/", body, content_type=CJ)
    assert response.status_code == 201, response.content
    user = User.objects.get(username="cube")
    assert response["Location"] == f"http://testserver/api/v1/users/{user.pk}/"
    document = response.json()["collection"]
    assert document["items"][0]["data"] == [
        {"name": "id", "value": user.pk},
        {"name": "username", "value": "cube"},
        {"name": "email", "value": "cube@example.org"},
        {"name": "is_staff", "value": False},
    ]
    assert "links" not in document["items"][0]
    assert b"".join(storage.open("cube/uploads/welcome.txt")) == b"Welcome to ChRIS!"
    assert user.uploaded_files.get().fname == "cube/uploads/welcome.txt"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"username": "abc", "password": "12345678", "email": "a@b.org"}, "username"),
        ({"username": "chris", "password": "12345678", "email": "a@b.org"}, "username"),
        ({"username": "a/bcd", "password": "12345678", "email": "a@b.org"}, "username"),
        ({"username": "abcd", "password": "1234567", "email": "a@b.org"}, "password"),
        ({"username": "abcd", "password": "12345678", "email": "nope"}, "email"),
        ({"username": "abcd", "password": "12345678"}, "email"),
    ],
)
def test_sign_up_validation_errors(anonymous_client, data, field):
    response = anonymous_client.post("/api/v1/users/", cj_template(data), content_type=CJ)
    assert response.status_code == 400
    assert field in response.json()["collection"]["error"]["message"]
    assert not User.objects.filter(username=data["username"]).exists()


def test_auth_token_json_and_form(anonymous_client, user):
    response = anonymous_client.post(
        "/api/v1/auth-token/", {"username": "alice", "password": "alice-password"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) == 40
    response = anonymous_client.post(
        "/api/v1/auth-token/", {"username": "alice", "password": "alice-password"}
    )
    assert response.json()["token"] == token
    bad = anonymous_client.post(
        "/api/v1/auth-token/", {"username": "alice", "password": "wrong"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}


def test_token_keyword_is_case_insensitive(anonymous_client, user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user)
    response = anonymous_client.get(
        f"/api/v1/users/{user.pk}/", HTTP_AUTHORIZATION=f"token {token.key}"
    )
    assert response.status_code == 200


def test_token_authenticates_its_own_user_and_no_other(anonymous_client, user, other_user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user)
    mine = anonymous_client.get(
        f"/api/v1/users/{user.pk}/",
        HTTP_AUTHORIZATION=f"Token {token.key}",
        HTTP_ACCEPT="application/json",
    )
    assert mine.status_code == 200
    assert mine.json()["username"] == user.username
    theirs = anonymous_client.get(
        f"/api/v1/users/{other_user.pk}/",
        HTTP_AUTHORIZATION=f"Token {token.key}",
        HTTP_ACCEPT="application/json",
    )
    assert theirs.status_code == 200  # v5: any user may read another's profile
    assert theirs.json()["username"] == other_user.username
    unknown = anonymous_client.get(
        f"/api/v1/users/{user.pk}/", HTTP_AUTHORIZATION="Token " + "0" * 40
    )
    assert unknown.status_code == 401
    assert unknown.json()["collection"]["error"] == {"message": "Invalid token."}


def test_token_of_an_inactive_user_is_refused(anonymous_client, user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user)
    user.is_active = False
    user.save()
    response = anonymous_client.get(
        f"/api/v1/users/{user.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert response.status_code == 401
    assert response.json()["collection"]["error"] == {"message": "User inactive or deleted."}


def test_anonymous_refusal_is_401_with_challenge(anonymous_client, user):
    response = anonymous_client.get(f"/api/v1/users/{user.pk}/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["collection"]["error"] == {
        "message": "Authentication credentials were not provided."
    }


def test_bad_basic_credentials_are_refused(anonymous_client, user):
    response = anonymous_client.get(
        "/api/v1/plugins/", HTTP_AUTHORIZATION=basic("alice", "wrong-password")
    )
    assert response.status_code == 401
    assert response.json()["collection"]["error"]["message"] == "Invalid username/password."


def test_basic_auth_cache_drops_old_password(anonymous_client, user):
    url = f"/api/v1/users/{user.pk}/"
    assert (
        anonymous_client.get(url, HTTP_AUTHORIZATION=basic("alice", "alice-password")).status_code
        == 200
    )
    user.set_password("new-password-1")
    user.save()
    assert (
        anonymous_client.get(url, HTTP_AUTHORIZATION=basic("alice", "alice-password")).status_code
        == 401
    )
    assert (
        anonymous_client.get(url, HTTP_AUTHORIZATION=basic("alice", "new-password-1")).status_code
        == 200
    )


def test_user_detail_put_changes_email_and_password(client, user, other_client):
    url = f"/api/v1/users/{user.pk}/"
    body = cj_template({"email": "new@example.org", "password": "another-pass"})
    assert other_client.put(url, body, content_type=CJ).status_code == 403
    response = client.put(url, body, content_type=CJ)
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email == "new@example.org"
    assert user.check_password("another-pass")
    assert cj_items(response)[0]["username"] == "alice"


def test_user_detail_put_requires_both_fields(client, user):
    response = client.put(
        f"/api/v1/users/{user.pk}/", cj_template({"email": "x@y.org"}), content_type=CJ
    )
    assert response.status_code == 400
    assert "password" in response.json()["collection"]["error"]["message"]


@pytest.mark.parametrize("query", ["", "?format=json"])
def test_user_representation_is_what_the_fields_give(user, other_user, query):
    from rest_framework import serializers
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from feeds.models import Feed
    from users.serializers import UserSerializer, UserUpdateSerializer

    for name in ("first", "second", "third"):
        Feed.objects.create(name=name, creator=user).owner.add(user)
    Feed.objects.create(name="theirs", creator=other_user).owner.add(other_user)
    request = Request(APIRequestFactory().get(f"/api/v1/users/{user.pk}/{query}"))
    for serializer_class in (UserSerializer, UserUpdateSerializer):
        serializer = serializer_class(user, context={"request": request})
        by_fields = serializers.HyperlinkedModelSerializer.to_representation(serializer, user)
        assert serializer.data == by_fields
        assert list(serializer.data) == list(by_fields)
        assert len(serializer.data["feed"]) == 3
