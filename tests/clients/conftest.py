"""Upstream ChRIS clients against the live embedded stack shared with tests/e2e."""

from pathlib import Path

import pytest

from tests.e2e.stack import (  # noqa: F401  (shared stack)
    attach_stack_log,
    live_compute_credentials,
    live_stack,
    live_stack_details,
)
from tests.e2e.tools import tool_venv


@pytest.fixture(scope="session")
def caw_python() -> Path:
    """Python of .venvs/caw, where caw 0.8.0 (module ``chris``) keeps its old pyserde."""
    return tool_venv("caw", "caw==0.8.0") / "bin" / "python"


@pytest.fixture(scope="session")
def chrs_program() -> Path:
    """The chrs 0.3.1 command (a Rust binary on PyPI), installed in .venvs/chrs."""
    return tool_venv("chrs", "chrs==0.3.1") / "bin" / "chrs"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    attach_stack_log(item, outcome.get_result())
