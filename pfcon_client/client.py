"""HTTP client for the pfcon v6 API (copyjobs/, pluginjobs/, uploadjobs/, deletejobs/)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import requests

from .exceptions import PfconError
from .multipart import MultipartBody, guess_filename

logger = logging.getLogger(__name__)

RETRYABLE_STATUS_CODES = frozenset({502, 503, 504})
DOWNLOAD_CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class Timeouts:
    """Read timeouts in seconds for each kind of call; `connect` caps connection setup."""

    connect: float = 10
    auth: float = 30
    server_info: float = 30
    submit_plugin: float = 200
    submit_plugin_upload: float = 9000
    submit_op: float = 200
    status: float = 100
    delete: float = 200
    file_json: float = 500
    file_zip: float = 9000


@dataclass
class PluginJobFields:
    """The form fields of `POST pluginjobs/`; empty lists and None values are not sent."""

    entrypoint: list[str]
    image: str
    type: str
    auid: str
    args: list[str] = field(default_factory=list)
    args_path_flags: list[str] = field(default_factory=list)
    number_of_workers: int = 1
    cpu_limit: int = 1000
    memory_limit: int = 200
    gpu_limit: int = 0
    env: list[str] = field(default_factory=list)
    input_dirs: list[str] = field(default_factory=list)
    output_dir: str | None = None
    jid: str | None = None

    def to_form(self) -> dict[str, Any]:
        """The fields as a plain dict (jid excluded; the client sends it first)."""
        return {
            "entrypoint": self.entrypoint,
            "args": self.args,
            "args_path_flags": self.args_path_flags,
            "auid": self.auid,
            "number_of_workers": self.number_of_workers,
            "cpu_limit": self.cpu_limit,
            "memory_limit": self.memory_limit,
            "gpu_limit": self.gpu_limit,
            "image": self.image,
            "type": self.type,
            "env": self.env,
            "input_dirs": self.input_dirs,
            "output_dir": self.output_dir,
        }


def form_items(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten a field mapping into (key, value) pairs, repeating the key for list values."""
    items: list[tuple[str, str]] = []
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            items.extend((key, _form_value(item)) for item in value)
        elif isinstance(value, Mapping):
            # Only `env` is a mapping in practice; pfcon expects "KEY=VALUE" strings.
            items.extend((key, f"{name}={item}") for name, item in value.items())
        else:
            items.append((key, _form_value(value)))
    return items


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def normalise_compute(compute: dict[str, Any]) -> dict[str, Any]:
    """Return the `compute` dict with the v5 spelling `notstarted` mapped to `notStarted`."""
    if compute.get("status") == "notstarted":
        return {**compute, "status": "notStarted"}
    return compute


