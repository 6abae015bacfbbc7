import io
import json

import pytest

from plugins.models import ComputeResource, Plugin, PluginMeta
from plugins.services.registry import register_plugin
from tests.fake_store import FakeStore
from tests.fakes import FakePfcon
from tests.helpers import CJ, cj_items, cj_template

pytestmark = pytest.mark.django_db

ADMIN = "/chris-admin/api/v1/"
H = "http://testserver"
DESCRIPTOR = {
    "name": "pl-simpledsapp", "version": "2.1.3", "dock_image": "fnndsc/pl-simpledsapp:2.1.3",
    "type": "ds", "selfpath": "/usr/local/bin", "selfexec": "simpledsapp", "execshell": "",
    "parameters": [
        {"name": "prefix", "type": "str", "optional": True, "flag": "--prefix",
         "action": "store", "default": ""},
    ],
}  # fmt: skip


@pytest.fixture
def staff_client(client, user):
    user.is_staff = True
    user.save()
    return client


@pytest.fixture
def resources(db):
    return [
        ComputeResource.objects.create(
            name=name,
            compute_url=f"http://{name}:5005/api/v1/",
            compute_user="pfcon",
            compute_password="pfcon1234",
        )  # fmt: skip
        for name in ("host", "remote")
    ]


def post_descriptor(api_client, descriptor, compute_names="host"):
    upload = io.BytesIO(json.dumps(descriptor).encode())
    upload.name = "fname"
    return api_client.post(
        ADMIN, {"fname": upload, "compute_names": compute_names}, format="multipart"
    )


def test_staff_only(client, anonymous_client, superuser_client, resources):
    for url in (ADMIN, f"{ADMIN}computeresources/", f"{ADMIN}computeresources/{resources[0].pk}/"):
        assert anonymous_client.get(url).status_code == 401
        assert client.get(url).status_code == 403
    assert superuser_client.get(ADMIN).status_code == 200
    plugin = register_plugin(DESCRIPTOR, compute_names=["host"])
    assert anonymous_client.get(f"{ADMIN}{plugin.pk}/").status_code == 401
    assert client.delete(f"{ADMIN}{plugin.pk}/").status_code == 403
    assert post_descriptor(client, DESCRIPTOR).status_code == 403


def test_admin_routes_come_before_the_admin_site(superuser_client):
    assert superuser_client.get("/chris-admin/").status_code == 302  # the HTML site's login
    assert superuser_client.get(ADMIN)["Content-Type"] == CJ


def test_plugin_list_document(staff_client, resources):
    plugin = register_plugin(DESCRIPTOR, compute_names=["host"])
    collection = staff_client.get(ADMIN).json()["collection"]
    assert list(collection) == ["version", "href", "items", "links", "template", "total"]
    assert collection["links"] == [
        {"rel": "compute_resources", "href": f"{H}{ADMIN}computeresources/"}
    ]
    assert collection["template"] == {
        "data": [{"name": n, "value": ""} for n in ("fname", "compute_names", "plugin_store_url")]
    }
    item = collection["items"][0]
    assert item["href"] == f"{H}/api/v1/plugins/{plugin.pk}/"
    assert [d["name"] for d in item["data"]][:5] == [
        "id",
        "creation_date",
        "name",
        "version",
        "dock_image",
    ]
    assert {link["rel"] for link in item["links"]} == {
        "meta",
        "parameters",
        "instances",
        "compute_resources",
    }
    body = staff_client.get(ADMIN, HTTP_ACCEPT="application/json").json()
    assert body["collection_links"] == {"compute_resources": f"{H}{ADMIN}computeresources/"}


def test_register_plugin_from_file(staff_client, resources):
    response = post_descriptor(staff_client, DESCRIPTOR, compute_names=" host , remote")
    assert response.status_code == 201, response.content
    plugin = Plugin.objects.get()
    assert response["Location"] == f"{H}/api/v1/plugins/{plugin.pk}/"
    assert cj_items(response)[0]["name"] == "pl-simpledsapp"
    assert set(plugin.compute_resources.values_list("name", flat=True)) == {"host", "remote"}
    assert plugin.parameters.get().type == "string"


