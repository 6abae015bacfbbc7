"""Plugins people run, on the live embedded stack: one installed from a folder with
``manage.py install_plugin``, and the built-in "DICOM to images" pipeline on SAG-anon.
"""

import json
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.e2e.stack import REPO_ROOT, SUPERUSER, Stack

pytestmark = pytest.mark.e2e

SAG_ANON = REPO_ROOT.parent / "shared" / "data" / "SAG-anon"
FINAL = {"finishedSuccessfully", "finishedWithError", "cancelled"}

GREETER_SETUP = """\
from setuptools import setup

setup(
    name="pl-e2e-greeter",
    version="0.3.0",
    description="Greets, slowly, into its output folder",
    author="CUBE tests",
    author_email="tests@example.org",
    url="https://example.org/pl-e2e-greeter",
    license="MIT",
    py_modules=["greeter"],
    install_requires=["chris-plugin==0.4.0"],
    entry_points={"console_scripts": ["greeter = greeter:main"]},
)
"""
GREETER_SOURCE = """\
import time
from argparse import ArgumentParser
from pathlib import Path

from chris_plugin import chris_plugin

parser = ArgumentParser(description="Greets, slowly")
parser.add_argument("--name", default="world", help="who to greet")
parser.add_argument("--steps", type=int, default=3, help="how many greetings")


@chris_plugin(parser=parser, title="Greeter", category="test", min_memory_limit="100Mi")
def main(options, outputdir: Path):
    for step in range(options.steps):
        # Not flushed: the job log must show it while the plugin runs all the same.
        print(f"greeting step {step} of {options.steps}")
        time.sleep(0.25)
    (outputdir / "greeting.txt").write_text(f"hello {options.name}\\n")
    (outputdir / "steps").mkdir()
    for step in range(options.steps):
        (outputdir / "steps" / f"{step}.txt").write_text("x" * (step + 1))
"""


