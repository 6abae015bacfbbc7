"""The admin site at /chris-admin/ of the live stack, in headless Chromium.

An administrator logs in, registers a plugin from a ChRIS store (a local stand-in serving the
store's real Collection+JSON) and another from its JSON description file, finds compute
resources with a write-only password, and plugin instances and feeds shown read-only.
"""

import json
import time
import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.stack import SUPERUSER
from tests.fake_store import FakeStore

pytestmark = pytest.mark.e2e


def descriptor(name: str) -> dict:
    return {
        "name": name, "version": "1.0.0", "dock_image": f"fnndsc/{name}:1.0.0", "type": "ds",
        "selfpath": "/usr/local/bin", "selfexec": name, "execshell": "/usr/local/bin/python",
        "title": f"{name}, registered in the admin site", "authors": "FNNDSC",
        "min_cpu_limit": "1000m", "min_memory_limit": "200Mi",
        "parameters": [
            {"name": "prefix", "type": "str", "optional": True, "flag": "--prefix",
             "short_flag": "-p", "action": "store", "default": "", "help": "a prefix"},
            *({"name": f"level{n}", "type": "int", "optional": True, "flag": f"--level{n}",
               "action": "store", "default": n, "help": "a level"} for n in range(11)),
        ],
    }  # fmt: skip


@pytest.fixture
def finished_instance(live_stack) -> int:
    """A pl-dircopy run to the end, so that the admin site has an instance and a feed to show."""
    headers = {"Accept": "application/json"}
    folder = f"chris/uploads/admin-{uuid.uuid4().hex[:6]}"
    upload = requests.post(
        f"{live_stack}uploadedfiles/", data={"upload_path": f"{folder}/a.txt"},
        files={"fname": ("a.txt", b"admin data\n")}, auth=SUPERUSER, headers=headers, timeout=30,
    )  # fmt: skip
    assert upload.status_code == 201, upload.text
    dircopy = requests.get(
        f"{live_stack}plugins/search/", params={"name_exact": "pl-dircopy", "version": "2.1.1"},
        auth=SUPERUSER, headers=headers, timeout=30,
    ).json()["results"][0]  # fmt: skip
    created = requests.post(
        f"{live_stack}plugins/{dircopy['id']}/instances/", json={"dir": folder},
        auth=SUPERUSER, headers=headers, timeout=30,
    ).json()  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        status = requests.get(created["url"], auth=SUPERUSER, headers=headers, timeout=30)
        if status.json()["status"] == "finishedSuccessfully":
            return created["id"]
        assert time.monotonic() < deadline, status.text
        time.sleep(0.5)


def test_an_administrator_registers_plugins_and_reviews_records(
    live_stack, browser_for, finished_instance, tmp_path
):
    origin = live_stack.split("/api/", 1)[0]
    browser = browser_for(origin)
    page = browser.page
    suffix = uuid.uuid4().hex[:6]
    from_store, from_file = f"pl-fromstore{suffix}", f"pl-fromfile{suffix}"
    (tmp_path / "plugin.json").write_text(json.dumps(descriptor(from_file)))

    page.goto(f"{origin}/chris-admin/")
    page.fill("#id_username", SUPERUSER[0])
    page.fill("#id_password", SUPERUSER[1])
    page.click("input[type=submit]")
    expect(page).to_have_title("Site administration | ChRIS Admin")
    expect(page.locator("#site-name")).to_have_text("ChRIS Administration")
    for label in ("PACS files", "Plugin instances", "Compute resources", "ChRIS instance"):
        expect(page.get_by_role("link", name=label, exact=True).last).to_be_visible()
    expect(page.locator("a[href$='/plugininstance/add/']")).to_have_count(0)
    browser.shot("admin-index")

    # Register a plugin from a ChRIS store, by name and version, on the compute resource host.
    with FakeStore([descriptor(from_store)]) as store:
        page.click("a[href$='/plugins/plugin/add/']")
        expect(page.get_by_role("heading", name="Register a plugin")).to_be_visible()
        page.get_by_label("host").check()
        page.fill("#id_name", from_store)
        page.fill("#id_version", "1.0.0")
        page.fill("#id_store_url", store.url)
        browser.shot("admin-register-from-store")
        page.click("input[name=_save]")
        expect(page.locator(".messagelist")).to_contain_text(f"Registered {from_store} 1.0.0")
    browser.shot("admin-registered")
    plugins = requests.get(
        f"{live_stack}plugins/search/", params={"name_exact": from_store}, auth=SUPERUSER,
        headers={"Accept": "application/json"}, timeout=30,
    ).json()["results"]  # fmt: skip
    assert [(p["version"], p["type"]) for p in plugins] == [("1.0.0", "ds")]
    parameters = requests.get(
        plugins[0]["parameters"], params={"limit": 50}, auth=SUPERUSER,
        headers={"Accept": "application/json"}, timeout=30,
    ).json()["results"]  # fmt: skip
    assert len(parameters) == 12
    assert {p["name"]: p["type"] for p in parameters}["level10"] == "integer"

    # Register one from its JSON description file.
    page.goto(f"{origin}/chris-admin/plugins/plugin/add/")
    page.get_by_label("host").check()
    page.set_input_files("#id_descriptor_file", str(tmp_path / "plugin.json"))
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text(f"Registered {from_file} 1.0.0")

    # A store that does not have the plugin: the form says so.
    with FakeStore([]) as store:
        page.goto(f"{origin}/chris-admin/plugins/plugin/add/")
        page.get_by_label("host").check()
        page.fill("#id_name", "pl-nowhere")
        page.fill("#id_store_url", store.url)
        page.click("input[name=_save]")
        expect(page.locator(".errorlist")).to_contain_text("has no plugin pl-nowhere")

    # Compute resources: the password is never shown.
    page.goto(f"{origin}/chris-admin/plugins/computeresource/")
    page.get_by_role("link", name="host", exact=True).click()
    password = page.locator("#id_compute_password")
    expect(password).to_have_attribute("type", "password")
    expect(password).to_have_value("")
    browser.shot("admin-compute-resource")

    # Plugin instances and feeds: read-only, with status, owner and links.
    page.goto(f"{origin}/chris-admin/plugins/plugininstance/")
    expect(page.locator("#result_list")).to_be_visible()
    expect(page.locator(".object-tools a.addlink")).to_have_count(0)
    expect(page.locator("#result_list")).to_contain_text("Finished Successfully")
    browser.shot("admin-plugin-instances")
    page.locator("#result_list tbody tr").first.locator("th a").click()
    expect(page.locator("input[name=_save]")).to_have_count(0)
    expect(page.get_by_role("link", name="/api/v1/plugins/instances/", exact=False)).to_be_visible()
    page.goto(f"{origin}/chris-admin/feeds/feed/")
    expect(page.locator("#result_list")).to_contain_text("finished")
    expect(page.locator(".object-tools a.addlink")).to_have_count(0)
    browser.shot("admin-feeds")

    assert browser.watcher.problems == []
