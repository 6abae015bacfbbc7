"""The management commands that register compute resources, plugins and the superuser."""

import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from plugins.models import ComputeResource, Plugin
from tests.fakes import FakePfcon
from tests.plugin_support import DIRCOPY, SIMPLEDSAPP

pytestmark = pytest.mark.django_db


def add_host(fake: FakePfcon) -> None:
    call_command(
        "add_compute_resource", "host", fake.url, user="pfcon", password="pfcon1234",
        stdout=io.StringIO(),
    )  # fmt: skip


def test_add_compute_resource_reads_the_services_data_mode():
    with FakePfcon(innetwork=True, storage_env="fslink") as fake:
        add_host(fake)
        add_host(fake)  # running it again updates, it does not duplicate
        url = fake.url
    resource = ComputeResource.objects.get()
    assert (resource.compute_innetwork, resource.compute_requires_copy_job) == (True, True)
    assert resource.compute_auth_url == url + "auth-token/"


def test_add_compute_resource_updates_the_credentials_of_an_existing_resource():
    # A kept var dir whose localcompute.env was regenerated: the new login must replace the
    # stored one, and the token issued under the old key must not be reused.
    with FakePfcon() as fake:
        add_host(fake)
        ComputeResource.objects.update(compute_auth_token="token-from-the-old-key")
        fake.USERNAME, fake.PASSWORD = "cube-new", "a-new-random-password"
        call_command(
            "add_compute_resource", "host", fake.url,
            user="cube-new", password="a-new-random-password", stdout=io.StringIO(),
        )  # fmt: skip
    resource = ComputeResource.objects.get()
    assert (resource.compute_user, resource.compute_password) == (
        "cube-new",
        "a-new-random-password",
    )
    assert resource.compute_auth_token != "token-from-the-old-key"


def test_add_compute_resource_refuses_credentials_the_service_rejects():
    with FakePfcon() as fake, pytest.raises(CommandError, match="Could not reach"):
        call_command(
            "add_compute_resource", "host", fake.url, user="pfcon", password="wrong",
        )  # fmt: skip
    assert not ComputeResource.objects.exists()


# A random password may start with "-", which argparse would take for an option.
@pytest.mark.parametrize("password", ["from-localcompute-env", "-starts-with-a-dash"])
def test_setup_compute_registers_host_with_the_configured_credentials(settings, tmp_path, password):
    with FakePfcon() as fake:
        fake.USERNAME, fake.PASSWORD = "cube-launcher", password
        settings.COMPUTE_RESOURCE_URL = fake.url
        settings.COMPUTE_USER, settings.COMPUTE_PASSWORD = fake.USERNAME, fake.PASSWORD
        settings.CUBE_PLUGINS_DIR = str(tmp_path)
        call_command("setup_compute", stdout=io.StringIO())
    resource = ComputeResource.objects.get(name="host")
    assert (resource.compute_user, resource.compute_password) == ("cube-launcher", password)


@pytest.mark.parametrize(("user", "password"), [("", ""), ("cube-x", ""), ("", "secret")])
def test_setup_compute_refuses_missing_credentials(settings, user, password):
    settings.COMPUTE_USER, settings.COMPUTE_PASSWORD = user, password
    with pytest.raises(CommandError, match="COMPUTE_USER and COMPUTE_PASSWORD must be set"):
        call_command("setup_compute")
    assert not ComputeResource.objects.exists()


def test_add_compute_resource_fails_clearly_when_unreachable():
    with pytest.raises(CommandError, match="Could not reach"):
        call_command(
            "add_compute_resource", "host", "http://127.0.0.1:9/api/v1/",
            user="pfcon", password="pfcon1234",
        )  # fmt: skip
    assert not ComputeResource.objects.exists()


def test_register_plugin_from_a_file_and_from_stdin(tmp_path, monkeypatch):
    with FakePfcon() as fake:
        add_host(fake)
    descriptor = tmp_path / "dircopy.json"
    descriptor.write_text(json.dumps(DIRCOPY))
    call_command("register_plugin", str(descriptor), compute_names=["host"], stdout=io.StringIO())
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(SIMPLEDSAPP)))
    call_command("register_plugin", "-", compute_names=["host"], stdout=io.StringIO())
    assert sorted(Plugin.objects.values_list("meta__name", "version")) == [
        ("pl-dircopy", "2.1.1"),
        ("pl-simpledsapp", "2.1.3"),
    ]
    with pytest.raises(CommandError, match="Unknown compute resources"):
        call_command("register_plugin", str(descriptor), compute_names=["nowhere"])


def test_bootstrap_creates_chris_once(settings):
    settings.CHRIS_SUPERUSER_PASSWORD = "first-password"
    call_command("bootstrap", stdout=io.StringIO())
    settings.CHRIS_SUPERUSER_PASSWORD = "second-password"
    call_command("bootstrap", stdout=io.StringIO())
    chris = User.objects.get(username="chris")
    assert chris.is_superuser and chris.is_staff
    assert chris.check_password("first-password")
