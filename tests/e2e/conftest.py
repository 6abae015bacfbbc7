"""The live embedded stack (shared with tests/clients) and the seed's real tools."""

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
def pfurl() -> Path:
    """The seed's pfurl command, installed unmodified in .venvs/pfurl."""
    return tool_venv("pfurl", "pfurl==2.3.0.1") / "bin" / "pfurl"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    attach_stack_log(item, outcome.get_result())
