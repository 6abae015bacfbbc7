"""docker-compose.yml and the Dockerfile describe the production stack (no Docker engine needed)."""

import os
import re
import shutil
import subprocess

import pytest
import yaml

from tests.helpers import require_service
from tests.production.conftest import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
# What .env must define: compose refuses to start without them.
REQUIRED_SECRETS = ("PFCON_PASSWORD", "PFCON_SECRET_KEY")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_file_is_valid_for_the_compose_cli():
    command = compose_command()
    require_service("docker compose / docker-compose", command is not None)
    secrets = {name: f"test-{name.lower()}-value" for name in REQUIRED_SECRETS}
    result = subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=REPO_ROOT,
        env={**os.environ, **secrets},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_compose_runs_every_production_service(compose):
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["swift"]["image"] == "fnndsc/docker-swift-onlyone"
    assert "fnndsc/pfcon" in services["pfcon"]["image"]
    for name in ("web", "worker", "beat", "migrate"):
        assert services[name]["build"] == ".", name


def test_cube_processes_share_the_production_settings(compose):
    services = compose["services"]
    for name in ("web", "worker", "beat", "migrate"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:"), name
        assert env["STORAGE_BACKEND"] == "swift", name
        assert env["SWIFT_AUTH_URL"] == services["pfcon"]["environment"]["SWIFT_AUTH_URL"]
        assert env["COMPUTE_RESOURCE_URL"] == "http://pfcon:30005/api/v1/", name
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:4] == ["celery", "-A", "cube", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "cube", "beat"]


def test_pfcon_runs_in_network_on_swift(compose):
    env = compose["services"]["pfcon"]["environment"]
    assert env["PFCON_INNETWORK"] == "true"
    assert env["STORAGE_ENV"] == "swift"
    assert env["SWIFT_CONTAINER_NAME"] == "users"
    assert env["PFCON_USER"] and env["PFCON_PASSWORD"] and env["SECRET_KEY"]


def required(value: str) -> str | None:
    """The variable a compose value demands (``${NAME:?message}``), if it is just that."""
    match = re.fullmatch(r"\$\{(\w+):\?[^}]+\}", value)
    return match[1] if match else None


def test_pfcon_password_and_key_have_no_default(compose):
    pfcon = compose["services"]["pfcon"]["environment"]
    assert required(pfcon["PFCON_PASSWORD"]) == "PFCON_PASSWORD"
    assert required(pfcon["SECRET_KEY"]) == "PFCON_SECRET_KEY"
    for name in ("web", "worker", "beat", "migrate"):
        env = compose["services"][name]["environment"]
        assert env["COMPUTE_USER"] == pfcon["PFCON_USER"], name
        assert required(env["COMPUTE_PASSWORD"]) == "PFCON_PASSWORD", name
    assert "pfcon1234" not in COMPOSE_FILE.read_text()


def test_the_compose_env_file_stays_out_of_the_image_and_of_git():
    assert ".env" in (REPO_ROOT / ".dockerignore").read_text().split()
    assert ".env" in (REPO_ROOT / ".gitignore").read_text().split()


def test_dockerfile_builds_from_python_slim_with_the_pinned_requirements():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert "gunicorn" in dockerfile
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var"} <= set(ignored)
