"""An ordinary API user of a live stack, for the end-to-end tests."""

import time

import requests

from tests.e2e.stack import Stack

FINAL = {"finishedSuccessfully", "finishedWithError", "cancelled"}


class User:
    """One API user: a JSON session with Basic auth."""

    def __init__(self, stack: Stack, username: str):
        self.stack = stack
        self.username = username
        self.session = requests.Session()
        self.session.auth = (username, f"{username}-password-1234")
        self.session.headers["Accept"] = "application/json"
        response = requests.post(
            f"{stack.url}users/",
            json={
                "username": username,
                "password": self.session.auth[1],
                "email": f"{username}@example.org",
            },
            headers={"Accept": "application/json"},
            timeout=30,
        )
        assert response.status_code == 201, response.text

    def upload(self, relative: str, content: bytes) -> requests.Response:
        return self.session.post(
            f"{self.stack.url}uploadedfiles/",
            data={"upload_path": f"{self.username}/uploads/{relative}"},
            files={"fname": (relative.rsplit("/", 1)[-1], content)},
            timeout=30,
        )

    def start(self, plugin: str, **parameters) -> str:
        """Create an instance of a plugin; return its URL."""
        found = self.session.get(
            f"{self.stack.url}plugins/search/", params={"name_exact": plugin}, timeout=30
        ).json()["results"]
        assert found, f"{plugin} is not registered"
        response = self.session.post(
            f"{self.stack.url}plugins/{found[0]['id']}/instances/", json=parameters, timeout=30
        )
        assert response.status_code == 201, response.text
        return response.json()["url"]

    def wait(self, url: str, timeout: float = 120) -> dict:
        """Poll an instance until it ends; return it."""
        deadline = time.monotonic() + timeout
        while True:
            instance = self.session.get(url, timeout=30).json()
            if instance["status"] in FINAL:
                return instance
            assert time.monotonic() < deadline, f"{url} did not finish: {instance}"
            time.sleep(0.3)

    def run(self, plugin: str, **parameters) -> dict:
        """Run a plugin to the end; return the instance."""
        return self.wait(self.start(plugin, **parameters))

    def files(self, instance: dict) -> dict[str, bytes]:
        """Every file the instance registered, by path relative to its output, with its bytes."""
        listing = self.session.get(instance["files"], params={"limit": 1000}, timeout=30).json()
        output = f"{instance['output_path']}/"
        files = {}
        for item in listing["results"]:
            assert item["fname"].startswith(output), item["fname"]
            download = self.session.get(item["file_resource"], timeout=30)
            assert download.status_code == 200
            files[item["fname"][len(output) :]] = download.content
        return files
