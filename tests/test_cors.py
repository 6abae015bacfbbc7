"""CORS as CUBE sends it (django-cors-headers): front ends such as ChRIS_ui live elsewhere."""

import os
import subprocess
import sys

import pytest
from django.test import Client, override_settings

from tests.helpers import CJ

pytestmark = pytest.mark.django_db

UI = "http://localhost:5173"
CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Expose-Headers",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Max-Age",
)


def preflight(path: str, origin: str = UI, method: str = "POST"):
    return Client().options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


def cors_headers(response) -> dict[str, str]:
    return {name: response[name] for name in CORS_HEADERS if response.has_header(name)}


@pytest.mark.parametrize(
    "path", ["/api/v1/", "/api/v1/plugins/instances/", "/api/v1/uploadedfiles/", "/api/v1/1/"]
)
def test_preflight_needs_no_authentication_and_allows_any_origin(path):
    response = preflight(path)

    assert response.status_code == 200
    assert response.content == b""
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "Allow, Content-Type, Content-Length",
        "Access-Control-Allow-Methods": "DELETE, GET, OPTIONS, PATCH, POST, PUT",
        "Access-Control-Allow-Headers": (
            "accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with"
        ),
        "Access-Control-Max-Age": "86400",
    }


def test_responses_allow_any_origin_and_expose_allow_and_content_headers(client):
    response = client.get("/api/v1/", headers={"Origin": UI, "Accept": CJ})

    assert response.status_code == 200
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "Allow, Content-Type, Content-Length",
    }


def test_a_refused_login_is_readable_cross_origin():
    response = Client().post(
        "/api/v1/auth-token/",
        {"username": "nobody", "password": "wrong"},
        content_type="application/json",
        headers={"Origin": UI},
    )

    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == "*"


def test_an_unauthenticated_request_is_readable_cross_origin():
    response = Client().get("/api/v1/plugins/instances/", headers={"Origin": UI})

    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == "*"


def test_same_origin_requests_get_no_cors_headers(client):
    assert cors_headers(client.get("/api/v1/")) == {}


@override_settings(CORS_ALLOW_ALL_ORIGINS=False, CORS_ALLOWED_ORIGINS=["https://ui.example.org"])
def test_a_listed_origin_is_echoed_and_others_get_nothing(client):
    allowed = client.get("/api/v1/", headers={"Origin": "https://ui.example.org"})
    other = client.get("/api/v1/", headers={"Origin": "https://evil.example.com"})
    other_preflight = preflight("/api/v1/", origin="https://evil.example.com")

    assert cors_headers(allowed) == {
        "Access-Control-Allow-Origin": "https://ui.example.org",
        "Access-Control-Expose-Headers": "Allow, Content-Type, Content-Length",
    }
    assert "origin" in allowed["Vary"].lower()
    assert cors_headers(other) == {}
    assert "Access-Control-Allow-Origin" not in other_preflight


def settings_from_env(**env: str) -> list[str]:
    """CORS settings as cube.settings computes them from this environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_CORS_")}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import cube.settings as s; print(s.CORS_ALLOW_ALL_ORIGINS); "
            "print(','.join(s.CORS_ALLOWED_ORIGINS))",
        ],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()


def test_the_embedded_default_allows_all_origins():
    assert settings_from_env() == ["True", ""]
    assert settings_from_env(DJANGO_CORS_ALLOW_ALL_ORIGINS="", DJANGO_CORS_ALLOWED_ORIGINS="") == [
        "True", "",
    ]  # fmt: skip


def test_production_takes_the_origins_from_the_environment():
    assert settings_from_env(
        DJANGO_CORS_ALLOWED_ORIGINS="https://ui.example.org, https://other.example.org"
    ) == ["False", "https://ui.example.org,https://other.example.org"]
    assert settings_from_env(
        DJANGO_CORS_ALLOW_ALL_ORIGINS="false", DJANGO_CORS_ALLOWED_ORIGINS=""
    ) == ["False", ""]
    assert settings_from_env(
        DJANGO_CORS_ALLOW_ALL_ORIGINS="true", DJANGO_CORS_ALLOWED_ORIGINS="https://a.example"
    ) == ["True", "https://a.example"]
