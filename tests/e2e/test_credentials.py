"""The embedded launcher gives localcompute random credentials, and CUBE the same ones.

localcompute has no built-in login any more: run-embedded.sh creates
``$CUBE_VAR_DIR/localcompute.env`` (0600) on first start, keeps it on later starts, and
setup_compute registers (or updates) the compute resource "host" with its user and password.
"""

import contextlib
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.stack import EMBEDDED_SCRIPT, Stack, compute_credentials, start_stack, stop_stack

pytestmark = pytest.mark.e2e


@contextlib.contextmanager
def embedded_stack(var_dir: Path, extra_env: dict[str, str]) -> Iterator[Stack]:
    """Unlike running_stack, a stack that does not start fails the test: that is the check."""
    stack = start_stack(EMBEDDED_SCRIPT, var_dir, extra_env)
    try:
        yield stack
    finally:
        stop_stack(stack)


def auth_token_status(stack: Stack, user: str, password: str) -> int:
    url = f"http://127.0.0.1:{stack.env['LOCALCOMPUTE_PORT']}/api/v1/auth-token/"
    response = requests.post(url, json={"pfcon_user": user, "pfcon_password": password}, timeout=10)
    return response.status_code


def test_localcompute_of_the_stack_takes_only_the_var_dirs_credentials(
    live_stack_details, live_compute_credentials
):
    path = live_stack_details.var_dir / "localcompute.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert auth_token_status(live_stack_details, *live_compute_credentials) == 200
    assert auth_token_status(live_stack_details, "pfcon", "pfcon1234") == 400
    assert auth_token_status(live_stack_details, live_compute_credentials[0], "pfcon1234") == 400


def test_a_restart_keeps_the_credentials_and_new_ones_reach_cube(live_stack_details, tmp_path):
    # The web process runs `setup_compute --wait 60 && exec gunicorn`, and setup_compute
    # authenticates against localcompute: the API answers only once "host" holds a login that
    # localcompute accepts.
    var_dir = tmp_path / "var"
    extra_env = {"CUBE_PLUGINS_DIR": live_stack_details.env["CUBE_PLUGINS_DIR"]}
    path = var_dir / "localcompute.env"
    with embedded_stack(var_dir, extra_env):
        first = path.read_bytes()
        first_credentials = compute_credentials(var_dir)
    with embedded_stack(var_dir, extra_env) as stack:
        assert path.read_bytes() == first
        assert auth_token_status(stack, *first_credentials) == 200
    path.unlink()  # as if the var dir were kept but the credentials lost
    with embedded_stack(var_dir, extra_env) as stack:
        new_credentials = compute_credentials(var_dir)
        assert new_credentials != first_credentials
        assert auth_token_status(stack, *new_credentials) == 200
        assert auth_token_status(stack, *first_credentials) == 400
        computes = requests.get(
            f"{stack.url}computeresources/",
            auth=("chris", "chris1234"),
            headers={"Accept": "application/json"},
            timeout=10,
        ).json()
        assert [item["name"] for item in computes["results"]] == ["host"]
