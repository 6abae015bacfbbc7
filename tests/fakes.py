"""Test doubles shared across the test suite (no Django imports here)."""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
import shlex
import threading
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

JOB_KINDS = ("copy", "plugin", "upload", "delete")
ACTIVE_STATUSES = frozenset({"notStarted", "notstarted", "started"})
RESTARTABLE_STATUSES = frozenset({"finishedWithError", "undefined"})
FINISHED_STATUSES = frozenset({"finishedSuccessfully", "finishedWithError"})
OP_IMAGE = "ghcr.io/fnndsc/pfconopjob"
MISSING = "Missing required parameter in the post body"


@dataclass
class RecordedFile:
    """One uploaded file part of a multipart request."""

    filename: str | None
    content_type: str | None
    content: bytes


@dataclass
class RecordedRequest:
    """One request the fake received, as the server saw it."""

    method: str
    path: str
    route: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    form: dict[str, list[str]]
    files: dict[str, RecordedFile]
    json: Any
    body: bytes

    def value(self, name: str) -> str | None:
        """The first form value sent for `name`, or None."""
        values = self.form.get(name)
        return values[0] if values else None

    def __str__(self) -> str:
        return f"{self.method} {self.route}"


@dataclass
class FakeJob:
    """One job in the fake's table; `removed` is set by DELETE."""

    kind: str
    jid: str
    status: str = "notStarted"
    message: str = "created"
    logs: str = ""
    image: str = ""
    cmd: str = ""
    timestamp: str = ""
    form: dict[str, list[str]] = field(default_factory=dict)
    polls: int = 0
    removed: bool = False

    def compute(self, *, with_logs: bool = True) -> dict[str, Any]:
        return {
            "jid": self.jid,
            "image": self.image,
            "cmd": self.cmd,
            "status": self.status,
            "message": self.message,
            "timestamp": self.timestamp,
            "logs": self.logs if with_logs else "",
        }


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    remaining: int
    status: int | None
    delay: float
    body: Any


@dataclass
class _Output:
    files: dict[str, bytes] | None = None
    rel_file_paths: list[str] | None = None
    zip_bytes: bytes | None = None
    written: bool = False

    def listing(self) -> list[str]:
        if self.rel_file_paths is not None:
            return list(self.rel_file_paths)
        return sorted(self.files or {})

    def contents(self) -> dict[str, bytes]:
        if self.files is not None:
            return dict(self.files)
        return {path: b"" for path in self.rel_file_paths or []}

    def zip(self) -> bytes:
        if self.zip_bytes is not None:
            return self.zip_bytes
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, content in self.contents().items():
                archive.writestr(path, content)
        return buffer.getvalue()


class _HttpError(Exception):
    def __init__(self, status: int, message: Any) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message


