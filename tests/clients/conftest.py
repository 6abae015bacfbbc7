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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    attach_stack_log(item, outcome.get_result())
