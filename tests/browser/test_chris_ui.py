"""A researcher's session in ChRIS_ui (v5), served from its own origin, in headless Chromium.

Every API call is cross-origin, so this also proves the CORS headers. The session: log in,
sign up, see the feeds, upload files in the Library, create a feed from them (pl-dircopy),
add a child plugin node, run a pipeline, open a node's files and download one. A failed API
request or a console error (but the two internet CDN scripts) fails the test.
"""

import json
import re
import time
import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.stack import SUPERUSER

pytestmark = pytest.mark.e2e

FINAL_STATUSES = {"finishedSuccessfully", "finishedWithError", "cancelled"}
PIPELINE = "Browser pipeline"


def api_get(url: str, auth: tuple[str, str], **params) -> dict:
    response = requests.get(
        url, params=params, auth=auth, headers={"Accept": "application/json"}, timeout=30
    )
    response.raise_for_status()
    return response.json()


def wait_for_instances(live_stack: str, auth: tuple[str, str], feed_id: int, count: int) -> list:
    """The feed's plugin instances once there are ``count``, all finished successfully."""
    deadline = time.monotonic() + 120
    while True:
        instances = api_get(f"{live_stack}{feed_id}/plugininstances/", auth, limit=100)["results"]
        finished = [item for item in instances if item["status"] in FINAL_STATUSES]
        if len(instances) >= count and len(finished) == len(instances):
            assert {item["status"] for item in instances} == {"finishedSuccessfully"}, instances
            return instances
        assert time.monotonic() < deadline, instances
        time.sleep(0.5)


@pytest.fixture
def pipeline(live_stack) -> str:
    """A two-step pipeline of pl-simpledsapp, made through the API, for the UI to run."""
    tree = [
        {"title": "prefix one", "plugin_name": "pl-simpledsapp", "plugin_version": "2.1.3",
         "previous": None, "plugin_parameter_defaults": [{"name": "prefix", "default": "one-"}]},
        {"title": "prefix two", "plugin_name": "pl-simpledsapp", "plugin_version": "2.1.3",
         "previous": "prefix one"},
    ]  # fmt: skip
    existing = api_get(f"{live_stack}pipelines/search/", SUPERUSER, name=PIPELINE)["results"]
    if not existing:
        response = requests.post(
            f"{live_stack}pipelines/",
            json={"name": PIPELINE, "authors": "tests", "category": "test", "locked": False,
                  "description": "Two pl-simpledsapp steps", "plugin_tree": json.dumps(tree)},
            auth=SUPERUSER, headers={"Accept": "application/json"}, timeout=30,
        )  # fmt: skip
        assert response.status_code == 201, response.text
    return PIPELINE