def test_register_plugin_from_json_body(staff_client, resources):
    response = staff_client.post(
        ADMIN, {"fname": DESCRIPTOR, "compute_names": ["host"]}, format="json"
    )
    assert response.status_code == 201, response.content
    assert Plugin.objects.count() == 1


def test_register_plugin_from_store_url(staff_client, resources):
    many = [
        {"name": f"opt{n}", "type": "int", "optional": True, "flag": f"--opt{n}", "default": n}
        for n in range(12)
    ]
    descriptor = {**DESCRIPTOR, "parameters": DESCRIPTOR["parameters"] + many}
    with FakeStore([descriptor]) as store:
        response = staff_client.post(
            ADMIN, {"plugin_store_url": store.plugin_url(1), "compute_names": "host"}, format="json"
        )
    assert response.status_code == 201, response.content
    plugin = Plugin.objects.get()
    assert plugin.meta.name == "pl-simpledsapp"
    parameters = {p.name: (p.type, p.default) for p in plugin.parameters.all()}
    assert parameters["prefix"] == ("string", "")
    assert parameters["opt11"] == ("integer", 11)
    assert len(parameters) == 13  # two pages of the store's parameter list


@pytest.mark.parametrize(
    "data, field",
    [
        ({"compute_names": "host"}, "non_field_errors"),
        ({"fname": "not json", "compute_names": "host"}, "fname"),
        ({"fname": {"name": "pl-x"}, "compute_names": "host"}, "fname"),
        ({"fname": {**DESCRIPTOR, "version": "v1"}, "compute_names": "host"}, "fname"),
        ({"fname": DESCRIPTOR}, "compute_names"),
        ({"fname": DESCRIPTOR, "compute_names": " , "}, "compute_names"),
        ({"fname": DESCRIPTOR, "compute_names": "nowhere"}, "compute_names"),
        (
            {"plugin_store_url": "http://127.0.0.1:9/x/", "compute_names": "host"},
            "plugin_store_url",
        ),
        ({"plugin_store_url": "not a url", "compute_names": "host"}, "plugin_store_url"),
    ],
)
def test_register_plugin_validation(staff_client, resources, data, field):
    response = staff_client.post(ADMIN, data, format="json")
    assert response.status_code == 400, response.content
    assert field in json.loads(response.json()["collection"]["error"]["message"])
    assert Plugin.objects.count() == 0


def test_register_plugin_bad_file_part(staff_client, resources):
    upload = io.BytesIO(b"{not json")
    upload.name = "fname"
    response = staff_client.post(
        ADMIN, {"fname": upload, "compute_names": "host"}, format="multipart"
    )
    assert response.status_code == 400
    assert json.loads(response.json()["collection"]["error"]["message"]) == {
        "fname": ["Invalid JSON representation file."]
    }


def test_plugin_detail_put_and_delete(staff_client, resources):
    plugin = register_plugin(DESCRIPTOR, compute_names=["host"])
    other = register_plugin({**DESCRIPTOR, "version": "2.1.4"}, compute_names=["host"])
    url = f"{ADMIN}{plugin.pk}/"
    detail = staff_client.get(url).json()["collection"]
    assert detail["template"] == {"data": [{"name": "compute_names", "value": ""}]}
    response = staff_client.put(url, cj_template({"compute_names": "remote"}), content_type=CJ)
    assert response.status_code == 200, response.content
    assert list(plugin.compute_resources.values_list("name", flat=True)) == ["remote"]
    assert staff_client.put(url, {}, format="json").status_code == 400
    assert staff_client.put(url, {"compute_names": "nowhere"}, format="json").status_code == 400
    assert staff_client.delete(url).status_code == 204
    assert PluginMeta.objects.filter(name="pl-simpledsapp").exists()
    assert staff_client.delete(f"{ADMIN}{other.pk}/").status_code == 204
    assert not PluginMeta.objects.exists()
    assert staff_client.get(url).status_code == 404


