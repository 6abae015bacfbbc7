"""A thin HTTP client for the endpoints the benchmarks use."""

import posixpath
import threading
from typing import BinaryIO

import requests
from requests_toolbelt import MultipartEncoder

JSON = {"Accept": "application/json"}
TIMEOUT = 600


class ApiError(RuntimeError):
    pass


def check(response: requests.Response, *expected: int) -> requests.Response:
    if response.status_code not in (expected or (200,)):
        raise ApiError(
            f"{response.request.method} {response.url}: HTTP {response.status_code} "
            f"{response.text[:300]}"
        )
    return response


class Api:
    """One user of one stack. ``session()`` gives each thread its own keep-alive session."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url
        self.username = username
        self.password = password
        self.token = ""
        self.user_id = 0
        self._local = threading.local()

    @classmethod
    def register(cls, url: str, username: str, password: str) -> "Api":
        api = cls(url, username, password)
        response = requests.post(
            f"{url}users/",
            json={"username": username, "password": password, "email": f"{username}@bench.local"},
            headers=JSON,
            timeout=TIMEOUT,
        )
        api.user_id = check(response, 201).json()["id"]
        response = requests.post(
            f"{url}auth-token/",
            json={"username": username, "password": password},
            headers=JSON,
            timeout=TIMEOUT,
        )
        api.token = check(response).json()["token"]
        return api

    def new_session(self, *, basic: bool = False) -> requests.Session:
        session = requests.Session()
        session.headers.update(JSON)
        if basic:
            session.auth = (self.username, self.password)
        else:
            session.headers["Authorization"] = f"Token {self.token}"
        return session

    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = self.new_session()
        return self._local.session

    def get(self, path: str, **params) -> dict:
        return check(self.session().get(f"{self.url}{path}", params=params, timeout=TIMEOUT)).json()

    def upload(
        self, upload_path: str, data: BinaryIO, *, session: requests.Session | None = None
    ) -> dict:
        """Upload one file, streamed (requests alone would build the whole body in memory)."""
        body = MultipartEncoder(
            {
                "upload_path": upload_path,
                "fname": (posixpath.basename(upload_path), data, "application/octet-stream"),
            }
        )
        response = (session or self.session()).post(
            f"{self.url}uploadedfiles/",
            data=body,
            headers={"Content-Type": body.content_type},
            timeout=TIMEOUT,
        )
        return check(response, 201).json()

    def download(self, file_resource: str, session: requests.Session | None = None) -> int:
        """Stream a file resource to nowhere; return its size."""
        size = 0
        with (session or self.session()).get(
            file_resource, stream=True, timeout=TIMEOUT
        ) as response:
            check(response)
            for chunk in response.iter_content(1 << 20):
                size += len(chunk)
        return size

    def plugin_id(self, name: str) -> int:
        results = self.get("plugins/search/", name=name)["results"]
        if not results:
            raise ApiError(f"plugin {name} is not registered")
        return results[0]["id"]