class PfconClient:
    """A client for one pfcon server; reuses one HTTP session, so give each thread its own.

    The bearer token is fetched lazily on the first call. When pfcon answers 401 the client
    logs in again, once, and repeats the request. Every token the client obtains on its own
    (lazily or after a 401) is passed to `on_new_token` so the caller can persist it; an
    explicit `get_token()` just returns it. Connection errors, timeouts and 502/503/504 of
    reads, deletes and logins are retried `retries` times with exponential backoff
    (`backoff`, then twice that, ...); every other failure raises `PfconError` at once.

    Job submissions (the POSTs to `pluginjobs/`, `copyjobs/`, `uploadjobs/`, `deletejobs/`)
    are sent once per call: the caller retries them, because it knows the job and can wait
    without holding a worker. Retrying in both places would multiply the attempts, and
    sleeping here would hold the caller's claim on the job while the compute service is down.
    Reads and deletes are retried here since no caller does, and repeating them changes nothing.
    """

    def __init__(
        self,
        url: str,
        *,
        auth_url: str | None = None,
        username: str,
        password: str,
        token: str | None = None,
        on_new_token: Callable[[str], None] | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.auth_url = auth_url or self.url + "auth-token/"
        self.username = username
        self._password = password
        self._token = token or None
        self._on_new_token = on_new_token
        self.retries = max(0, retries)
        self.backoff = backoff
        self.timeouts = timeouts or Timeouts()
        self._session = requests.Session()

    def __repr__(self) -> str:
        return f"PfconClient({self.url!r}, username={self.username!r})"

    def __enter__(self) -> PfconClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        self._session.close()

    @property
    def token(self) -> str | None:
        """The bearer token currently in use, if any has been obtained or given."""
        return self._token

    # Authentication and server info

    def get_token(self) -> str:
        """Log in with the username and password, keep the new token and return it."""
        response = self._call(
            "POST",
            self.auth_url,
            operation="POST auth-token/",
            timeout=self.timeouts.auth,
            authenticated=False,
            retry=True,  # a login changes nothing on pfcon's side
            json={"pfcon_user": self.username, "pfcon_password": self._password},
        )
        token = _json_object(response, "POST auth-token/").get("token")
        if not isinstance(token, str) or not token:
            raise PfconError(
                "the auth-token response carries no token", operation="POST auth-token/"
            )
        self._token = token
        return token

    def get_server_info(self) -> dict[str, Any]:
        """Server version, data mode and the `requires_copy_job`/`requires_upload_job` flags."""
        response = self._call("GET", "pluginjobs/", timeout=self.timeouts.server_info)
        return _json_object(response, "GET pluginjobs/")

    def health(self) -> dict[str, Any]:
        """pfcon's unauthenticated health check, normally {"health": "OK"}."""
        response = self._call(
            "GET", "health/", timeout=self.timeouts.server_info, authenticated=False
        )
        return _json_object(response, "GET health/")

    # Copy jobs

    def submit_copy_job(
        self,
        jid: str,
        *,
        input_dirs: list[str],
        output_dir: str,
        cpu_limit: int,
        memory_limit: int,
    ) -> dict[str, Any]:
        """Start staging the inputs for `jid`; returns the `compute` dict."""
        fields = {
            "jid": jid,
            "input_dirs": input_dirs,
            "output_dir": output_dir,
            "cpu_limit": cpu_limit,
            "memory_limit": memory_limit,
        }
        return self._submit_op_job("copyjobs/", jid, fields)

    def get_copy_job_status(self, jid: str) -> dict[str, Any]:
        """The copy job's `compute` dict."""
        return self._get_status("copyjobs/", jid)

    def delete_copy_job(self, jid: str) -> None:
        """Remove the copy job's container; an unknown job is not an error."""
        self._delete("copyjobs/", jid)

    # Plugin jobs

    def submit_plugin_job(
        self,
        jid: str,
        fields: PluginJobFields | Mapping[str, Any],
        *,
        data_file: BinaryIO | None = None,
    ) -> dict[str, Any]:
        """Start the plugin job; returns pfcon's whole response, {"data": ..., "compute": ...}.

        `data_file` (a zip of the inputs, for out-of-network pfcon) is streamed from its
        current position; when it is seekable the client can resend it on a retry.
        """
        if isinstance(fields, PluginJobFields):
            given_jid, values = fields.jid, fields.to_form()
        else:
            given_jid, values = fields.get("jid"), {k: v for k, v in fields.items() if k != "jid"}
        if given_jid is not None and given_jid != jid:
            raise ValueError(f"fields carry jid {given_jid!r} but the call is for {jid!r}")
        items = [("jid", jid), *form_items(values)]
        operation = f"POST pluginjobs/ (job {jid})"
        if data_file is None:
            response = self._call(
                "POST",
                "pluginjobs/",
                operation=operation,
                timeout=self.timeouts.submit_plugin,
                expected=(200, 201),
                data=items,
            )
        else:
            body = MultipartBody(
                items,
                file_field="data_file",
                fileobj=data_file,
                filename=guess_filename(data_file, "data_file"),
                file_content_type="application/zip",
            )
            response = self._call(
                "POST",
                "pluginjobs/",
                operation=operation,
                timeout=self.timeouts.submit_plugin_upload,
                expected=(200, 201),
                data=body,
                headers={"Content-Type": body.content_type},
                rewind=body.rewind,
            )
        result = _json_object(response, operation)
        compute = result.get("compute")
        if not isinstance(compute, dict):
            raise PfconError("the response carries no 'compute' object", operation=operation)
        logger.info("pfcon accepted plugin job %s with status %s", jid, compute.get("status"))
        return {**result, "compute": normalise_compute(compute)}

    def get_plugin_job_status(self, jid: str) -> dict[str, Any]:
        """The plugin job's `compute` dict, including the tail of its logs."""
        return self._get_status("pluginjobs/", jid)

    def delete_plugin_job(self, jid: str) -> None:
        """Force-remove the plugin job's container (killing it if running); 404 is fine."""
        self._delete("pluginjobs/", jid)

    def get_plugin_job_json(self, jid: str, job_output_path: str) -> dict[str, Any]:
        """In-network outputs: {"job_output_path": ..., "rel_file_paths": [...]}."""
        operation = f"GET pluginjobs/{jid}/file/ (job {jid})"
        response = self._call(
            "GET",
            f"pluginjobs/{jid}/file/",
            operation=operation,
            timeout=self.timeouts.file_json,
            params={"job_output_path": job_output_path},
        )
        return _json_object(response, operation)

    def download_plugin_job_zip(self, jid: str, destination: BinaryIO) -> None:
        """Stream the out-of-network output zip into `destination`; the caller validates it.

        A download cut short is retried only when `destination` can seek back to where it
        started (it is then truncated there first).
        """
        operation = f"GET pluginjobs/{jid}/file/ (job {jid})"
        start = _tell(destination)
        touched = False

        def write_chunks(response: requests.Response) -> int:
            nonlocal touched
            written = 0
            for chunk in response.iter_content(chunk_size=DOWNLOAD_CHUNK_SIZE):
                touched = True
                destination.write(chunk)
                written += len(chunk)
            return written

        def rewind() -> bool:
            if start is None:
                return not touched
            destination.seek(start)
            destination.truncate()
            return True

        written = self._call(
            "GET",
            f"pluginjobs/{jid}/file/",
            operation=operation,
            timeout=self.timeouts.file_zip,
            stream=True,
            handle=write_chunks,
            rewind=rewind,
        )
        logger.info("Downloaded %d bytes of outputs for job %s", written, jid)

    # Upload and delete jobs

    def submit_upload_job(
        self, jid: str, *, job_output_path: str, cpu_limit: int, memory_limit: int
    ) -> dict[str, Any]:
        """Start pushing the outputs to object storage; returns the `compute` dict."""
        fields = {
            "jid": jid,
            "job_output_path": job_output_path,
            "cpu_limit": cpu_limit,
            "memory_limit": memory_limit,
        }
        return self._submit_op_job("uploadjobs/", jid, fields)

    def get_upload_job_status(self, jid: str) -> dict[str, Any]:
        """The upload job's `compute` dict."""
        return self._get_status("uploadjobs/", jid)

    def delete_upload_job(self, jid: str) -> None:
        """Remove the upload job's container; an unknown job is not an error."""
        self._delete("uploadjobs/", jid)

    def submit_delete_job(self, jid: str, *, cpu_limit: int, memory_limit: int) -> dict[str, Any]:
        """Start removing the job's data on pfcon's side; returns the `compute` dict."""
        fields = {"jid": jid, "cpu_limit": cpu_limit, "memory_limit": memory_limit}
        return self._submit_op_job("deletejobs/", jid, fields)

    def get_delete_job_status(self, jid: str) -> dict[str, Any]:
        """The delete job's `compute` dict."""
        return self._get_status("deletejobs/", jid)

    def delete_delete_job(self, jid: str) -> None:
        """Remove the delete job's container; an unknown job is not an error."""
        self._delete("deletejobs/", jid)

    # Shared request plumbing

    def _submit_op_job(self, route: str, jid: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        operation = f"POST {route} (job {jid})"
        response = self._call(
            "POST",
            route,
            operation=operation,
            timeout=self.timeouts.submit_op,
            expected=(200, 201),
            data=form_items(fields),
        )
        compute = _compute(response, operation)
        logger.info("pfcon accepted %s for job %s with status %s", route, jid, compute["status"])
        return compute

    def _get_status(self, route: str, jid: str) -> dict[str, Any]:
        operation = f"GET {route}{jid}/ (job {jid})"
        response = self._call(
            "GET", f"{route}{jid}/", operation=operation, timeout=self.timeouts.status
        )
        compute = _compute(response, operation)
        logger.debug("pfcon %s status for job %s: %s", route, jid, compute["status"])
        return compute

    def _delete(self, route: str, jid: str) -> None:
        operation = f"DELETE {route}{jid}/ (job {jid})"
        response = self._call(
            "DELETE",
            f"{route}{jid}/",
            operation=operation,
            timeout=self.timeouts.delete,
            expected=(200, 202, 204, 404),
        )
        if response.status_code == 404:
            logger.info("pfcon has no %s entry for job %s; nothing to delete", route, jid)

    def _ensure_token(self, operation: str) -> str:
        token = self._token
        if token is None:
            logger.info("Logging in to pfcon at %s for %s", self.auth_url, operation)
            token = self.get_token()
            if self._on_new_token is not None:
                self._on_new_token(token)
        return token

    def _call(
        self,
        method: str,
        path_or_url: str,
        *,
        timeout: float,
        operation: str | None = None,
        expected: Iterable[int] = (200,),
        authenticated: bool = True,
        stream: bool = False,
        handle: Callable[[requests.Response], Any] | None = None,
        rewind: Callable[[], bool] | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool | None = None,
        **request_kwargs: Any,
    ) -> Any:
        """Send one logical request, handling 401 re-login and transient retries.

        Transient failures are retried when `retry` is true; by default for every method
        but POST (see the class docstring).

        Returns `handle(response)` when given (it runs inside the retry loop, so a stream
        cut short is retried too), otherwise the response with its body already read.
        """
        url = path_or_url if "://" in path_or_url else self.url + path_or_url
        operation = operation or f"{method} {path_or_url}"
        expected = tuple(expected)
        timeout_pair = (min(self.timeouts.connect, timeout), timeout)
        relogged_in = False
        attempt = 0
        retries = self.retries if (method != "POST" if retry is None else retry) else 0
        while True:
            request_headers = dict(headers or {})
            if authenticated:
                # Outside the try below: a failed login has had its own retries already.
                request_headers["Authorization"] = f"Bearer {self._ensure_token(operation)}"
            try:
                response = self._session.request(
                    method,
                    url,
                    headers=request_headers,
                    timeout=timeout_pair,
                    stream=stream,
                    **request_kwargs,
                )
                try:
                    if response.status_code == 401 and authenticated and not relogged_in:
                        # pfcon tokens expire after two days and there is no refresh
                        # endpoint: log in again, once, and repeat the request.
                        relogged_in = True
                        logger.info("pfcon rejected the token for %s; logging in again", operation)
                        self._token = None
                        if rewind is not None and not rewind():
                            raise _http_error(response, operation)
                        continue
                    if response.status_code in expected:
                        if handle is not None:
                            return handle(response)
                        _ = response.content  # read the body before the response is closed
                        return response
                    raise _http_error(response, operation)
                finally:
                    response.close()
            except PfconError as exc:
                error = exc
                retryable = exc.status_code in RETRYABLE_STATUS_CODES
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                error = PfconError(
                    _describe_network_error(exc), transient=True, operation=operation
                )
                retryable = True
            except requests.RequestException as exc:
                raise PfconError(
                    f"invalid request: {type(exc).__name__}", operation=operation
                ) from exc

            if not retryable or attempt >= retries:
                if retryable and retries:
                    logger.warning("Giving up on %s after %d attempts", operation, attempt + 1)
                raise error
            if rewind is not None and not rewind():
                logger.warning("Cannot resend the body of %s; not retrying", operation)
                raise error
            delay = self.backoff * 2**attempt
            attempt += 1
            logger.warning(
                "Retrying %s in %.2fs (attempt %d of %d) after: %s",
                operation,
                delay,
                attempt,
                retries,
                error.message,
            )
            time.sleep(delay)


def _tell(fileobj: BinaryIO) -> int | None:
    try:
        return fileobj.tell() if fileobj.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None


def _describe_network_error(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "timed out connecting to pfcon"
    if isinstance(exc, requests.Timeout):
        return "timed out waiting for pfcon"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection broke while reading pfcon's response"
    if isinstance(exc, requests.ConnectionError) and "Read timed out" in str(exc):
        # A read timeout in the middle of a streamed body surfaces as ConnectionError.
        return "timed out waiting for pfcon"
    return f"could not reach pfcon ({type(exc).__name__})"


def _http_error(response: requests.Response, operation: str) -> PfconError:
    """Build a PfconError carrying pfcon's own `message` when the body has one."""
    status = response.status_code
    message: str | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "message" in body:
        raw = body["message"]
        if isinstance(raw, dict):
            # flask-restful bundles validation errors as {"message": {field: text}}.
            message = "; ".join(f"{key}: {text}" for key, text in raw.items())
        else:
            message = str(raw)
    if not message:
        text = (response.text or "").strip()
        message = text[:300] if text else (response.reason or "no details")
    return PfconError(message, status_code=status, transient=status >= 500, operation=operation)


def _json_object(response: requests.Response, operation: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise PfconError(
            "the response is not a JSON object",
            status_code=response.status_code,
            operation=operation,
        )
    return body


def _compute(response: requests.Response, operation: str) -> dict[str, Any]:
    compute = _json_object(response, operation).get("compute")
    if not isinstance(compute, dict) or "status" not in compute:
        raise PfconError(
            "the response carries no 'compute' status",
            status_code=response.status_code,
            operation=operation,
        )
    return normalise_compute(compute)
