"""The optional same-origin ChRIS_ui (CUBE_UI_DIR): prepared by the launcher, served at /."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from cube.settings import BASE_DIR

pytestmark = pytest.mark.django_db

PREPARE = BASE_DIR / "utils" / "scripts" / "prepare_ui.py"
INDEX = '<html><script src="/assets/app.js"></script></html>'
SCRIPT = 'const api="http://localhost:8000/api/v1/",users="http://localhost:8000/api/v1/users/";'


@pytest.fixture
def build(tmp_path) -> Path:
    """A stand-in for a ChRIS_ui build: index.html and a script with the baked URL."""
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "app.js").write_text(SCRIPT)
    (root / "assets" / "logo.png").write_bytes(b"\x89PNG http://localhost:8000/api/v1/")
    (root / "assets" / "app.js").chmod(0o444)
    return root


def prepare(build: Path, target: Path, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PREPARE), str(build), str(target), url], capture_output=True, text=True
    )


def test_the_baked_backend_url_is_rewritten_in_a_copy(build, tmp_path):
    target = tmp_path / "var" / "ui"
    target.mkdir(parents=True)
    (target / "stale.js").write_text("left from an earlier build")

    result = prepare(build, target, "http://localhost:8123/api/v1/")

    assert result.returncode == 0, result.stderr
    assert (target / "assets" / "app.js").read_text() == (
        'const api="http://localhost:8123/api/v1/",users="http://localhost:8123/api/v1/users/";'
    )
    assert (build / "assets" / "app.js").read_text() == SCRIPT
    assert (target / "assets" / "logo.png").read_bytes() == b"\x89PNG http://localhost:8000/api/v1/"
    assert not (target / "stale.js").exists()


@pytest.mark.parametrize("url", ["http://localhost:8123/", "not a url"])
def test_a_url_that_is_not_an_api_root_is_refused(build, tmp_path, url):
    assert prepare(build, tmp_path / "ui", url).returncode != 0


def test_a_folder_that_is_not_a_build_is_refused(tmp_path):
    result = prepare(tmp_path, tmp_path / "ui", "http://localhost:8000/api/v1/")
    assert result.returncode != 0
    assert "not a ChRIS_ui build" in result.stderr


@pytest.fixture
def served(build, tmp_path, settings) -> Client:
    target = tmp_path / "ui"
    assert prepare(build, target, "http://testserver/api/v1/").returncode == 0
    settings.CUBE_UI_DIR = str(build)
    settings.UI_ROOT = str(target)
    settings.WHITENOISE_ROOT = str(target)
    return Client()  # a new client builds its middleware, WhiteNoise included, from settings


@pytest.mark.parametrize("path", ["/", "/feeds", "/feeds/3", "/library/chris/uploads"])
def test_the_single_page_app_answers_its_own_paths(served, path):
    response = served.get(path)

    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode() == INDEX
    assert response["Content-Type"] == "text/html; charset=utf-8"


def test_the_build_files_are_served_rewritten(served):
    response = served.get("/assets/app.js")

    assert response.status_code == 200
    assert b"http://testserver/api/v1/" in b"".join(response.streaming_content)


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/chris-admin/nothing/", "/static/x.js"])
def test_the_api_admin_and_static_paths_are_not_the_app(served, path):
    response = served.get(path)
    assert response.status_code in (302, 404)
    assert INDEX.encode() not in getattr(response, "content", b"")


def test_the_api_still_answers_beside_the_app(served):
    response = served.get("/api/v1/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["results"] == []


def test_without_a_ui_the_site_root_is_not_found():
    response = Client().get("/feeds/3")
    assert response.status_code == 404
