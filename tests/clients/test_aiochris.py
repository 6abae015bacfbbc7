"""aiochris 0.10.0 (plain JSON, token auth) against the live embedded stack."""

import asyncio

import pytest
from aiochris import ChrisClient
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
            dircopy = await chris.search_plugins(name_exact="pl-dircopy").get_only()
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
