"""Attacks by an ordinary user on the plugin layer, through the real API, the real
localcompute and the real plugins: each must fail for the attacker.

alice is the attacker and bobby the victim. Every test checks the victim's bytes and, where
the attack writes, that nothing in storage or in the plugin runtime changed outside the
attacker's new output folders.
"""

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.e2e.api_user import FINAL, User
from tests.e2e.compute_api import PATHS_OUTSIDE_STORAGE, ComputeApi, forged_token
from tests.e2e.stack import (
    EMBEDDED_SCRIPT,
    PLUGINS_VENV,
    Stack,
    install_builtin_plugins,
    running_stack,
)

pytestmark = pytest.mark.e2e

PROBE_SOURCE = Path(__file__).with_name("escapeprobe.py")
PROBE_IMAGE = "local/pl-escapeprobe:1.0"
BOB_SECRET = b"bobby's private bytes\n"


def install_probe(plugins_dir: Path, bin_dir: Path) -> None:
    """Add the escape probe to CUBE's plugin descriptors and localcompute's catalogue."""
    executable = bin_dir / "escapeprobe"
    executable.write_text(f"#!{sys.executable}\n" + PROBE_SOURCE.read_text())
    executable.chmod(0o755)
    descriptor = {
        "name": "pl-escapeprobe",
        "dock_image": PROBE_IMAGE,
        "public_repo": "https://example.org/pl-escapeprobe",
        "type": "ds",
        "icon": "",
        "authors": "tests",
        "title": "Tries to leave its sandbox",
        "category": "test",
        "description": "A hostile plugin",
        "documentation": "",
        "license": "MIT",
        "version": "1.0",
        "selfpath": str(bin_dir),
        "selfexec": "escapeprobe",
        "execshell": sys.executable,
        "min_number_of_workers": 1,
        "max_number_of_workers": 1,
        "min_memory_limit": "",
        "max_memory_limit": "",
        "min_cpu_limit": "",
        "max_cpu_limit": "",
        "min_gpu_limit": 0,
        "max_gpu_limit": 0,
        "parameters": [
            {
                "name": name,
                "type": "str",
                "optional": True,
                "flag": f"--{name}",
                "short_flag": f"--{name}",
                "action": "store",
                "help": name,
                "default": "",
                "ui_exposed": True,
            }
            for name in ("targets", "ports")
        ],
    }
    (plugins_dir / "pl-escapeprobe.json").write_text(json.dumps(descriptor))
    catalogue_path = plugins_dir / "catalogue.json"
    catalogue = json.loads(catalogue_path.read_text())
    catalogue["plugins"].append(
        {
            "image": PROBE_IMAGE,
            "name": "pl-escapeprobe",
            "version": "1.0",
            "selfexec": "escapeprobe",
            "executable": str(executable),
        }
    )
    catalogue_path.write_text(json.dumps(catalogue))


def snapshot(*roots: Path) -> dict[str, str]:
    """Digest and mtime of every file under the roots, symlinks included by their target."""
    state = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_symlink():
                state[str(path)] = f"-> {path.readlink()}"
            elif path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                state[str(path)] = f"{digest} {path.stat().st_mtime_ns}"
    return state


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    plugins_dir = install_builtin_plugins(tmp_path_factory.mktemp("plugins"))
    install_probe(plugins_dir, tmp_path_factory.mktemp("probe-bin"))
    with running_stack(
        EMBEDDED_SCRIPT,
        tmp_path_factory.mktemp("confinement-var"),
        {"CUBE_PLUGINS_DIR": str(plugins_dir)},
    ) as started:
        yield started


@pytest.fixture(scope="module")
def users(stack) -> tuple[User, User]:
    alice, bobby = User(stack, "alice"), User(stack, "bobby")
    assert alice.upload("data/a.txt", b"alice's data\n").status_code == 201
    assert bobby.upload("private/secret.txt", BOB_SECRET).status_code == 201
    return alice, bobby


def storage_of(stack: Stack) -> Path:
    return stack.var_dir / "storage"


def assert_bobby_untouched(stack: Stack) -> None:
    private = storage_of(stack) / "bobby" / "uploads" / "private"
    assert sorted(path.name for path in private.iterdir()) == ["secret.txt"]
    assert (private / "secret.txt").read_bytes() == BOB_SECRET


def test_a_user_cannot_upload_a_link_file(stack, users):
    alice, _bobby = users
    response = alice.upload("lnk/x.chrislink", b"bobby/uploads")
    assert response.status_code == 400
    assert not (storage_of(stack) / "alice" / "uploads" / "lnk").exists()


def test_a_link_left_in_storage_does_not_expose_another_users_files(stack, users):
    alice, _bobby = users
    # As if a link file had reached alice's uploads before links were refused.
    planted = storage_of(stack) / "alice" / "uploads" / "lnk"
    planted.mkdir(parents=True)
    (planted / "x.chrislink").write_text("bobby/uploads")
    (planted / "mine.txt").write_text("alice's own\n")

    dircopy = alice.run("pl-dircopy", dir="alice/uploads/lnk")
    assert dircopy["status"] == "finishedSuccessfully"
    copied = alice.run("pl-simpledsapp", previous_id=dircopy["id"])
    assert copied["status"] == "finishedSuccessfully"
    seen = {**alice.files(dircopy), **alice.files(copied)}
    assert seen, "the chain produced no files"
    assert not [name for name in seen if "secret" in name or "chrislink" in name]
    assert BOB_SECRET not in seen.values()
    assert_bobby_untouched(stack)


