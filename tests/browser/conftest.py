"""Real-browser tests: Debian's chromium, driven by Playwright's Python package, nothing fetched.

Chromium comes from apt (``utils/scripts/ensure-chromium.sh``, run by ``make test``); Playwright
launches it by path and never downloads a browser. Each test gets a fresh profile, watches
every request and console message, and saves a screenshot of each step under the pytest
temporary folder (the path is printed and attached to the report).
"""

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser.static_server import StaticServer
from tests.e2e.stack import (  # noqa: F401  (shared stack)
    REPO_ROOT,
    attach_stack_log,
    live_compute_credentials,
    live_stack,
    live_stack_details,
    unavailable,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
UI_BUILD = REPO_ROOT.parent / "shared" / "clients" / "chris_ui-v5" / "dist"
# ChRIS_ui loads the XTK viewer from an internet CDN; the app does not depend on it.
CDN_SCRIPTS = ("https://get.goxtk.com/xtk_edge.js", "https://get.goxtk.com/xtk_xdat.gui.js")


@dataclass
class Watcher:
    """What went wrong in the page: failed API requests and console errors."""

    api_prefixes: tuple[str, ...]
    problems: list[str] = field(default_factory=list)

    def on_response(self, response) -> None:
        if response.url.startswith(self.api_prefixes) and response.status >= 400:
            method = response.request.method
            self.problems.append(f"HTTP {response.status} {method} {response.url}")

    def on_request_failed(self, request) -> None:
        if request.url not in CDN_SCRIPTS:
            self.problems.append(
                f"request failed: {request.method} {request.url} {request.failure}"
            )

    def on_console(self, message) -> None:
        if message.type == "error" and message.location.get("url") not in CDN_SCRIPTS:
            self.problems.append(f"console error: {message.text} @ {message.location}")

    def on_page_error(self, error) -> None:
        self.problems.append(f"page error: {error}")


class Browser:
    """One page of a fresh Chromium profile, with its watcher and numbered screenshots."""

    def __init__(self, context, watcher: Watcher, screenshots: Path):
        self.context, self.watcher, self.screenshots = context, watcher, screenshots
        self.page = context.new_page()
        self.page.set_default_timeout(30_000)
        self.page.on("response", watcher.on_response)
        self.page.on("requestfailed", watcher.on_request_failed)
        self.page.on("console", watcher.on_console)
        self.page.on("pageerror", watcher.on_page_error)
        # Never reach for the internet: the CDN scripts fail at once, as offline.
        self.page.route(re.compile(r"^https://get\.goxtk\.com/"), lambda route: route.abort())
        self.steps = 0

    def shot(self, name: str) -> Path:
        """Save a screenshot of the current page as the next numbered step."""
        self.steps += 1
        path = self.screenshots / f"{self.steps:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def playwright_driver() -> Iterator:
    """Playwright's driver, with /usr/bin/chromium (Debian's) as the browser.

    Per test: while it runs, its event loop is the thread's, and later tests that call
    asyncio.run() (aiochris) must not find one.
    """
    if not CHROMIUM.is_file():
        unavailable(f"{CHROMIUM} is missing: run utils/scripts/ensure-chromium.sh (make test does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright's Python package is missing (requirements-dev.txt)")
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def screenshots(request, tmp_path_factory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "screenshots" / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    return folder


@pytest.fixture
def browser_for(playwright_driver, tmp_path, screenshots) -> Iterator:
    """Opens a Browser watching requests to the given URL prefixes; closed at the end."""
    contexts = []

    def open_browser(*api_prefixes: str) -> Browser:
        profile = tmp_path / f"profile-{len(contexts)}"
        context = playwright_driver.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900},
            accept_downloads=True,
        )
        contexts.append(context)
        return Browser(context, Watcher(api_prefixes), screenshots)

    yield open_browser
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def chris_ui(live_stack, tmp_path_factory) -> Iterator[str]:  # noqa: F811
    """ChRIS_ui served from its own origin, its baked backend URL pointed at the live stack."""
    if not (UI_BUILD / "index.html").is_file():
        unavailable(f"no ChRIS_ui build at {UI_BUILD}")
    target = tmp_path_factory.mktemp("chris_ui") / "dist"
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "utils" / "scripts" / "prepare_ui.py"),
         str(UI_BUILD), str(target), live_stack],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with StaticServer(target) as server:
        yield server.url
    shutil.rmtree(target, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    attach_stack_log(item, outcome.get_result())
