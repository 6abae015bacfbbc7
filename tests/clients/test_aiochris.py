"""aiochris 0.10.0 (plain JSON, token auth) against the live embedded stack."""

import asyncio
import uuid

import pytest
import requests
from aiochris import ChrisAdminClient, ChrisClient
from aiochris.enums import PluginType, Status
from aiochris.errors import IncorrectLoginError

pytestmark = pytest.mark.e2e


def test_aiochris_refuses_a_wrong_password(live_stack):
    async def login():
        await ChrisClient.from_login(url=live_stack, username="chris", password="wrong")

    with pytest.raises(IncorrectLoginError):
        asyncio.run(login())


# pyserde's beartype warns about its own internals.
@pytest.mark.filterwarnings("ignore:Deprecated attribute:DeprecationWarning")
def test_aiochris_uploads_and_runs_an_fs_then_a_ds_plugin(live_stack, tmp_path):
    local = tmp_path / "scan.txt"
    local.write_text("hello from aiochris\n")

    async def scenario():
        async with await ChrisClient.from_login(
            url=live_stack, username="chris", password="chris1234"
        ) as chris:
            uploaded = await chris.upload_file(local, "clients/aiochris/scan.txt")
            dircopy = await chris.search_plugins(
                name_exact="pl-dircopy", version="2.1.1"
            ).get_only()
            simpledsapp = await chris.search_plugins(name_exact="pl-simpledsapp").get_only()
            copy = await dircopy.create_instance(dir=uploaded.parent)
            _, copied = await copy.wait(timeout=120.0, interval=1.0)
            feed = await copied.get_feed()
            ds = await simpledsapp.create_instance(previous=copied, prefix="ds_")
            _, ds_done = await ds.wait(timeout=120.0, interval=1.0)
            return uploaded, dircopy, simpledsapp, copied, feed, ds, ds_done

    uploaded, dircopy, simpledsapp, copied, feed, ds, ds_done = asyncio.run(scenario())

    assert uploaded.fname == "chris/uploads/clients/aiochris/scan.txt"
    assert uploaded.fsize == local.stat().st_size
    assert (dircopy.plugin_type, simpledsapp.plugin_type) == (PluginType.fs, PluginType.ds)
    assert copied.status is Status.finishedSuccessfully, copied
    assert feed.id == copied.feed_id
    assert feed.creator_username == "chris"
    assert ds.previous_id == copied.id
    assert ds_done.status is Status.finishedSuccessfully, ds_done
    assert ds_done.feed_id == copied.feed_id


# The API spells parameter types out; a plugin descriptor uses the short names.
DESCRIPTOR_TYPES = {"string": "str", "integer": "int", "boolean": "bool"}


def plain_json(url: str, **params) -> dict:
    """GET a URL as chris with Accept: application/json (test plumbing, not the client)."""
    answer = requests.get(
        url, params=params, auth=("chris", "chris1234"), headers={"Accept": "application/json"}
    )
    answer.raise_for_status()
    return answer.json()


