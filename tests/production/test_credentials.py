"""run-production.sh keeps every secret it writes readable by its user only, and its
localcompute trusts no forged token and no path outside storage."""

import stat

import pytest
import requests

from tests.e2e.compute_api import PATHS_OUTSIDE_STORAGE, ComputeApi, forged_token
from tests.e2e.stack import compute_credentials

pytestmark = pytest.mark.integration


def test_launcher_files_are_private_and_production_env_holds_no_compute_password(
    production_stack_factory,
):
    stack = production_stack_factory(("web", "localcompute"))
    credentials = stack.var_dir / "localcompute.env"
    production_env = stack.var_dir / "production.env"
    for path in (credentials, production_env):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    user, password = compute_credentials(stack.var_dir)
    text = production_env.read_text()
    assert password not in text
    assert "LOCALCOMPUTE_SECRET_KEY" not in text and "COMPUTE_PASSWORD=" not in text

    auth_url = f"http://127.0.0.1:{stack.env['LOCALCOMPUTE_PORT']}/api/v1/auth-token/"
    accepted = requests.post(
        auth_url, json={"pfcon_user": user, "pfcon_password": password}, timeout=10
    )
    assert accepted.status_code == 200, accepted.text
    refused = requests.post(
        auth_url, json={"pfcon_user": "pfcon", "pfcon_password": "pfcon1234"}, timeout=10
    )
    assert refused.status_code == 400


def test_the_compute_api_refuses_forged_tokens_and_paths_outside_storage(
    production_stack_factory,
):
    stack = production_stack_factory(("web", "localcompute"))
    compute = ComputeApi(stack.env["LOCALCOMPUTE_PORT"], stack.var_dir)
    forged = compute.copy(forged_token(), ["bobby/uploads"], "alice/feed_9/x/data")
    assert forged.status_code == 401
    token = compute.token()
    for input_dirs, output_dir in PATHS_OUTSIDE_STORAGE:
        response = compute.copy(token, input_dirs, output_dir)
        assert response.status_code == 400, (input_dirs, output_dir, response.text)
