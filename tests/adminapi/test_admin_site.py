"""The admin site at /chris-admin/: what it offers, and that its writes go through services."""

import io
import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from plugins.models import ComputeResource, Plugin
from tests.fake_store import FakeStore
from tests.fakes import FakePfcon
from uploadedfiles.models import UploadedFile

pytestmark = pytest.mark.django_db

READ_ONLY = [
    "plugins/pluginmeta", "plugins/plugininstance", "feeds/feed", "uploadedfiles/uploadedfile",
    "pacsfiles/pacsfile", "pacsfiles/pacs", "servicefiles/servicefile", "servicefiles/service",
    "chrisinstance/chrisinstance", "pipelines/pipeline", "pipelines/pipelinesourcefile",
    "pipelines/workflow",
]  # fmt: skip
USER, PASSWORD = FakePfcon.USERNAME, FakePfcon.PASSWORD
EDITABLE = ["auth/user", "plugins/computeresource", "plugins/plugin", "feeds/tag", "feeds/comment"]
DESCRIPTOR = {
    "name": "pl-adminreg", "version": "1.0.0", "dock_image": "fnndsc/pl-adminreg:1.0.0",
    "type": "ds", "selfpath": "/usr/local/bin", "selfexec": "adminreg", "execshell": "python",
    "title": "Registered in the admin site", "min_cpu_limit": "1000m", "min_memory_limit": "200Mi",
    "parameters": [
        {"name": "prefix", "type": "str", "optional": True, "flag": "--prefix",
         "action": "store", "default": "", "help": "a prefix"},
        {"name": "verbose", "type": "bool", "optional": True, "flag": "--verbose",
         "action": "store_true", "default": False},
    ],
}  # fmt: skip


