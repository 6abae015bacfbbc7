"""Fixtures that run localcompute as a real subprocess on an ephemeral port.

Django-free: run with ``pytest -p no:django --confcutdir=tests/localcompute tests/localcompute``.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.localcompute.support import (
    HELPER_IMAGE,
    HELPER_SOURCE,
    INSTALL_SCRIPT,
    REPO_ROOT,
    LocalCompute,
    kill_leftover_jobs,
)


@pytest.fixture(scope="session")
def catalogue_path(tmp_path_factory) -> Path:
    """Built-in plugins installed once (venv cached in .venvs/plugins) plus the test helper."""
    venv = Path(os.environ.get("LOCALCOMPUTE_TEST_PLUGINS_VENV", REPO_ROOT / ".venvs" / "plugins"))
    out_dir = tmp_path_factory.mktemp("plugins")
    subprocess.run(["bash", str(INSTALL_SCRIPT), str(venv), str(out_dir)], check=True)
    catalogue = json.loads((out_dir / "catalogue.json").read_text())

    bin_dir = tmp_path_factory.mktemp("helper-bin")
    helper = bin_dir / "testhelper"
    helper.write_text(f"#!{sys.executable}\n" + HELPER_SOURCE.read_text())
    helper.chmod(0o755)
    catalogue["plugins"].append(
        {
            "image": HELPER_IMAGE,
            "name": "pl-testhelper",
            "version": "1.0",
            "selfexec": "testhelper",
            "executable": str(helper),
        }
    )
    path = out_dir / "test-catalogue.json"
    path.write_text(json.dumps(catalogue))
    return path


@pytest.fixture(scope="session")
def builtin_descriptors(catalogue_path) -> dict[str, dict]:
    return {
        path.stem: json.loads(path.read_text()) for path in catalogue_path.parent.glob("pl-*.json")
    }


@pytest.fixture
def localcompute_factory(tmp_path, catalogue_path) -> Iterator:
    started: list[LocalCompute] = []

    def make(mode: str = "fslink", name: str = "lc", **extra_env: str) -> LocalCompute:
        server = LocalCompute(tmp_path / name, catalogue_path, mode, extra_env)
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.stop()
        kill_leftover_jobs(server)


def _shared_server(tmp_path_factory, catalogue_path, mode: str, **extra_env: str):
    root = tmp_path_factory.mktemp(f"lc-{mode}")
    server = LocalCompute(root, catalogue_path, mode, extra_env).start()
    yield server
    server.stop()
    kill_leftover_jobs(server)


@pytest.fixture(scope="session")
def fslink(tmp_path_factory, catalogue_path) -> Iterator[LocalCompute]:
    yield from _shared_server(
        tmp_path_factory,
        catalogue_path,
        "fslink",
        LOCALCOMPUTE_MAX_CPU_SECONDS="600",
        LOCALCOMPUTE_MAX_FILE_MIB="64",
    )


@pytest.fixture(scope="session")
def zipfile_server(tmp_path_factory, catalogue_path) -> Iterator[LocalCompute]:
    yield from _shared_server(tmp_path_factory, catalogue_path, "zipfile")