def test_output_names_cannot_climb_out_of_the_output_folder(stack, users):
    alice, _bobby = users
    dircopy = alice.run("pl-dircopy", dir="alice/uploads/data")
    assert dircopy["status"] == "finishedSuccessfully"
    watched = (storage_of(stack), PLUGINS_VENV / "bin")
    before = snapshot(*watched)

    attack = alice.run(
        "pl-simpledsapp",
        previous_id=dircopy["id"],
        prefix="../../../../../../../bobby/uploads/private/",
    )
    assert attack["status"] in FINAL
    output = storage_of(stack) / attack["output_path"]
    assert {
        path for path in changed(before, snapshot(*watched)) if output not in Path(path).parents
    } == set()
    assert_bobby_untouched(stack)


def test_a_hostile_plugin_sees_only_its_inputs_and_outputs(stack, users):
    alice, _bobby = users
    dircopy = alice.run("pl-dircopy", dir="alice/uploads/data")
    var_dir = stack.var_dir
    targets = [
        storage_of(stack) / "bobby" / "uploads",
        storage_of(stack),
        var_dir / "db.sqlite3",
        var_dir / "localcompute.env",
        var_dir / "localcompute" / "state.sqlite3",
        PLUGINS_VENV / "bin" / "simplefsapp",
    ]
    ports = [stack.port, int(stack.env["LOCALCOMPUTE_PORT"])]
    watched = (storage_of(stack), PLUGINS_VENV / "bin")
    before = snapshot(*watched)

    probe = alice.run(
        "pl-escapeprobe",
        previous_id=dircopy["id"],
        targets=",".join(str(target) for target in targets),
        ports=",".join(str(port) for port in ports),
    )
    assert probe["status"] == "finishedSuccessfully", probe
    files = alice.files(probe)
    report = json.loads(files.pop("report.json"))
    attempts = {key: value for key, value in report.items() if key not in ("processes seen", "etc")}
    assert len(attempts) == 8 + 2 * len(targets) + len(ports)
    allowed = {key: value for key, value in attempts.items() if not value.startswith("denied")}
    assert allowed == {}
    assert int(report["processes seen"]) <= 3  # its own pid namespace
    assert "shadow" not in report["etc"].split(",")
    # What a plugin may not bring into storage was dropped, and said so in its logs.
    assert files == {}
    output = storage_of(stack) / probe["output_path"]
    assert sorted(path.name for path in output.iterdir()) == ["report.json"]
    logs = json.loads(probe["summary"])["compute"]["return"]["job_logs"]
    assert logs.count("dropped from the outputs") == 3
    assert {
        path for path in changed(before, snapshot(*watched)) if output not in Path(path).parents
    } == set()
    assert_bobby_untouched(stack)


def compute_api(stack: Stack) -> ComputeApi:
    return ComputeApi(stack.env["LOCALCOMPUTE_PORT"], stack.var_dir)


def test_a_forged_compute_token_is_refused(stack):
    response = compute_api(stack).copy(forged_token(), ["bobby/uploads"], "alice/feed_9/x/data")
    assert response.status_code == 401


@pytest.mark.parametrize(("input_dirs", "output_dir"), PATHS_OUTSIDE_STORAGE)
def test_the_compute_api_refuses_paths_outside_storage(stack, input_dirs, output_dir):
    compute = compute_api(stack)
    response = compute.copy(compute.token(), input_dirs, output_dir)
    assert response.status_code == 400, response.text


def test_a_fresh_database_never_reuses_a_job_of_the_compute_service(tmp_path_factory):
    """The database is recreated while localcompute keeps its state: no manual step needed."""
    plugins_dir = install_builtin_plugins(tmp_path_factory.mktemp("plugins"))
    var_dir = tmp_path_factory.mktemp("reset-var")
    env = {"CUBE_PLUGINS_DIR": str(plugins_dir)}
    runs = []
    for attempt in range(2):
        with running_stack(EMBEDDED_SCRIPT, var_dir, env) as stack:
            alice = User(stack, "alice")
            files = {
                f"series/{number}.dcm": f"slice {number} {attempt}".encode() for number in range(3)
            }
            for relative, content in files.items():
                assert alice.upload(relative, content).status_code == 201
            dircopy = alice.run("pl-dircopy", dir="alice/uploads/series")
            assert dircopy["status"] == "finishedSuccessfully"
            # Only this run's files: nothing left over from a job of the first installation.
            assert sorted(alice.files(dircopy).values()) == sorted(files.values())
            prefix = alice.session.get(f"{stack.url}chrisinstance/1/", timeout=30).json()
            runs.append((dircopy["id"], prefix["job_id_prefix"]))
        # A reinstall that shares the compute service: CUBE's database and storage go,
        # localcompute's jobs and credentials stay.
        (var_dir / "db.sqlite3").unlink()
        for suffix in ("-wal", "-shm"):
            (var_dir / f"db.sqlite3{suffix}").unlink(missing_ok=True)
        shutil.rmtree(var_dir / "storage")
    (first_id, first_prefix), (second_id, second_prefix) = runs
    assert first_id == second_id  # the same instance id ...
    assert first_prefix != second_prefix  # ... but another job