class Api:
    """The superuser's JSON session on the stack."""

    def __init__(self, stack: Stack):
        self.url = stack.url
        self.session = requests.Session()
        self.session.auth = SUPERUSER
        self.session.headers["Accept"] = "application/json"

    def get(self, url: str, **params) -> dict:
        response = self.session.get(url, params=params, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, url: str, body: dict) -> dict:
        response = self.session.post(url, json=body, timeout=60)
        assert response.status_code == 201, response.text
        return response.json()

    def plugin(self, name: str) -> dict | None:
        found = self.get(f"{self.url}plugins/search/", name_exact=name)["results"]
        return found[0] if found else None

    def run(self, plugin: dict, **parameters) -> dict:
        return self.post(f"{self.url}plugins/{plugin['id']}/instances/", parameters)

    def wait(self, instance: dict, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while (instance := self.get(instance["url"]))["status"] not in FINAL:
            assert time.monotonic() < deadline, f"instance did not finish: {instance}"
            time.sleep(0.3)
        return instance

    def files(self, instance: dict) -> list[dict]:
        listing = self.get(instance["files"], limit=1000)
        assert listing["count"] == len(listing["results"])
        return listing["results"]

    def download(self, item: dict) -> bytes:
        response = self.session.get(item["file_resource"], timeout=60)
        assert response.status_code == 200
        return response.content


def manage(stack: Stack, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """``manage.py`` against the stack's database, plugin folder and catalogue."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env={
            **stack.env,
            "LOCALCOMPUTE_PLUGINS": f"{stack.env['CUBE_PLUGINS_DIR']}/catalogue.json",
        },
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def catalogue_images(stack: Stack) -> set[str]:
    path = Path(stack.env["CUBE_PLUGINS_DIR"]) / "catalogue.json"
    return {entry["image"] for entry in json.loads(path.read_text())["plugins"]}


def test_install_run_and_uninstall_a_plugin_from_a_folder(live_stack_details, tmp_path):
    stack = live_stack_details
    api = Api(stack)
    source = tmp_path / "pl-e2e-greeter"
    source.mkdir()
    (source / "setup.py").write_text(GREETER_SETUP)
    (source / "greeter.py").write_text(GREETER_SOURCE)

    installed = manage(stack, "install_plugin", str(source))
    assert installed.returncode == 0, installed.stderr
    assert "installed pl-e2e-greeter 0.3.0" in installed.stdout
    assert "creating the virtualenv" in installed.stdout  # progress
    again = manage(stack, "install_plugin", str(source))
    assert again.returncode == 0, again.stderr
    assert "already installed: pl-e2e-greeter 0.3.0" in again.stdout
    assert "local/pl-e2e-greeter:0.3.0" in catalogue_images(stack)

    plugin = api.plugin("pl-e2e-greeter")
    assert plugin is not None
    assert (plugin["version"], plugin["dock_image"], plugin["type"]) == (
        "0.3.0", "local/pl-e2e-greeter:0.3.0", "fs",
    )  # fmt: skip
    instance = api.run(plugin, name="cube", steps=12)

    # While it runs, the summary carries the job log's tail, refreshed.
    deadline = time.monotonic() + 60
    seen_running = None
    while time.monotonic() < deadline:
        current = api.get(instance["url"])
        if current["status"] in FINAL:
            break
        if current["status"] == "started" and current["summary"]:
            logs = json.loads(current["summary"])["compute"]["return"]["job_logs"]
            if seen_running is None and "greeting step 2 of 12" in logs:
                seen_running = logs
        time.sleep(0.2)
    assert seen_running is not None, "the log never showed while the plugin ran"
    assert "greeting step 11 of 12" not in seen_running

    final = api.wait(instance)
    assert final["status"] == "finishedSuccessfully", final["summary"]
    # Size and files are right as soon as the status says finished.
    files = api.files(final)
    names = {item["fname"].rsplit("/data/", 1)[1] for item in files}
    assert names == {"greeting.txt", *(f"steps/{n}.txt" for n in range(12))}
    assert final["size"] == sum(item["fsize"] for item in files) == 11 + sum(range(1, 13))
    greeting = next(item for item in files if item["fname"].endswith("greeting.txt"))
    assert api.download(greeting) == b"hello cube\n"
    logs = json.loads(final["summary"])["compute"]["return"]["job_logs"]
    assert "greeting step 11 of 12" in logs

    # Its feed gone, nothing refers to the plugin any more: uninstalling removes it all
    # (tests/plugins/test_installation.py covers a plugin kept for its past instances).
    assert api.session.delete(final["feed"], timeout=30).status_code == 204
    removed = manage(stack, "uninstall_plugin", "pl-e2e-greeter")
    assert removed.returncode == 0, removed.stderr
    assert "deleting pl-e2e-greeter 0.3.0 from CUBE" in removed.stdout
    assert "local/pl-e2e-greeter:0.3.0" not in catalogue_images(stack)
    assert not (Path(stack.env["CUBE_PLUGINS_DIR"]) / "venvs" / "pl-e2e-greeter-0.3.0").exists()
    assert api.plugin("pl-e2e-greeter") is None
    again = manage(stack, "uninstall_plugin", "pl-e2e-greeter")
    assert again.returncode != 0
    assert "was not installed with install_plugin" in again.stderr


@pytest.fixture(scope="module")
def sag_anon_feed(live_stack_details) -> dict:
    """SAG-anon uploaded by the superuser and brought into a feed by pl-dircopy."""
    api = Api(live_stack_details)
    files = sorted(SAG_ANON.glob("*.dcm"))
    assert len(files) == 192, f"SAG-anon is missing from {SAG_ANON}"
    folder = "chris/uploads/e2e-imaging/SAG-anon"
    for path in files:
        response = api.session.post(
            f"{api.url}uploadedfiles/",
            data={"upload_path": f"{folder}/{path.name}"},
            files={"fname": (path.name, path.read_bytes())},
            timeout=60,
        )
        assert response.status_code == 201, response.text
    dircopy = api.wait(api.run(api.plugin("pl-dircopy"), dir=folder))
    assert dircopy["status"] == "finishedSuccessfully", dircopy["summary"]
    return dircopy


def test_dicom_to_images_pipeline_on_sag_anon(live_stack_details, sag_anon_feed):
    api = Api(live_stack_details)
    deadline = time.monotonic() + 60
    while not (found := api.get(f"{api.url}pipelines/search/", name="DICOM to images")["results"]):
        assert time.monotonic() < deadline, "the built-in pipeline was never registered"
        time.sleep(0.5)
    pipeline = found[0]
    workflow = api.post(
        pipeline["workflows"], {"previous_plugin_inst_id": sag_anon_feed["id"], "title": "e2e"}
    )
    members = api.get(workflow["plugin_instances"], limit=10)["results"]
    by_title = {member["title"]: api.wait(member, timeout=300) for member in members}
    assert set(by_title) == {"unstack", "dicom-headers", "png-slices"}
    for title, instance in by_title.items():
        assert instance["status"] == "finishedSuccessfully", (title, instance["summary"])

    slices = api.files(by_title["png-slices"])
    names = sorted(item["fname"].rsplit("/", 1)[1] for item in slices)
    assert names == [f"SAG_MPRAGE_220_FOV-slice{n:03d}.png" for n in range(192)]
    for item in (slices[0], slices[96], slices[-1]):
        with Image.open(BytesIO(api.download(item))) as picture:
            picture.load()
            assert (picture.format, picture.size) == ("PNG", (256, 256))
            low, high = picture.convert("L").getextrema()
            assert high - low > 100

    reports = {
        item["fname"].rsplit("/", 1)[1]: item for item in api.files(by_title["dicom-headers"])
    }
    assert {"1449c1d-SAG-MPRAGE-220-FOV.json", "index.html", "SAG-MPRAGE-220-FOV.jpg"} <= set(
        reports
    )
    tags = json.loads(api.download(reports["1449c1d-SAG-MPRAGE-220-FOV.json"]))
    assert tags["SeriesDescription"] == "SAG MPRAGE 220 FOV"
    assert tags["PatientID"] == "1449c1d"
    assert "SAG MPRAGE 220 FOV" in api.download(reports["index.html"]).decode()


def test_tag_extract_reports_on_a_dircopy_feed_directly(live_stack_details, sag_anon_feed):
    """pl-pfdicom_tagExtract walks its input tree: pl-dircopy's nested folders need no help."""
    api = Api(live_stack_details)
    report = api.wait(
        api.run(
            api.plugin("pl-pfdicom_tagExtract"),
            previous_id=sag_anon_feed["id"],
            outputFileStem="%PatientID-%ProtocolName",
            outputFileType="json",
        )
    )
    assert report["status"] == "finishedSuccessfully", report["summary"]
    (item,) = api.files(report)
    # pftree recreates the input path under the output: share/incoming/<dircopy's folders>/.
    folders = "share/incoming/chris_uploads_e2e-imaging_SAG-anon/e2e-imaging/SAG-anon"
    assert item["fname"].endswith(f"/{folders}/1449c1d-SAG MPRAGE 220 FOV.json")
    assert json.loads(api.download(item))["SeriesDescription"] == "SAG MPRAGE 220 FOV"