class FakePfcon:
    """A scripted pfcon v6 server on 127.0.0.1 (ephemeral port) in a background thread.

    Start it as a context manager (`with FakePfcon() as pfcon:`) or with `start()`/`stop()`.

    Wire behaviour, as real pfcon v6:
      * `url` is `http://127.0.0.1:<port>/api/v1/`; `auth_url` is `url + "auth-token/"`.
        `POST auth-token/` takes JSON `{pfcon_user, pfcon_password}` (`USERNAME`/`PASSWORD`,
        pfcon/pfcon1234) and returns `{"token": ...}`; bad credentials give 400.
      * Every route but `auth-token/` and `health/` needs `Authorization: Bearer <token>`
        with a token the fake issued; otherwise 401 `{"message": ...}`.
      * `GET {copy,plugin,upload,delete}jobs/` returns server info. `POST <kind>jobs/`
        (form-encoded; multipart with `data_file` for plugin jobs) creates a job and
        returns 201. `GET <kind>jobs/<jid>/` returns `{"compute": {...}}` (404 if unknown),
        `DELETE <kind>jobs/<jid>/` removes it (204). `GET pluginjobs/<jid>/file/` returns
        `{"job_output_path", "rel_file_paths"}` when in-network with `?job_output_path=`,
        otherwise the output zip.
      * Validation errors are 400 with flask-restful's bundled `{"message": {field: text}}`.
      * POSTs are idempotent per jid: a job that exists and has not failed is returned as is.
      * Ordering guards (409): a plugin POST needs the copy job finishedSuccessfully when
        `requires_copy_job`; an upload POST needs a finished plugin job when
        `requires_upload_job`; a delete POST is refused while a copy, plugin or upload job
        for that jid is notStarted/started. Copy/upload/delete POSTs that the data mode does
        not need finish at once with `copySkipped`/`uploadSkipped`/`deleteSkipped`.

    Configuration (keyword arguments): `innetwork` (default False), `storage_env` (default
    "zipfile" out of network, "fslink" in network), `requires_copy_job` and
    `requires_upload_job` (derived from the mode unless given), `auto_advance` (default
    True: an unscripted notStarted/started job reports finishedSuccessfully on its first
    status poll), `server_version`, `container_env`, and `output_root`: when set, a plugin
    job's outputs are written under `output_root/<output_dir>` when it succeeds (useful
    for in-network filesystem/fslink tests).

    Scripting:
      * `set_status(jid, status, kind="plugin", message=None, logs=None)` pins the status
        every later poll reports (any string: "undefined", "notstarted", ...), creating the
        job if needed; `status=None` unpins it.
      * `set_output(jid, files=None, rel_file_paths=None, zip_bytes=None)` sets the outputs:
        `files` maps relative paths to bytes (feeds both the listing and the zip);
        `zip_bytes` overrides the zip body verbatim (e.g. b"not a zip").
      * `fail_next(route, status, times=1, message=None, body=None)` makes the next `times`
        requests matching `route` answer `status`; `delay_next(route, seconds, times=1)`
        stalls them first (to trigger client timeouts). `route` is "METHOD path" relative
        to /api/v1/, where `*` matches one path segment: "POST pluginjobs/",
        "GET pluginjobs/*/", "GET pluginjobs/*/file/", "* copyjobs/*/".
        Faults apply before the token check and are used up in the order they were added.
      * `expire_tokens()` makes every issued token fail with 401 "Expired authorization token."

    Inspection: `requests` (every `RecordedRequest`, in arrival order, including ones
    that got faults or 401s), `requests_to(route)`, `clear_requests()`, `job(jid, kind)`
    (a `FakeJob`, also after DELETE), `jobs` (all of them) and `issued_tokens`.
    """

    USERNAME = "pfcon"
    PASSWORD = "pfcon1234"

    def __init__(
        self,
        *,
        innetwork: bool = False,
        storage_env: str | None = None,
        requires_copy_job: bool | None = None,
        requires_upload_job: bool | None = None,
        auto_advance: bool = True,
        server_version: str = "6.0.6",
        container_env: str = "docker",
        output_root: str | Path | None = None,
    ) -> None:
        self.innetwork = innetwork
        self.storage_env = storage_env or ("fslink" if innetwork else "zipfile")
        if requires_copy_job is None:
            requires_copy_job = innetwork and self.storage_env in ("fslink", "swift", "s3")
        if requires_upload_job is None:
            requires_upload_job = innetwork and self.storage_env in ("swift", "s3")
        self.requires_copy_job = requires_copy_job
        self.requires_upload_job = requires_upload_job
        self.auto_advance = auto_advance
        self.server_version = server_version
        self.container_env = container_env
        self.output_root = Path(output_root) if output_root is not None else None

        self.requests: list[RecordedRequest] = []
        self.issued_tokens: list[str] = []
        self._valid_tokens: set[str] = set()
        self._expired_tokens: set[str] = set()
        self._jobs: dict[tuple[str, str], FakeJob] = {}
        self._scripted: dict[tuple[str, str], tuple[str, str | None, str | None]] = {}
        self._outputs: dict[str, _Output] = {}
        self._faults: list[_Fault] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> FakePfcon:
        """Start serving in a daemon thread; returns self."""
        if self._server is not None:
            return self
        handler = type("FakePfconHandler", (_Handler,), {"fake": self})
        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="FakePfcon",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakePfcon:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakePfcon is not running; call start() first")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/"

    @property
    def auth_url(self) -> str:
        return self.url + "auth-token/"

    # Scripting

    def set_status(
        self,
        jid: str,
        status: str | None,
        *,
        kind: str = "plugin",
        message: str | None = None,
        logs: str | None = None,
    ) -> None:
        """Pin the status that polls of this job report (None unpins it)."""
        _check_kind(kind)
        with self._lock:
            key = (kind, jid)
            if status is None:
                self._scripted.pop(key, None)
                return
            self._scripted[key] = (status, message, logs)
            job = self._jobs.get(key)
            if job is None or job.removed:
                job = self._jobs[key] = FakeJob(kind=kind, jid=jid, timestamp=_now())
            self._apply_script(job)

    def set_output(
        self,
        jid: str,
        *,
        files: Mapping[str, bytes] | None = None,
        rel_file_paths: Iterable[str] | None = None,
        zip_bytes: bytes | None = None,
    ) -> None:
        """Set a plugin job's outputs for the JSON listing, the zip and `output_root`."""
        with self._lock:
            self._outputs[jid] = _Output(
                files=dict(files) if files is not None else None,
                rel_file_paths=list(rel_file_paths) if rel_file_paths is not None else None,
                zip_bytes=zip_bytes,
            )

    def fail_next(
        self,
        route: str,
        status: int,
        *,
        times: int = 1,
        message: str | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next `times` requests matching `route` with `status`."""
        if body is None:
            body = {"message": message or f"Injected failure ({status})"}
        self._add_fault(route, status=status, delay=0.0, times=times, body=body)

    def delay_next(self, route: str, seconds: float, *, times: int = 1) -> None:
        """Stall the next `times` requests matching `route` for `seconds` before answering."""
        self._add_fault(route, status=None, delay=seconds, times=times, body=None)

    def expire_tokens(self) -> None:
        """Invalidate every issued token, so the next authenticated request gets 401."""
        with self._lock:
            self._expired_tokens |= self._valid_tokens
            self._valid_tokens.clear()

    # Inspection

    def job(self, jid: str, kind: str = "plugin") -> FakeJob | None:
        _check_kind(kind)
        with self._lock:
            return self._jobs.get((kind, jid))

    @property
    def jobs(self) -> list[FakeJob]:
        with self._lock:
            return list(self._jobs.values())

    def requests_to(self, route: str) -> list[RecordedRequest]:
        """Recorded requests matching a "METHOD path" pattern (see `fail_next`)."""
        method, pattern = _compile_route(route)
        with self._lock:
            return [
                request
                for request in self.requests
                if method in ("*", request.method) and pattern.fullmatch(request.route)
            ]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # Request handling (called from server threads)

    def _add_fault(
        self, route: str, *, status: int | None, delay: float, times: int, body: Any
    ) -> None:
        method, pattern = _compile_route(route)
        with self._lock:
            self._faults.append(_Fault(method, pattern, times, status, delay, body))

    def _take_fault(self, method: str, route: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if (
                    fault.remaining > 0
                    and fault.method in ("*", method)
                    and fault.pattern.fullmatch(route)
                ):
                    fault.remaining -= 1
                    return fault
        return None

    def _handle(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        """Return (status, body, extra headers); a bytes body is sent verbatim."""
        with self._lock:
            self.requests.append(request)
        fault = self._take_fault(request.method, request.route)
        if fault is not None:
            if fault.delay:
                self._stopping.wait(fault.delay)
            if fault.status is not None:
                return fault.status, fault.body, {}
        try:
            with self._lock:
                return self._route(request)
        except _HttpError as exc:
            return exc.status, {"message": exc.message}, {}

    def _route(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        method, route = request.method, request.route
        if route == "auth-token/":
            _require_method(method, "POST")
            return 200, {"token": self._login(request)}, {}
        if route == "health/":
            _require_method(method, "GET")
            return 200, {"health": "OK"}, {}
        match = re.fullmatch(r"(copy|plugin|upload|delete)jobs/(?:([^/]+)/(file/)?)?", route)
        if match is None:
            raise _HttpError(
                404,
                "The requested URL was not found on the server. If you entered the URL "
                "manually please check your spelling and try again.",
            )
        self._check_token(request)
        kind, jid, file_part = match.groups()
        if jid is None:
            _require_method(method, "GET", "POST")
            if method == "GET":
                return 200, self.server_info(), {}
            return 201, self._create(kind, request), {}
        if file_part:
            _require_method(method, "GET")
            if kind != "plugin":
                raise _HttpError(404, "Not found")
            return self._file(jid, request)
        _require_method(method, "GET", "DELETE")
        if method == "GET":
            return 200, {"compute": self._poll(kind, jid).compute()}, {}
        job = self._jobs.get((kind, jid))
        if job is not None:
            job.removed = True
        return 204, None, {}

    def server_info(self) -> dict[str, Any]:
        """The body of `GET pluginjobs/` for the current configuration."""
        info: dict[str, Any] = {
            "server_version": self.server_version,
            "pfcon_innetwork": self.innetwork,
            "storage_env": self.storage_env,
            "requires_copy_job": self.requires_copy_job,
            "requires_upload_job": self.requires_upload_job,
            "container_env": self.container_env,
            "compute_volume_type": (
                "kubernetes_pvc" if self.container_env == "kubernetes" else "docker_local_volume"
            ),
        }
        if self.innetwork and self.storage_env == "swift":
            info["swift_auth_url"] = "http://swift_service:8080/auth/v1.0"
        if self.innetwork and self.storage_env == "s3":
            info["s3_endpoint_url"] = "http://minio:9000"
        return info

    def _login(self, request: RecordedRequest) -> str:
        body = request.json if isinstance(request.json, dict) else {}
        missing = {
            name: "Missing required parameter in the JSON body or the post body or the query string"
            for name in ("pfcon_user", "pfcon_password")
            if not body.get(name)
        }
        if missing:
            raise _HttpError(400, missing)
        if body["pfcon_user"] != self.USERNAME or body["pfcon_password"] != self.PASSWORD:
            raise _HttpError(400, "Unable to log in with provided credentials.")
        token = ".".join(
            base64.urlsafe_b64encode(part).rstrip(b"=").decode()
            for part in (
                b'{"alg":"HS256","typ":"JWT"}',
                json.dumps({"pfcon_user": self.USERNAME, "nonce": secrets.token_hex(8)}).encode(),
                secrets.token_bytes(32),
            )
        )
        self.issued_tokens.append(token)
        self._valid_tokens.add(token)
        return token

    def _check_token(self, request: RecordedRequest) -> None:
        header = request.headers.get("authorization")
        if not header:
            raise _HttpError(401, "Missing authorization header.")
        if not header.startswith("Bearer "):
            raise _HttpError(401, "Invalid authorization header.")
        token = header.split(" ")[1]
        if token in self._expired_tokens:
            raise _HttpError(401, "Expired authorization token.")
        if token not in self._valid_tokens:
            raise _HttpError(401, "Invalid authorization token.")

    def _create(self, kind: str, request: RecordedRequest) -> dict[str, Any]:
        form = request.form
        jid = (_first(form, "jid") or "").lstrip("/")
        if kind == "plugin":
            self._validate_plugin(request)
        else:
            required = {"copy": ("jid", "output_dir"), "upload": ("jid", "job_output_path")}
            _require_fields(form, required.get(kind, ("jid",)))
            _require_ints(form, ("cpu_limit", "memory_limit"))
        existing = self._jobs.get((kind, jid))
        if (
            existing is not None
            and not existing.removed
            and existing.status not in RESTARTABLE_STATUSES
        ):
            return {"compute": existing.compute()}

        job = FakeJob(kind=kind, jid=jid, timestamp=_now(), form=form, image=OP_IMAGE)
        data: dict[str, Any] | None = None
        if kind == "copy":
            job.cmd = "python -m pfcon.copy_worker /share/outgoing"
            if not self.requires_copy_job:
                _finish(job, "copySkipped")
        elif kind == "upload":
            job.cmd = "python -m pfcon.upload_worker /share/outgoing"
            if self.requires_upload_job:
                plugin = self._live_job("plugin", jid)
                if plugin is None or plugin.status not in FINISHED_STATUSES:
                    raise _HttpError(409, f"Plugin job {jid} has not finished yet.")
            else:
                _finish(job, "uploadSkipped")
        elif kind == "delete":
            job.cmd = "python -m pfcon.delete_worker /share/outgoing"
            others = [self._live_job(other, jid) for other in ("copy", "plugin", "upload")]
            others = [other for other in others if other is not None]
            if not others:
                _finish(job, "deleteSkipped")
            for other in others:
                if other.status in ACTIVE_STATUSES:
                    raise _HttpError(
                        409, f"The {other.kind} job {jid} is still {other.status}; retry later."
                    )
        else:
            if self.requires_copy_job:
                copy = self._live_job("copy", jid)
                if copy is None or copy.status != "finishedSuccessfully":
                    raise _HttpError(409, f"Copy job {jid}-copy has not finished successfully yet.")
            job.image = _first(form, "image") or ""
            job.cmd = shlex.join(_plugin_argv(form))
            data = self._staged_data(jid, request)
        self._jobs[(kind, jid)] = job
        compute = job.compute(with_logs=False)
        if kind == "plugin":
            return {"data": data or {}, "compute": compute}
        return {"compute": compute}

    def _validate_plugin(self, request: RecordedRequest) -> None:
        form = request.form
        _require_fields(
            form,
            (
                "jid",
                "auid",
                "number_of_workers",
                "cpu_limit",
                "memory_limit",
                "gpu_limit",
                "image",
                "entrypoint",
                "type",
            ),
        )
        _require_ints(form, ("number_of_workers", "cpu_limit", "memory_limit", "gpu_limit"))
        plugin_type = _first(form, "type")
        if plugin_type not in ("ds", "fs", "ts"):
            raise _HttpError(400, {"type": f"{plugin_type} is not a valid choice"})
        if not any(form.get("entrypoint", [])):
            raise _HttpError(400, "entrypoint: cannot be empty")
        if any("=" not in item for item in form.get("env", [])):
            raise _HttpError(400, 'env: must be a list of "key=value" strings')
        if self.container_env == "docker" and _first(form, "number_of_workers") != "1":
            raise _HttpError(400, "number_of_workers: must be 1 with the docker engine")
        if self.innetwork:
            if self.storage_env == "filesystem" and not form.get("input_dirs"):
                raise _HttpError(400, "input_dirs: field is required")
        else:
            upload = request.files.get("data_file")
            if upload is None:
                raise _HttpError(400, "data_file: field is required")
            if not zipfile.is_zipfile(io.BytesIO(upload.content)):
                raise _HttpError(400, "data_file: Bad zip file")

    def _staged_data(self, jid: str, request: RecordedRequest) -> dict[str, Any]:
        if self.innetwork and self.storage_env in ("fslink", "swift", "s3"):
            return {}
        if self.innetwork:
            return {
                "jid": jid,
                "nfiles": 0,
                "timestamp": _now(),
                "path": _first(request.form, "input_dirs") or "",
            }
        with zipfile.ZipFile(io.BytesIO(request.files["data_file"].content)) as archive:
            nfiles = sum(1 for info in archive.infolist() if not info.is_dir())
        return {
            "jid": jid,
            "nfiles": nfiles,
            "timestamp": _now(),
            "path": f"/var/local/storeBase/key-{jid}/incoming",
        }

    def _live_job(self, kind: str, jid: str) -> FakeJob | None:
        job = self._jobs.get((kind, jid))
        return None if job is None or job.removed else job

    def _poll(self, kind: str, jid: str) -> FakeJob:
        job = self._live_job(kind, jid)
        if job is None:
            raise _HttpError(404, f"Job {jid} not found")
        job.polls += 1
        if (kind, jid) in self._scripted:
            self._apply_script(job)
        elif self.auto_advance and job.status in ACTIVE_STATUSES:
            _finish(job, "exited")
        if kind == "plugin" and job.status == "finishedSuccessfully":
            self._write_outputs(job)
        return job

    def _apply_script(self, job: FakeJob) -> None:
        status, message, logs = self._scripted[(job.kind, job.jid)]
        if job.status != status:
            job.status = status
            job.timestamp = _now()
            job.message = message or {
                "started": "running",
                "finishedSuccessfully": "exited",
                "finishedWithError": "exited",
            }.get(status, job.message)
        if message is not None:
            job.message = message
        if logs is not None:
            job.logs = logs

    def _write_outputs(self, job: FakeJob) -> None:
        output = self._outputs.get(job.jid)
        output_dir = _first(job.form, "output_dir")
        if self.output_root is None or output is None or not output_dir or output.written:
            return
        target = self.output_root / output_dir.lstrip("/")
        for rel_path, content in output.contents().items():
            path = target / rel_path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        output.written = True

    def _file(self, jid: str, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        if self._live_job("plugin", jid) is None:
            raise _HttpError(404, f"Job {jid} not found")
        output = self._outputs.get(jid, _Output())
        job_output_path = _first(request.query, "job_output_path")
        if self.innetwork and job_output_path:
            listing = {
                "job_output_path": job_output_path.lstrip("/"),
                "rel_file_paths": output.listing(),
            }
            disposition = f"attachment; filename={jid}.json"
            return 200, listing, {"Content-Disposition": disposition}
        headers = {
            "Content-Type": "application/zip",
            "Content-Disposition": f"attachment; filename={jid}.zip",
        }
        return 200, output.zip(), headers


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Separate header and body writes would otherwise hit Nagle + delayed ACK (~40 ms each).
    disable_nagle_algorithm = True
    wbufsize = -1
    fake: FakePfcon

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        try:
            request = self._record()
            status, body, headers = self.fake._handle(request)
            self._respond(status, body, headers)
            self.wfile.flush()
        except ConnectionError:
            # The client gave up (e.g. its timeout fired during an injected delay).
            self.close_connection = True

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _record(self) -> RecordedRequest:
        body = self._read_body()
        parts = urlsplit(self.path)
        prefix = "/api/v1/"
        route = parts.path[len(prefix) :] if parts.path.startswith(prefix) else parts.path
        content_type = self.headers.get("Content-Type", "")
        form: dict[str, list[str]] = {}
        files: dict[str, RecordedFile] = {}
        payload: Any = None
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(body.decode(), keep_blank_values=True)
        elif content_type.startswith("multipart/form-data"):
            form, files = _parse_multipart(body, content_type)
        elif content_type.startswith("application/json") and body:
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
        return RecordedRequest(
            method=self.command,
            path=parts.path,
            route=route,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={key.lower(): value for key, value in self.headers.items()},
            form=form,
            files=files,
            json=payload,
            body=body,
        )

    def _respond(self, status: int, body: Any, headers: dict[str, str]) -> None:
        if isinstance(body, bytes):
            data = body
        elif body is None:
            data = b""
        else:
            data = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **headers}
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 204:
            self.wfile.write(data)


def _parse_multipart(
    body: bytes, content_type: str
) -> tuple[dict[str, list[str]], dict[str, RecordedFile]]:
    header = Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    form: dict[str, list[str]] = {}
    files: dict[str, RecordedFile] = {}
    if not isinstance(boundary, str):
        return form, files
    for part in body.split(b"--" + boundary.encode())[1:]:
        if part.startswith(b"--"):
            break
        raw_headers, _, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        part_headers = Message()
        for line in raw_headers.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name:
                part_headers[name.strip()] = value.strip()
        name = part_headers.get_param("name", header="content-disposition")
        filename = part_headers.get_param("filename", header="content-disposition")
        if not isinstance(name, str):
            continue
        if isinstance(filename, str):
            files[name] = RecordedFile(filename, part_headers.get("Content-Type"), content)
        else:
            form.setdefault(name, []).append(content.decode())
    return form, files


def _compile_route(route: str) -> tuple[str, re.Pattern[str]]:
    method, _, path = route.strip().partition(" ")
    if not path:
        raise ValueError(f"route must look like 'METHOD path', got {route!r}")
    regex = "[^/]+".join(re.escape(piece) for piece in path.strip().lstrip("/").split("*"))
    return method.upper(), re.compile(regex)


def _check_kind(kind: str) -> None:
    if kind not in JOB_KINDS:
        raise ValueError(f"kind must be one of {JOB_KINDS}, got {kind!r}")


def _require_method(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise _HttpError(405, "The method is not allowed for the requested URL.")


def _require_fields(form: dict[str, list[str]], names: Iterable[str]) -> None:
    missing = {name: MISSING for name in names if not form.get(name)}
    if missing:
        raise _HttpError(400, missing)


def _require_ints(form: dict[str, list[str]], names: Iterable[str]) -> None:
    errors = {}
    for name in names:
        value = _first(form, name)
        if value is not None and not re.fullmatch(r"-?\d+", value):
            errors[name] = f"invalid literal for int() with base 10: {value!r}"
    if errors:
        raise _HttpError(400, errors)


def _first(values: Mapping[str, list[str]], name: str) -> str | None:
    items = values.get(name)
    return items[0] if items else None


def _plugin_argv(form: dict[str, list[str]]) -> list[str]:
    path_flags = set(form.get("args_path_flags", []))
    argv = list(form.get("entrypoint", []))
    args = form.get("args", [])
    for index, arg in enumerate(args):
        argv.append("/share/incoming" if index and args[index - 1] in path_flags else arg)
    if _first(form, "type") == "ds":
        argv.append("/share/incoming")
    argv.append("/share/outgoing")
    return argv


def _finish(job: FakeJob, message: str) -> None:
    job.status = "finishedSuccessfully"
    job.message = message
    job.timestamp = _now()


def _now() -> str:
    return datetime.now(UTC).isoformat()
