"""Fuzzes every operation of the OpenAPI schema in-process and asserts no server errors.

``CUBE_FUZZ_MAX_EXAMPLES`` (default 12) sets the generated examples per operation and role. Raise
it, set ``CUBE_FUZZ_RANDOM=1`` and add the coverage phase (``CUBE_FUZZ_PHASES``, below) to
explore beyond the fixed, reproducible run in ``make test``.

The schema describes plain JSON, so schemathesis generates JSON bodies; every one of them is
also sent as a Collection+JSON write template, the form most clients use.
"""

import io
import json
import os

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet

from cube.wsgi import application
from feeds.models import Comment, Feed, Note, Tag, Tagging
from pipelines.services.trees import create_pipeline
from plugins.models import ComputeResource, PluginInstance
from plugins.services.registry import register_plugin
from plugins.status import Status
from tests.helpers import CJ, add_instance_file
from uploadedfiles.services import create_uploaded_file

MAX_EXAMPLES = int(os.environ.get("CUBE_FUZZ_MAX_EXAMPLES", "12"))
DERANDOMIZE = os.environ.get("CUBE_FUZZ_RANDOM") != "1"

DIRCOPY = {
    "name": "pl-dircopy", "version": "2.1.1", "dock_image": "fnndsc/pl-dircopy:2.1.1",
    "type": "fs", "selfpath": "/usr/local/bin", "selfexec": "dircopy", "execshell": "",
    "parameters": [{"name": "dir", "type": "unextpath", "optional": False, "flag": "--dir"}],
}  # fmt: skip
SIMPLEDSAPP = {
    "name": "pl-simpledsapp", "version": "2.1.3", "dock_image": "fnndsc/pl-simpledsapp:2.1.3",
    "type": "ds", "selfpath": "/usr/local/bin", "selfexec": "simpledsapp", "execshell": "",
    "parameters": [
        {"name": "prefix", "type": "str", "optional": True, "flag": "--prefix", "default": ""},
    ],
}  # fmt: skip

schema = schemathesis.openapi.from_wsgi(
    "/schema/", application, headers={"Accept": "application/json"}
)
# The coverage phase sends dozens of boundary cases per operation, thousands in all: too slow
# for every run. CUBE_FUZZ_PHASES=examples,coverage,fuzzing turns it on.
schema.config.phases.update(
    phases=os.environ.get("CUBE_FUZZ_PHASES", "examples,fuzzing").split(",")
)


def seed(owner: User, storage) -> None:
    """One object of each main kind, owned by ``owner``, so that small ids often exist."""
    ComputeResource.objects.create(
        name="host", compute_url="http://pfcon.invalid/api/v1/", compute_user="pfcon",
        compute_password="pfcon1234",
    )  # fmt: skip
    plugin = register_plugin(DIRCOPY, compute_names=["host"])
    feed = Feed.objects.create(name="feed", creator=owner)
    feed.owner.add(owner)
    Note.objects.create(feed=feed)
    output_path = f"{owner.username}/feed_{feed.pk}/pl-dircopy_1/data"
    instance = PluginInstance.objects.create(
        plugin=plugin, owner=owner, feed=feed, status=Status.FINISHED_SUCCESSFULLY,
        output_path=output_path, cpu_limit=1000, memory_limit=200, number_of_workers=1,
        gpu_limit=0,
    )  # fmt: skip
    fname = f"{output_path}/out.txt"
    fsize = storage.put(fname, io.BytesIO(b"output"))
    add_instance_file(plugin_inst=instance, feed=feed, fname=fname, fsize=fsize)
    tag = Tag.objects.create(owner=owner, name="tag", color="blue")
    Tagging.objects.create(tag=tag, feed=feed)
    Comment.objects.create(feed=feed, owner=owner, title="title", content="content")
    create_uploaded_file(
        owner=owner, upload_path=f"{owner.username}/uploads/in.txt", stream=io.BytesIO(b"input")
    )
    ds_plugin = register_plugin(SIMPLEDSAPP, compute_names=["host"])
    tree = [{"title": "a", "plugin_id": ds_plugin.pk, "previous": None}]
    create_pipeline(owner=owner, name="pipeline", plugin_tree=tree)


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Keep the test's database connection across requests, as Django's test client does.

    Calling the WSGI app directly fires request_started/finished, whose handler would close
    the connection the test transaction lives on (PostgreSQL; in-memory SQLite never closes).
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(params=["user", "superuser"])
def auth_headers(request, db, storage) -> dict[str, str]:
    user = User.objects.create_user("alice", "alice@example.org", "alice-password")
    seed(user, storage)
    if request.param == "superuser":
        user = User.objects.create_superuser("chris", "chris@example.org", "chris1234")
    token = Token.objects.create(user=user)
    return {"Authorization": f"Token {token.key}", "Accept": "application/json"}


@pytest.mark.fuzz
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=DERANDOMIZE,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case, auth_headers):
    case.call_and_validate(headers=auth_headers, checks=[not_a_server_error])
    if case.media_type == "application/json" and not isinstance(case.body, NotSet):
        try:
            body = json.dumps(as_template(case.body))
        except TypeError:  # bytes for a binary field: JSON can't carry them either way
            return
        case.call_and_validate(
            headers={**auth_headers, "Content-Type": CJ}, data=body, checks=[not_a_server_error]
        )


def as_template(body):
    """The C+J write template of a JSON object body; anything else is sent as it is."""
    if not isinstance(body, dict):
        return body
    return {"template": {"data": [{"name": name, "value": value} for name, value in body.items()]}}