def test_compute_resource_create_contacts_the_service(staff_client):
    with FakePfcon(innetwork=True, storage_env="fslink") as fake:
        fake_url = fake.url
        response = staff_client.post(
            f"{ADMIN}computeresources/",
            cj_template(
                {
                    "name": "fake",
                    "compute_url": fake.url,
                    "compute_user": "pfcon",
                    "compute_password": "pfcon1234",
                    "description": "the fake",
                }
            ),  # fmt: skip
            content_type=CJ,
        )
    assert response.status_code == 201, response.content
    resource = ComputeResource.objects.get()
    assert resource.compute_innetwork is True
    assert resource.compute_auth_url == fake_url + "auth-token/"
    item = response.json()["collection"]["items"][0]
    assert item["href"] == f"{H}{ADMIN}computeresources/{resource.pk}/"
    assert [d["name"] for d in item["data"]] == [
        "id", "creation_date", "modification_date", "name", "compute_url", "compute_auth_url",
        "compute_innetwork", "description", "max_job_exec_seconds",
    ]  # fmt: skip
    listing = staff_client.get(f"{ADMIN}computeresources/").json()["collection"]
    assert [d["name"] for d in listing["template"]["data"]] == [
        "name", "compute_url", "compute_auth_url", "compute_user", "compute_password",
        "compute_auth_token", "compute_innetwork", "description", "max_job_exec_seconds",
    ]  # fmt: skip
    assert listing["total"] == 1


@pytest.mark.parametrize(
    "data, field",
    [
        (
            {
                "name": "host",
                "compute_url": "http://x/api/v1/",
                "compute_user": "pfcon",
                "compute_password": "pfcon1234",
            },
            "name",
        ),
        (
            {
                "name": "new",
                "compute_url": "not a url",
                "compute_user": "pfcon",
                "compute_password": "pfcon1234",
            },
            "compute_url",
        ),
        (
            {
                "name": "new",
                "compute_url": "http://x/api/v1/",
                "compute_user": "pf",
                "compute_password": "pfcon1234",
            },
            "compute_user",
        ),
        (
            {
                "name": "new",
                "compute_url": "http://x/api/v1/",
                "compute_user": "pfcon",
                "compute_password": "short",
            },
            "compute_password",
        ),
        (
            {
                "name": "new",
                "compute_url": "http://127.0.0.1:9/api/v1/",
                "compute_user": "pfcon",
                "compute_password": "pfcon1234",
            },
            "compute_url",
        ),
    ],
)
def test_compute_resource_create_validation(staff_client, resources, data, field):
    response = staff_client.post(f"{ADMIN}computeresources/", data, format="json")
    assert response.status_code == 400, response.content
    assert field in json.loads(response.json()["collection"]["error"]["message"])
    assert ComputeResource.objects.count() == 2


def test_compute_resource_delete_keeps_plugins_runnable(staff_client, resources):
    host, remote = resources
    register_plugin(DESCRIPTOR, compute_names=["host"])
    register_plugin({**DESCRIPTOR, "version": "3.0"}, compute_names=["host", "remote"])
    assert staff_client.get(f"{ADMIN}computeresources/{host.pk}/").status_code == 200
    refused = staff_client.delete(f"{ADMIN}computeresources/{host.pk}/")
    assert refused.status_code == 400
    message = json.loads(refused.json()["collection"]["error"]["message"])
    assert list(message) == ["non_field_errors"]
    assert "pl-simpledsapp 2.1.3" in message["non_field_errors"][0]
    assert staff_client.delete(f"{ADMIN}computeresources/{remote.pk}/").status_code == 204
    assert staff_client.delete(f"{ADMIN}computeresources/999/").status_code == 404
    assert ComputeResource.objects.count() == 1