def test_a_researchers_session_in_chris_ui(live_stack, chris_ui, browser_for, pipeline, tmp_path):
    api_origin = live_stack.split("/api/", 1)[0]
    browser = browser_for(api_origin)
    page = browser.page
    username = f"res{uuid.uuid4().hex[:8]}"
    password = f"pw-{uuid.uuid4().hex}"
    files = {"hello.txt": b"hello from the browser\n", "scan.dat": bytes(range(256)) * 12}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)

    # Log in as the superuser, then sign out.
    page.goto(f"{chris_ui}/login")
    page.fill("#pf-login-username-id", SUPERUSER[0])
    page.fill("#pf-login-password-id", SUPERUSER[1])
    browser.shot("login")
    page.click("button[type=submit]")
    expect(page.get_by_text("Welcome to ChRIS")).to_be_visible()
    browser.shot("logged-in")
    page.click(f"button:has-text('{SUPERUSER[0]}')")
    page.click("text=Sign out")

    # Sign up a new researcher, who is logged in at once.
    page.click("text=Sign up")
    page.fill("#chris-username", username)
    page.fill("#chris-email", f"{username}@example.org")
    page.fill("#chris-password", password)
    browser.shot("sign-up")
    page.click("button:has-text('Create Account')")
    expect(page.locator(f"button:has-text('{username}')")).to_be_visible()
    auth = (username, password)
    assert api_get(live_stack, auth)["count"] == 0  # the account exists, with no feed

    # The feeds: none of their own yet.
    page.click("text=New and Existing Analyses")
    expect(page.get_by_text("No results found")).to_be_visible()
    browser.shot("feeds-empty")

    # Upload two files in the Library.
    page.click("text=Library")
    page.click("button:has-text('Upload')")
    page.set_input_files(
        "input[type=file]:not([webkitdirectory])", [str(tmp_path / name) for name in files]
    )
    page.fill("#horizontal-form-name", "browser-study")
    browser.shot("upload-chosen")
    page.click("button:has-text('Push to File Storage')")
    expect(page.get_by_text("100% Complete")).to_be_visible()
    browser.shot("uploaded")
    uploads = api_get(f"{live_stack}uploadedfiles/", auth, limit=50)["results"]
    assert {item["fname"] for item in uploads} >= {
        f"{username}/uploads/browser-study/{name}" for name in files
    }
    expect(page.get_by_role("dialog")).to_be_hidden(timeout=10_000)

    # Create a feed from the uploaded folder (the UI runs pl-dircopy).
    page.click("text=New and Existing Analyses")
    page.click("button:has-text('Create Feed')")
    page.fill("#analysis-name", "Browser analysis")
    page.click("footer button:has-text('Next')")
    page.click("text=Fetch Data from ChRIS")

    def tree_node(title: str):
        title_span = page.locator(f".ant-tree-title:text-is('{title}')")
        return page.locator(".ant-tree-treenode", has=title_span)

    tree_node(username).locator(".ant-tree-switcher").click()
    tree_node("uploads").locator(".ant-tree-switcher").click()
    tree_node("browser-study").locator(".ant-tree-checkbox").click()
    browser.shot("feed-data-chosen")
    page.click("button:has-text('Done')")
    page.click("footer button:has-text('Next')")
    page.click("footer button:has-text('Next')")
    expect(page.get_by_text("Existing Files to add to new feed:")).to_be_visible()
    browser.shot("feed-review")
    page.click("footer button:has-text('Create Analysis')")
    feed_row = page.get_by_role("row", name=re.compile("Browser analysis"))
    expect(feed_row).to_be_visible()
    feed = api_get(live_stack, auth)["results"][0]
    instances = wait_for_instances(live_stack, auth, feed["id"], 1)
    assert instances[0]["plugin_name"] == "pl-dircopy"
    page.reload()
    browser.shot("feeds")

    # Open the feed and add a child plugin node.
    feed_row.get_by_text("Browser analysis").click()
    expect(page.get_by_text("Feed Name")).to_be_visible()
    page.click("button:has-text('Add a Child Node')")
    page.click("text=pl-simpledsapp")
    page.click("footer button:has-text('Next')")
    browser.shot("child-node-form")
    page.click("footer button:has-text('Add Node')")
    instances = wait_for_instances(live_stack, auth, feed["id"], 2)
    assert sorted(item["plugin_name"] for item in instances) == ["pl-dircopy", "pl-simpledsapp"]
    page.reload()
    expect(page.get_by_text("Feed Name")).to_be_visible()
    browser.shot("child-node-added")

    # Run the pipeline on the feed's root node.
    page.click("button:has-text('Add a Pipeline')")
    page.locator("li, tr, div.pf-v5-c-data-list__item", has_text=pipeline).locator(
        "button:has-text('Select')"
    ).first.click()
    expect(page.locator("button:has-text('Deselect')")).to_be_visible()
    page.wait_for_load_state("networkidle")  # the pipeline's nodes and parameters
    confirm = page.locator("button:has-text('Confirm')")
    expect(confirm).to_be_enabled()
    browser.shot("pipeline-chosen")
    confirm.click()
    instances = wait_for_instances(live_stack, auth, feed["id"], 4)
    assert {item["title"] for item in instances} >= {"prefix one", "prefix two"}
    page.reload()
    expect(page.get_by_text("Feed Name")).to_be_visible()
    browser.shot("pipeline-ran")

    # Open the root node's files and download one.
    folder = f"{username}_uploads_browser-study"
    page.get_by_text(folder, exact=True).click()
    page.locator("td", has_text="browser-study").first.click()
    expect(page.get_by_text("hello.txt")).to_be_visible()
    browser.shot("node-files")
    with page.expect_download() as download_info:
        page.locator("tr", has_text="hello.txt").locator("button").first.click()
    download = download_info.value
    assert download.suggested_filename == "hello.txt"
    assert (tmp_path / "hello.txt").read_bytes() == open(download.path(), "rb").read()
    browser.shot("downloaded")

    assert browser.watcher.problems == []


def test_make_run_serves_chris_ui_on_the_same_origin(live_stack, live_stack_details, browser_for):
    """With CUBE_UI_DIR (set for the shared stack), the launcher serves ChRIS_ui at /."""
    if "CUBE_UI_DIR" not in live_stack_details.env:
        pytest.skip("no ChRIS_ui build beside the clone")
    site = f"http://localhost:{live_stack_details.port}"
    browser = browser_for(site)
    page = browser.page

    deep_link = requests.get(f"{site}/feeds/1", timeout=30)  # the app's own route
    assert deep_link.ok and '<div id="root">' in deep_link.text
    page.goto(f"{site}/login")
    page.fill("#pf-login-username-id", SUPERUSER[0])
    page.fill("#pf-login-password-id", SUPERUSER[1])
    page.click("button[type=submit]")
    page.click("text=New and Existing Analyses")
    expect(page.get_by_role("button", name="Create Feed")).to_be_visible()
    browser.shot("same-origin-feeds")

    api_calls = []
    page.on("request", lambda request: api_calls.append(request.url))
    page.reload()
    expect(page.get_by_role("button", name="Create Feed")).to_be_visible()
    assert any(url.startswith(f"{site}/api/v1/") for url in api_calls), api_calls
    assert browser.watcher.problems == []
