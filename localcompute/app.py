"""The pfcon v6 HTTP API over the JobManager (Flask).

Every route lives under /api/v1/ and ends with a slash. Bodies are form-encoded (multipart
when a zip is attached) and repeated keys carry lists; only auth-token takes JSON.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import Flask, Response, jsonify, request, send_file
from werkzeug.exceptions import HTTPException

from .auth import AuthError, check_authorization_header, check_credentials, create_token
from .config import Settings
from .jobs import (
    CatalogueUnreadable,
    InvalidRequest,
    JobConflict,
    JobError,
    JobManager,
    JobNotFound,
    PluginJobRequest,
    valid_jid,
)
from .modes import FilesystemMode, ObjectStorageMode, StorageMode, ZipMode
from .store import Kind

logger = logging.getLogger(__name__)

MISSING_IN_FORM = "Missing required parameter in the post body"
STATUS_OF_ERROR = {
    InvalidRequest: 400,
    JobNotFound: 404,
    JobConflict: 409,
    CatalogueUnreadable: 500,
}
MISSING_IN_JSON = "Missing required parameter in the JSON body or the post body or the query string"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "str"  # str | int | list
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()


PLUGIN_FIELDS = (
    Field("jid", required=True),
    Field("args", "list", default=[]),
    Field("args_path_flags", "list", default=[]),
    Field("auid", required=True),
    Field("number_of_workers", "int", required=True),
    Field("cpu_limit", "int", required=True),
    Field("memory_limit", "int", required=True),
    Field("gpu_limit", "int", required=True),
    Field("image", required=True),
    Field("entrypoint", "list", required=True),
    Field("type", required=True, choices=("ds", "fs", "ts")),
    Field("env", "list", default=[]),
    Field("input_dirs", "list"),
    Field("output_dir"),
)
COPY_FIELDS = (
    Field("jid", required=True),
    Field("input_dirs", "list", default=[]),
    Field("output_dir", required=True),
    Field("cpu_limit", "int", default=1000),
    Field("memory_limit", "int", default=300),
)
UPLOAD_FIELDS = (
    Field("jid", required=True),
    Field("job_output_path", required=True),
    Field("cpu_limit", "int", default=1000),
    Field("memory_limit", "int", default=300),
)
DELETE_FIELDS = (
    Field("jid", required=True),
    Field("cpu_limit", "int", default=1000),
    Field("memory_limit", "int", default=300),
)


def parse_form(fields: tuple[Field, ...]) -> dict:
    """Read the form like pfcon does, collecting every field error into one 400."""
    form = request.form
    values: dict = {}
    errors: dict[str, str] = {}
    for spec in fields:
        present = spec.name in form
        if not present:
            if spec.required:
                errors[spec.name] = MISSING_IN_FORM
            values[spec.name] = (
                list(spec.default) if spec.kind == "list" and spec.default else (spec.default)
            )
            continue
        if spec.kind == "list":
            values[spec.name] = form.getlist(spec.name)
            continue
        raw = form.get(spec.name, "")
        if spec.kind == "int":
            try:
                values[spec.name] = int(raw)
            except ValueError:
                errors[spec.name] = f"invalid literal for int() with base 10: {raw!r}"
            continue
        if spec.choices and raw not in spec.choices:
            errors[spec.name] = f"{raw} is not a valid choice"
            continue
        values[spec.name] = raw
    if errors:
        raise InvalidRequest(errors)
    if "jid" in values:
        values["jid"] = values["jid"].lstrip("/")
        if not valid_jid(values["jid"]):
            raise InvalidRequest({"jid": "must be letters, digits, '.', '_' or '-'"})
    return values


class Unauthorized(Exception):
    pass


def storage_mode(settings: Settings) -> StorageMode:
    """The STORAGE_ENV mode, with the storage it reaches."""
    if settings.storage_env == "fslink":
        return FilesystemMode(settings.storebase, hardlink=settings.hardlink_inputs)
    if settings.storage_env == "swift":
        from storage.swift import SwiftStorage  # pulls in swiftclient: swift mode only

        return ObjectStorageMode(
            SwiftStorage(
                settings.swift_auth_url,
                settings.swift_username,
                settings.swift_key,
                settings.swift_container,
            )
        )
    return ZipMode()


def create_app(settings: Settings | None = None, manager: JobManager | None = None) -> Flask:
    settings = settings or Settings.from_env()
    manager = manager or JobManager(settings, mode=storage_mode(settings))
    app = Flask("localcompute")
    app.config["MAX_CONTENT_LENGTH"] = None
    # Long argument lists arrive as many repeated form keys.
    app.config["MAX_FORM_PARTS"] = 100_000
    app.config["MAX_FORM_MEMORY_SIZE"] = 64 * 1024 * 1024
    app.extensions["localcompute"] = manager

    @app.errorhandler(JobError)
    def job_error(error: JobError):
        return jsonify(message=error.message), STATUS_OF_ERROR[type(error)]

    @app.errorhandler(Unauthorized)
    def unauthorized(error: Unauthorized):
        return jsonify(message=str(error)), 401

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return jsonify(message=error.description), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        logger.exception("unhandled error")
        return jsonify(message=f"internal error: {error}"), 500

    def authenticated(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                check_authorization_header(
                    request.headers.get("Authorization"), secret_key=settings.secret_key
                )
            except AuthError as e:
                raise Unauthorized(str(e)) from e
            if "jid" in kwargs and not valid_jid(kwargs["jid"]):
                raise JobNotFound(f"Job {kwargs['jid']} not found.")
            return view(*args, **kwargs)

        return wrapper

    @app.post("/api/v1/auth-token/")
    def auth_token():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            body = request.values
        missing = {
            name: MISSING_IN_JSON for name in ("pfcon_user", "pfcon_password") if not body.get(name)
        }
        if missing:
            raise InvalidRequest(missing)
        if not check_credentials(
            str(body["pfcon_user"]),
            str(body["pfcon_password"]),
            expected_user=settings.user,
            expected_password=settings.password,
        ):
            raise InvalidRequest("Unable to log in with provided credentials.")
        return jsonify(token=create_token(settings.user, secret_key=settings.secret_key))

    @app.get("/api/v1/health/")
    def health():
        return jsonify(health="OK")

    for prefix in ("copyjobs", "pluginjobs", "uploadjobs", "deletejobs"):
        app.add_url_rule(
            f"/api/v1/{prefix}/",
            endpoint=f"{prefix}-info",
            view_func=authenticated(lambda: jsonify(manager.server_info())),
            methods=["GET"],
        )

    @app.post("/api/v1/copyjobs/")
    @authenticated
    def copy_create():
        values = parse_form(COPY_FIELDS)
        compute = manager.submit_copy(values["jid"], values["input_dirs"], values["output_dir"])
        return jsonify(compute=compute), 201

    @app.post("/api/v1/pluginjobs/")
    @authenticated
    def plugin_create():
        values = parse_form(PLUGIN_FIELDS)
        data_file = request.files.get("data_file")
        job = PluginJobRequest(
            **values, data_file=data_file.stream if data_file is not None else None
        )
        data, compute = manager.submit_plugin(job)
        return jsonify(data=data, compute=compute), 201

    @app.post("/api/v1/uploadjobs/")
    @authenticated
    def upload_create():
        values = parse_form(UPLOAD_FIELDS)
        compute = manager.submit_upload(values["jid"], values["job_output_path"])
        return jsonify(compute=compute), 201

    @app.post("/api/v1/deletejobs/")
    @authenticated
    def delete_create():
        values = parse_form(DELETE_FIELDS)
        return jsonify(compute=manager.submit_delete(values["jid"])), 201

    def job_views(prefix: str, kind: str) -> None:
        def detail(jid: str):
            return jsonify(compute=manager.get_job(kind, jid))

        def remove(jid: str):
            manager.remove_job(kind, jid)
            return Response(status=204)

        app.add_url_rule(
            f"/api/v1/{prefix}/<jid>/",
            endpoint=f"{prefix}-detail",
            view_func=authenticated(detail),
            methods=["GET"],
        )
        app.add_url_rule(
            f"/api/v1/{prefix}/<jid>/",
            endpoint=f"{prefix}-remove",
            view_func=authenticated(remove),
            methods=["DELETE"],
        )

    job_views("copyjobs", Kind.COPY)
    job_views("pluginjobs", Kind.PLUGIN)
    job_views("uploadjobs", Kind.UPLOAD)
    job_views("deletejobs", Kind.DELETE)

    @app.get("/api/v1/pluginjobs/<jid>/file/")
    @authenticated
    def plugin_file(jid: str):
        job_output_path = request.args.get("job_output_path", "")
        if manager.mode.name == "fslink" and not job_output_path:
            raise InvalidRequest("job_output_path: query parameter is required")
        if manager.mode.innetwork and job_output_path:
            listing = manager.output_listing(jid, job_output_path)
            response = Response(json.dumps(listing), mimetype="application/json")
            response.headers["Content-Disposition"] = f'attachment; filename="{jid}.json"'
            return response
        return send_file(
            manager.output_zip(jid),
            mimetype="application/zip",
            as_attachment=True,
            download_name=f"{jid}.zip",
        )

    return app