@pytest.fixture
def browser(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def pfcon():
    with FakePfcon() as fake:
        yield fake


@pytest.fixture
def host(db, pfcon) -> ComputeResource:
    return ComputeResource.objects.create(
        name="host", compute_url=pfcon.url, compute_user=USER, compute_password=PASSWORD
    )


@pytest.mark.parametrize("model", READ_ONLY + EDITABLE)
def test_every_page_lists(browser, model):
    assert browser.get(f"/chris-admin/{model}/").status_code == 200


@pytest.mark.parametrize("model", READ_ONLY)
def test_records_written_by_services_cannot_be_added_here(browser, model):
    assert browser.get(f"/chris-admin/{model}/add/").status_code == 403


def test_the_site_is_titled_and_labels_read_well(browser):
    index = browser.get("/chris-admin/").content.decode()

    assert "<title>Site administration | ChRIS Admin</title>" in index
    assert "ChRIS Administration" in index
    for label in ("PACS files", "Service files", "Uploaded files", "ChRIS instance",
                  "Plugin instances", "Compute resources", "Pipeline source files"):  # fmt: skip
        assert f">{label}<" in index, label
    assert "Pacs" not in index and "Chrisinstance" not in index
    assert ">PACS<" in index


def test_no_page_offers_to_add_a_plugin_instance_or_a_feed(browser):
    index = browser.get("/chris-admin/").content.decode()

    assert "/chris-admin/plugins/plugininstance/add/" not in index
    assert "/chris-admin/feeds/feed/add/" not in index
    assert "/chris-admin/plugins/plugin/add/" in index


def register(browser, **data):
    return browser.post("/chris-admin/plugins/plugin/add/", data)


def test_registering_a_plugin_from_its_json_description(browser, host):
    page = browser.get("/chris-admin/plugins/plugin/add/").content.decode()
    upload = io.BytesIO(json.dumps(DESCRIPTOR).encode())
    upload.name = "pl-adminreg.json"

    response = register(browser, compute_resources=[host.pk], descriptor_file=upload)

    assert "Register a plugin" in page and 'enctype="multipart/form-data"' in page
    plugin = Plugin.objects.get(meta__name="pl-adminreg")
    assert response.status_code == 302
    assert response["Location"] == f"/chris-admin/plugins/plugin/{plugin.pk}/change/"
    assert list(plugin.compute_resources.all()) == [host]
    assert plugin.min_memory_limit == 200
    assert [p.name for p in plugin.parameters.order_by("name")] == ["prefix", "verbose"]


def test_registering_a_plugin_from_a_chris_store(browser, host):
    many = [
        {"name": f"n{index}", "type": "int", "optional": True, "flag": f"--n{index}",
         "default": index}
        for index in range(11)
    ]  # fmt: skip
    other = {**DESCRIPTOR, "version": "0.9", "dock_image": "fnndsc/pl-adminreg:0.9"}
    with FakeStore([other, {**DESCRIPTOR, "parameters": DESCRIPTOR["parameters"] + many}]) as store:
        response = register(
            browser, compute_resources=[host.pk], name="pl-adminreg", version="1.0.0",
            store_url=store.url,
        )  # fmt: skip
        requested = list(store.requests)

    assert response.status_code == 302, response.content.decode()[-2000:]
    plugin = Plugin.objects.get()
    assert plugin.version == "1.0.0"
    assert plugin.parameters.count() == 13
    assert plugin.parameters.get(name="verbose").type == "boolean"
    assert plugin.parameters.get(name="n10").default == 10
    assert requested[0] == "/api/v1/plugins/search/?name_exact=pl-adminreg&version=1.0.0"
    assert any("offset=10" in path for path in requested)


def test_registering_the_newest_version_from_a_store(browser, host):
    older = {**DESCRIPTOR, "version": "0.9", "dock_image": "fnndsc/pl-adminreg:0.9"}
    with FakeStore([older, DESCRIPTOR]) as store:
        response = register(
            browser, compute_resources=[host.pk], name="pl-adminreg", store_url=store.url
        )
    assert response.status_code == 302
    assert Plugin.objects.get().version == "1.0.0"


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "Upload the plugin&#x27;s JSON description, or give its name and ChRIS store."),
        ({"name": "pl-adminreg"}, "Give the store to find the plugin in."),
        ({"name": "pl-missing", "store_url": "STORE"}, "has no plugin pl-missing"),
        ({"name": "pl-adminreg", "store_url": "http://127.0.0.1:9/api/v1/"}, "could not reach"),
        ({"descriptor_file": b"not json"}, "This is not a JSON file."),
        ({"descriptor_file": b'{"name": "pl-x"}'}, "Missing plugin fields"),
    ],
)
def test_registration_errors_are_shown_on_the_form(browser, host, data, message):
    if "descriptor_file" in data:
        data["descriptor_file"] = io.BytesIO(data["descriptor_file"])
        data["descriptor_file"].name = "plugin.json"
    with FakeStore([DESCRIPTOR]) as store:
        if data.get("store_url") == "STORE":
            data["store_url"] = store.url
        response = register(browser, compute_resources=[host.pk], **data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Plugin.objects.exists()


def test_a_compute_resource_is_saved_through_the_service_and_its_password_never_shown(
    browser, pfcon
):
    response = browser.post(
        "/chris-admin/plugins/computeresource/add/",
        {"name": "remote", "compute_url": pfcon.url, "compute_user": USER,
         "compute_password": PASSWORD, "description": "", "max_job_exec_seconds": -1},
    )  # fmt: skip
    resource = ComputeResource.objects.get(name="remote")
    page = browser.get(f"/chris-admin/plugins/computeresource/{resource.pk}/change/")

    assert response.status_code == 302
    assert resource.compute_auth_url == f"{pfcon.url}auth-token/"
    assert resource.compute_password == PASSWORD
    assert PASSWORD not in page.content.decode()
    assert 'type="password"' in page.content.decode()


def test_changing_a_compute_resource_keeps_an_unchanged_password(browser, host):
    response = browser.post(
        f"/chris-admin/plugins/computeresource/{host.pk}/change/",
        {"compute_url": host.compute_url, "compute_user": USER, "compute_password": "",
         "description": "a new description", "max_job_exec_seconds": 60},
    )  # fmt: skip
    host.refresh_from_db()

    assert response.status_code == 302, response.content.decode()[-2000:]
    assert (host.description, host.compute_password, host.max_job_exec_seconds) == (
        "a new description", PASSWORD, 60,
    )  # fmt: skip


def test_an_unreachable_compute_service_is_refused(browser):
    response = browser.post(
        "/chris-admin/plugins/computeresource/add/",
        {"name": "nowhere", "compute_url": "http://127.0.0.1:9/api/v1/", "compute_user": "u",
         "compute_password": "p", "max_job_exec_seconds": -1},
    )  # fmt: skip

    assert response.status_code == 200
    assert "Could not reach the compute service" in response.content.decode()
    assert not ComputeResource.objects.filter(name="nowhere").exists()


def test_a_plugin_moves_between_compute_resources_through_the_service(browser, host, pfcon):
    other = ComputeResource.objects.create(
        name="other", compute_url=pfcon.url, compute_user=USER, compute_password=PASSWORD
    )
    upload = io.BytesIO(json.dumps(DESCRIPTOR).encode())
    upload.name = "plugin.json"
    register(browser, compute_resources=[host.pk], descriptor_file=upload)
    plugin = Plugin.objects.get()

    response = browser.post(
        f"/chris-admin/plugins/plugin/{plugin.pk}/change/",
        {"compute_resources": [other.pk], "parameters-TOTAL_FORMS": 2,
         "parameters-INITIAL_FORMS": 2},
    )  # fmt: skip

    assert response.status_code == 302, response.content.decode()[-3000:]
    assert list(plugin.compute_resources.all()) == [other]


def test_a_user_added_here_is_signed_up_by_the_service(browser, storage):
    response = browser.post(
        "/chris-admin/auth/user/add/",
        {"username": "alice", "email": "alice@example.org", "password1": "a-long-pw-4567",
         "password2": "a-long-pw-4567"},
    )  # fmt: skip
    alice = User.objects.get(username="alice")

    assert response.status_code == 302, response.content.decode()[-2000:]
    assert response["Location"] == f"/chris-admin/auth/user/{alice.pk}/change/"
    assert alice.check_password("a-long-pw-4567") and alice.email == "alice@example.org"
    assert UploadedFile.objects.filter(fname="alice/uploads/welcome.txt", owner=alice).exists()


def test_a_user_with_a_taken_email_is_refused(browser, superuser):
    response = browser.post(
        "/chris-admin/auth/user/add/",
        {"username": "bob", "email": superuser.email.upper(), "password1": "a-long-pw-4567",
         "password2": "a-long-pw-4567"},
    )  # fmt: skip

    assert response.status_code == 200
    assert "A user with this email already exists." in response.content.decode()
    assert not User.objects.filter(username="bob").exists()