@pytest.mark.filterwarnings("ignore:Deprecated attribute:DeprecationWarning")
def test_aiochris_full_user_flow_from_sign_up_to_deleting_an_instance(live_stack, tmp_path):
    local = tmp_path / "notes.txt"
    local.write_text("hello from a new aiochris user\n")
    username = f"aio{uuid.uuid4().hex[:8]}"
    password = "aio-pass-1234"

    async def scenario():
        created_user = await ChrisClient.create_user(
            url=live_stack, username=username, password=password, email=f"{username}@x.org"
        )
        async with await ChrisClient.from_login(
            url=live_stack, username=username, password=password
        ) as chris:
            me = await chris.username()
            uploaded = await chris.upload_file(local, "aioflow/notes.txt")
            dircopy = await chris.search_plugins(
                name_exact="pl-dircopy", version="2.1.1"
            ).get_only()
            simpledsapp = await chris.search_plugins(name_exact="pl-simpledsapp").get_only()
            fs = await dircopy.create_instance(dir=uploaded.parent, title="aio fs")
            _, fs_done = await fs.wait(timeout=120.0, interval=1.0)
            ds = await simpledsapp.create_instance(previous=fs_done, prefix="aio_")
            _, ds_done = await ds.wait(timeout=120.0, interval=1.0)
            ds_params = {p.param_name: p.value async for p in ds_done.get_parameters()}
            feed = await fs_done.get_feed()
            renamed = await feed.set(name=f"{username} feed")
            note = await renamed.get_note()
            new_note = await note.set(title="aio title", content="aio content")
            note_again = await renamed.get_note()
            found = await chris.search_feeds(name=f"{username} feed").get_only()
            await ds_done.delete()
            ds_left = await chris.plugin_instances(id=ds_done.id).count()
            fs_left = await chris.plugin_instances(id=fs_done.id).count()
        return locals()

    got = asyncio.run(scenario())

    assert got["created_user"].username == username
    assert got["created_user"].email == f"{username}@x.org"
    assert got["me"] == username
    assert got["uploaded"].fname == f"{username}/uploads/aioflow/notes.txt"
    assert got["uploaded"].fsize == local.stat().st_size
    fs_done, ds_done = got["fs_done"], got["ds_done"]
    assert fs_done.status is Status.finishedSuccessfully, fs_done
    assert (fs_done.title, fs_done.owner_username) == ("aio fs", username)
    assert ds_done.status is Status.finishedSuccessfully, ds_done
    assert (ds_done.previous_id, ds_done.feed_id) == (fs_done.id, fs_done.feed_id)
    assert got["ds_params"]["prefix"] == "aio_"
    feed, renamed = got["feed"], got["renamed"]
    assert feed.id == fs_done.feed_id
    assert feed.creator_username == username
    assert (renamed.id, renamed.name) == (feed.id, f"{username} feed")
    assert (got["new_note"].title, got["new_note"].content) == ("aio title", "aio content")
    assert (got["note_again"].title, got["note_again"].content) == ("aio title", "aio content")
    assert got["note_again"].feed == feed.url
    assert got["found"].id == feed.id
    assert (got["ds_left"], got["fs_left"]) == (0, 1)
    server_feed = plain_json(f"{live_stack}{feed.id}/")
    assert server_feed["name"] == f"{username} feed"


@pytest.mark.filterwarnings("ignore:Deprecated attribute:DeprecationWarning")
def test_aiochris_admin_adds_a_plugin_and_a_compute_resource(live_stack, live_compute_credentials):
    source = plain_json(f"{live_stack}plugins/search/", name_exact="pl-simpledsapp")["results"][0]
    parameters = plain_json(source["parameters"], limit=100)["results"]
    descriptor = {key: value for key, value in source.items() if isinstance(value, str | int)}
    for key in ("url", "id", "creation_date", "stars", "meta", "instances", "compute_resources"):
        descriptor.pop(key, None)
    descriptor.update(name="pl-adminadded", version="1.0.0", dock_image="fnndsc/pl-adminadded")
    descriptor["parameters"] = [
        {
            key: param[key]
            for key in (
                "name",
                "type",
                "optional",
                "default",
                "flag",
                "short_flag",
                "action",
                "help",
                "ui_exposed",
            )  # fmt: skip
            if key in param
        }
        | {"type": DESCRIPTOR_TYPES.get(param["type"], param["type"])}
        for param in parameters
    ]
    host = plain_json(f"{live_stack}computeresources/search/", name="host")["results"][0]
    compute_name = f"aio-{uuid.uuid4().hex[:6]}"

    async def scenario():
        async with await ChrisAdminClient.from_login(
            url=live_stack, username="chris", password="chris1234"
        ) as admin:
            plugin = await admin.add_plugin(plugin_description=descriptor, compute_resources="host")
            found = await admin.search_plugins(name_exact="pl-adminadded").get_only()
            plugin_params = [p.name async for p in found.get_parameters()]
            plugin_computes = [c.name async for c in found.get_compute_resources()]
            compute = await admin.create_compute_resource(
                name=compute_name,
                compute_url=host["compute_url"],
                compute_user=live_compute_credentials[0],
                compute_password=live_compute_credentials[1],
                description="added by aiochris",
            )
            computes = [c.name for c in await admin.get_all_compute_resources()]
        return plugin, found, plugin_params, plugin_computes, compute, computes

    plugin, found, plugin_params, plugin_computes, compute, computes = asyncio.run(scenario())

    assert (plugin.name, plugin.version, plugin.plugin_type) == (
        "pl-adminadded",
        "1.0.0",
        PluginType.ds,
    )
    assert found.id == plugin.id
    assert sorted(plugin_params) == sorted(param["name"] for param in parameters)
    assert plugin_computes == ["host"]
    assert compute.name == compute_name
    assert compute.compute_url == host["compute_url"]
    assert compute.description == "added by aiochris"
    assert {"host", compute_name} <= set(computes)
