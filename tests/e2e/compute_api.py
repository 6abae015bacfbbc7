"""Calls to a stack's localcompute as an attacker who found its port would make them."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import requests

from tests.e2e.stack import compute_credentials

# The built-in key localcompute had before credentials were made per installation.
OLD_DEFAULT_SECRET = "localcompute-dev-secret-key-change-me"
# Storage paths that leave storage or climb out of it: (input_dirs, output_dir).
PATHS_OUTSIDE_STORAGE = [
    (["/etc"], "alice/feed_9/x/data"),
    (["bobby/../../../etc"], "alice/feed_9/x/data"),
    (["alice/uploads"], "/tmp/out"),
    (["alice/uploads"], "alice/../../outside"),
]


def forged_token() -> str:
    claims = {"pfcon_user": "pfcon", "exp": datetime.now(UTC) + timedelta(days=1)}
    return jwt.encode(claims, OLD_DEFAULT_SECRET, "HS256")


class ComputeApi:
    """The compute API of a stack whose launcher wrote ``var_dir/localcompute.env``."""

    def __init__(self, port: int | str, var_dir: Path):
        self.url = f"http://127.0.0.1:{port}/api/v1/"
        self.var_dir = var_dir

    def token(self) -> str:
        user, password = compute_credentials(self.var_dir)
        response = requests.post(
            f"{self.url}auth-token/",
            json={"pfcon_user": user, "pfcon_password": password},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def copy(self, token: str, input_dirs: list[str], output_dir: str) -> requests.Response:
        return requests.post(
            f"{self.url}copyjobs/",
            data={"jid": "attack", "input_dirs": input_dirs, "output_dir": output_dir},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
