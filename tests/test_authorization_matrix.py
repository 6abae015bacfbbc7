"""Who may do what on every route: a table checked against the URLconf (issue 10).

``ROWS`` holds one row per named route of the API (``/api/v1/``, ``/chris-admin/api/v1/``
and the schema): for each method, the status each caller gets. The callers are anonymous,
another user, the owner of every object in the world below, and a superuser. A route the
URLconf has and the table lacks (or the reverse) fails ``test_every_route_has_a_row``, so a
new route can't arrive without its rules. The Django admin site, whose routes come from the
registered models, is checked with one rule: staff only.

The rules are those of ``shared/spec/cube-v5-api.md`` (§3, with the §11 fixes). Objects are
private (a feed that is not public, a locked pipeline), so the owner's rights and everyone
else's refusals show. Writes send a body that is valid for the owner, so "allowed" means the
write succeeds; each request runs in a savepoint that is rolled back, so every caller meets
the same world.
"""

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from feeds.models import Comment, Feed, Note, Tag, Tagging
from pacsfiles.models import PACS, PACSFile
from pipelines.models import DefaultPipingParameter, PipelineInstance, Workflow
from pipelines.services.sourcefiles import create_pipeline_source_file
from pipelines.services.trees import create_pipeline
from plugins.models import (
    ComputeResource,
    PluginInstance,
    PluginInstanceParameter,
    PluginInstanceSplit,
)
from plugins.services.registry import register_plugin
from plugins.status import Status
from servicefiles.models import Service, ServiceFile
from tests.helpers import CJ, add_instance_file, cj_template
from uploadedfiles.services import create_uploaded_file

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "other", "owner", "superuser")
DELETED = frozenset({202, 204})  # a delete answered at once, or marked and left to a worker

SIMPLEDSAPP = {
    "name": "pl-simpledsapp", "version": "2.1.3", "dock_image": "fnndsc/pl-simpledsapp:2.1.3",
    "type": "ds", "selfpath": "/usr/local/bin", "selfexec": "simpledsapp", "execshell": "",
    "parameters": [
        {"name": "prefix", "type": "str", "optional": True, "flag": "--prefix", "default": ""},
        {"name": "flag", "type": "bool", "optional": True, "flag": "--flag",
         "action": "store_true", "default": False},
        {"name": "count", "type": "int", "optional": True, "flag": "--count", "default": 1},
        {"name": "scale", "type": "float", "optional": True, "flag": "--scale", "default": 1.5},
    ],
}  # fmt: skip
DIRCOPY = {
    "name": "pl-dircopy", "version": "2.1.1", "dock_image": "fnndsc/pl-dircopy:2.1.1",
    "type": "fs", "selfpath": "/usr/local/bin", "selfexec": "dircopy", "execshell": "",
    "parameters": [{"name": "dir", "type": "unextpath", "optional": False, "flag": "--dir"}],
}  # fmt: skip
SIMPLEFSAPP = {
    "name": "pl-simplefsapp", "version": "1.0.1", "dock_image": "fnndsc/pl-simplefsapp:1.0.1",
    "type": "fs", "selfpath": "/usr/local/bin", "selfexec": "simplefsapp", "execshell": "",
    "parameters": [{"name": "dir", "type": "path", "optional": False, "flag": "--dir"}],
}  # fmt: skip
TOPOLOGICALCOPY = {
    "name": "pl-topologicalcopy", "version": "1.0.12",
    "dock_image": "fnndsc/pl-topologicalcopy:1.0.12", "type": "ts",
    "selfpath": "/usr/local/bin", "selfexec": "topologicalcopy", "execshell": "",
    "parameters": [
        {"name": "plugininstances", "type": "str", "optional": True,
         "flag": "--plugininstances", "default": ""},
        {"name": "filter", "type": "str", "optional": True, "flag": "--filter", "default": ""},
    ],
}  # fmt: skip


def rule(anonymous, other, owner, superuser) -> dict[str, Any]:
    return dict(zip(ROLES, (anonymous, other, owner, superuser), strict=True))


# The rules of §3, by the status each caller gets when it is allowed (`ok`).
def anyone(ok=200):
    return rule(ok, ok, ok, ok)


def signed_in(ok=200):
    return rule(401, ok, ok, ok)


def owner_or_superuser(ok=200, superuser=None):
    return rule(401, 403, ok, ok if superuser is None else superuser)


def superuser_only(ok=200):
    return rule(401, 403, 403, ok)


def hidden_from_others(ok=200):
    """Visible to its owner and superusers only; to the others it does not exist."""
    return rule(404, 404, ok, ok)


class World:
    """Every kind of object, owned by ``owner`` and private; ``other`` owns a feed too."""

    def __init__(self, storage):
        self.storage = storage
        self.stored: dict[str, bytes] = {}  # every object, to put back after each write
        self.owner = User.objects.create_user("alice", "alice@example.org", "alice-password")
        self.other = User.objects.create_user("bobby", "bobby@example.org", "bobby-password")
        self.superuser = User.objects.create_superuser("chris", "chris@example.org", "chris1234")
        for user in (self.owner, self.other, self.superuser):
            self.put(f"{user.username}/uploads/in/x.txt", b"input")
        self.compute = ComputeResource.objects.create(
            name="host", compute_url="http://pfcon.invalid/api/v1/", compute_user="pfcon",
            compute_password="pfcon1234",
        )  # fmt: skip
        plugins = {
            spec["name"]: register_plugin(spec, compute_names=["host"])
            for spec in (DIRCOPY, SIMPLEDSAPP, SIMPLEFSAPP, TOPOLOGICALCOPY)
        }
        self.dircopy, self.simpledsapp = plugins["pl-dircopy"], plugins["pl-simpledsapp"]
        self.feed = self.make_feed("feed")
        self.spare_feed = self.make_feed("spare")
        self.root = self.make_instance(self.dircopy, self.feed, None, Status.FINISHED_SUCCESSFULLY)
        # A finished instance of each caller's own, to run pipelines after.
        self.roots = {
            "owner": self.root,
            **{
                role: self.make_instance(
                    self.dircopy, self.make_feed("own", user), None, Status.FINISHED_SUCCESSFULLY
                )
                for role, user in (("other", self.other), ("superuser", self.superuser))
            },
        }
        self.child = self.make_instance(self.simpledsapp, self.feed, self.root, Status.STARTED)
        fs_path = self.make_instance(plugins["pl-simplefsapp"], self.spare_feed, None, "cancelled")
        self.values = {
            "unextpath": self.value(self.root, "dir", "alice/uploads/in"),
            "path": self.value(fs_path, "dir", "alice/uploads/in"),
            "string": self.value(self.child, "prefix", "p"),
            "boolean": self.value(self.child, "flag", True),
            "integer": self.value(self.child, "count", 2),
            "float": self.value(self.child, "scale", 2.5),
        }
        fname = f"{self.root.output_path}/out.txt"
        self.put(fname, b"output")
        self.file = add_instance_file(plugin_inst=self.root, feed=self.feed, fname=fname, fsize=6)
        self.split = PluginInstanceSplit.objects.create(plugin_inst=self.root, filter="")
        self.comment = Comment.objects.create(
            feed=self.feed, owner=self.owner, title="t", content="c"
        )
        self.tag = Tag.objects.create(owner=self.owner, name="tag", color="blue")
        self.spare_tag = Tag.objects.create(owner=self.owner, name="spare", color="red")
        self.tagging = Tagging.objects.create(tag=self.tag, feed=self.feed)
        self.upload = create_uploaded_file(
            owner=self.owner, upload_path="alice/uploads/up.txt", stream=io.BytesIO(b"up")
        )
        self.stored[self.upload.fname] = b"up"
        self.put("SERVICES/PACS/orthanc/1.dcm", b"dicom")
        self.pacs_file = PACSFile.objects.create(
            fname="SERVICES/PACS/orthanc/1.dcm", fsize=5, PatientID="1", StudyDate="2020-01-01",
            StudyInstanceUID="1", SeriesInstanceUID="1",
            pacs=PACS.objects.create(identifier="orthanc"),
        )  # fmt: skip
        self.put("SERVICES/MRI/1.txt", b"mri")
        self.service_file = ServiceFile.objects.create(
            fname="SERVICES/MRI/1.txt", fsize=3, service=Service.objects.create(identifier="MRI")
        )
        tree = [
            {"title": "a", "plugin_id": self.simpledsapp.pk, "previous": None,
             "plugin_parameter_defaults": [
                 {"name": "prefix", "default": "p"}, {"name": "flag", "default": True},
                 {"name": "count", "default": 3}, {"name": "scale", "default": 0.5}]},
        ]  # fmt: skip
        self.pipeline = create_pipeline(owner=self.owner, name="locked", plugin_tree=tree)
        self.piping = self.pipeline.plugin_pipings.get()
        self.defaults = {
            default.plugin_param.type: default
            for default in DefaultPipingParameter.objects.filter(plugin_piping=self.piping)
        }
        self.source_file = create_pipeline_source_file(
            owner=self.owner, filename="p.yml", stream=io.BytesIO(b"name: p\n"), type="yaml",
            pipeline_fields={"name": "from a file", "plugin_tree": tree},
        )  # fmt: skip
        self.pipeline_instance = PipelineInstance.objects.create(
            pipeline=self.pipeline, owner=self.owner, title="legacy"
        )
        self.workflow = Workflow.objects.create(
            pipeline=self.pipeline, owner=self.owner, title="run"
        )

    def put(self, key: str, content: bytes) -> None:
        self.storage.put(key, io.BytesIO(content))
        self.stored[key] = content

    def restore_storage(self) -> None:
        """Put back what a write moved or deleted: rolling back the database can't."""
        for key, content in self.stored.items():
            if not self.storage.exists(key):
                self.storage.put(key, io.BytesIO(content))

    def make_feed(self, name: str, owner: User | None = None) -> Feed:
        owner = owner or self.owner
        feed = Feed.objects.create(name=name, creator=owner)
        feed.owner.add(owner)
        Note.objects.create(feed=feed)
        return feed

    def make_instance(self, plugin, feed, previous, status) -> PluginInstance:
        instance = PluginInstance.objects.create(
            plugin=plugin, owner=feed.creator, feed=feed, previous=previous, status=status,
            compute_resource=self.compute, cpu_limit=1000, memory_limit=200,
            number_of_workers=1, gpu_limit=0,
        )  # fmt: skip
        parent = (
            previous.output_path.removesuffix("/data")
            if previous
            else f"{feed.creator.username}/feed_{feed.pk}"
        )
        instance.output_path = f"{parent}/{plugin.meta.name}_{instance.pk}/data"
        instance.save(update_fields=["output_path"])
        return instance

    def value(self, instance, name, value) -> PluginInstanceParameter:
        return PluginInstanceParameter.objects.create(
            plugin_inst=instance,
            plugin_param=instance.plugin.parameters.get(name=name),
            value=value,
        )

    def user(self, role: str) -> User | None:
        return {"other": self.other, "owner": self.owner, "superuser": self.superuser}.get(role)


def template(**data) -> Callable[["World", str], dict]:
    """A C+J write template, the same for every caller."""
    return lambda world, role: {"data": cj_template(data), "content_type": CJ}


def multipart(make: Callable[["World", str], dict]) -> Callable[["World", str], dict]:
    def build(world, role):
        data = make(world, role)
        for name, value in data.items():
            if isinstance(value, bytes):
                data[name] = io.BytesIO(value)
                data[name].name = name
        return {"data": data, "format": "multipart"}

    return build


def run_after_own_instance(world: World, role: str) -> dict:
    """A pipeline run after an instance the caller owns, so the pipeline's rule decides."""
    previous = world.roots.get(role, world.root)
    return {"data": cj_template({"previous_plugin_inst_id": previous.pk}), "content_type": CJ}


def username(world: World, role: str) -> str:
    user = world.user(role)
    return user.username if user else "nobody"


@dataclass
class Row:
    """One route: how to build its URL, and per method the status of each caller."""

    url: Callable[[World], str]
    expect: dict[str, dict[str, Any]]
    bodies: dict[str, Callable[[World, str], dict]] = field(default_factory=dict)
    api: bool = True  # an API view: PATCH is a 405


def api(path: str) -> Callable[[World], str]:
    """``path`` below /api/v1/, formatted with the world (``{w.feed.pk}``)."""
    return lambda w: "/api/v1/" + path.format(w=w)


ROWS: dict[str, Row] = {
    # Users and tokens
    "api-token-auth": Row(
        api("auth-token/"),
        {"POST": anyone(200)},
        {"POST": lambda w, r: {"data": {"username": "alice", "password": "alice-password"}}},
    ),
    "rest_framework:login": Row(api("auth/login/"), {"GET": anyone(200)}),
    # Django 5 logs out on POST only (v5's Django 4.2 also took GET).
    "rest_framework:logout": Row(api("auth/logout/"), {"POST": anyone(200)}),
    "user-list": Row(
        api("users/"),
        {"GET": anyone(200), "POST": anyone(201)},
        {"POST": template(username="newbie", password="password1", email="n@example.org")},
    ),
    "user-detail": Row(
        api("users/{w.owner.pk}/"),
        {"GET": signed_in(200), "PUT": owner_or_superuser(200)},
        {"PUT": template(email="alice2@example.org", password="password2")},
    ),
    # Uploads
    "uploadedfile-list": Row(
        api("uploadedfiles/"),
        {"GET": signed_in(200), "POST": signed_in(201)},
        {
            "POST": multipart(
                lambda w, r: {"upload_path": f"{username(w, r)}/uploads/new.txt", "fname": b"x"}
            )
        },
    ),
    "uploadedfile-list-query-search": Row(api("uploadedfiles/search/"), {"GET": signed_in()}),
    "uploadedfile-detail": Row(
        api("uploadedfiles/{w.upload.pk}/"),
        {
            "GET": owner_or_superuser(200),
            "PUT": owner_or_superuser(200),
            "DELETE": owner_or_superuser(204),
        },
        {
            "PUT": lambda w, r: {
                "data": cj_template({"upload_path": f"alice/uploads/moved-by-{r}.txt"}),
                "content_type": CJ,
            }
        },
    ),
    "uploadedfile-resource": Row(
        api("uploadedfiles/{w.upload.pk}/up.txt"), {"GET": owner_or_superuser(200)}
    ),
    # Compute resources and plugins
    "computeresource-list": Row(api("computeresources/"), {"GET": signed_in()}),
    "computeresource-list-query-search": Row(api("computeresources/search/"), {"GET": signed_in()}),
    "computeresource-detail": Row(api("computeresources/{w.compute.pk}/"), {"GET": signed_in()}),
    "pluginmeta-list": Row(api("plugins/metas/"), {"GET": anyone()}),
    "pluginmeta-list-query-search": Row(api("plugins/metas/search/"), {"GET": anyone()}),
    "pluginmeta-detail": Row(api("plugins/metas/{w.dircopy.meta_id}/"), {"GET": anyone()}),
    "pluginmeta-plugin-list": Row(
        api("plugins/metas/{w.dircopy.meta_id}/plugins/"), {"GET": anyone()}
    ),
    "plugin-list": Row(api("plugins/"), {"GET": anyone()}),
    "plugin-list-query-search": Row(api("plugins/search/"), {"GET": anyone()}),
    "plugin-detail": Row(api("plugins/{w.dircopy.pk}/"), {"GET": anyone()}),
    "pluginparameter-list": Row(api("plugins/{w.dircopy.pk}/parameters/"), {"GET": anyone()}),
    "pluginparameter-detail": Row(
        api("plugins/parameters/{w.values[unextpath].plugin_param_id}/"), {"GET": anyone()}
    ),
    "plugin-computeresource-list": Row(
        api("plugins/{w.dircopy.pk}/computeresources/"), {"GET": signed_in()}
    ),
    # Plugin instances: every signed-in user reads them (v5); the owner or a superuser
    # changes them; only the owner splits one.
    "plugininstance-list": Row(
        api("plugins/{w.dircopy.pk}/instances/"),
        {"GET": signed_in(), "POST": signed_in(201)},
        {
            "POST": lambda w, r: {
                "data": cj_template({"dir": f"{username(w, r)}/uploads/in"}),
                "content_type": CJ,
            }
        },
    ),
    "allplugininstance-list": Row(api("plugins/instances/"), {"GET": signed_in()}),
    "allplugininstance-list-query-search": Row(
        api("plugins/instances/search/"), {"GET": signed_in()}
    ),
    "plugininstance-detail": Row(
        api("plugins/instances/{w.child.pk}/"),
        {
            "GET": signed_in(),
            "PUT": owner_or_superuser(200),
            "DELETE": owner_or_superuser(DELETED),
        },
        {"PUT": template(title="renamed")},
    ),
    "plugininstance-descendant-list": Row(
        api("plugins/instances/{w.root.pk}/descendants/"), {"GET": signed_in()}
    ),
    "plugininstance-parameter-list": Row(
        api("plugins/instances/{w.child.pk}/parameters/"), {"GET": signed_in()}
    ),
    "plugininstance-file-list": Row(
        api("plugins/instances/{w.root.pk}/files/"), {"GET": owner_or_superuser()}
    ),
    "plugininstancesplit-list": Row(
        api("plugins/instances/{w.root.pk}/splits/"),
        {"GET": signed_in(), "POST": owner_or_superuser(201, superuser=403)},
        {"POST": template(filter=r"\.txt$")},
    ),
    "plugininstancesplit-detail": Row(
        api("plugins/instances/splits/{w.split.pk}/"), {"GET": signed_in()}
    ),
    **{
        f"{kind}parameter-detail": Row(
            api(f"plugins/{kind}-parameter/{{w.values[{kind}].pk}}/"), {"GET": signed_in()}
        )
        for kind in ("string", "integer", "float", "boolean", "path", "unextpath")
    },
    # Feed output files: the feed's readers
    "pluginfile-list": Row(api("files/"), {"GET": signed_in()}),
    "pluginfile-list-query-search": Row(api("files/search/"), {"GET": signed_in()}),
    "pluginfile-detail": Row(api("files/{w.file.pk}/"), {"GET": owner_or_superuser()}),
    "pluginfile-resource": Row(api("files/{w.file.pk}/out.txt"), {"GET": owner_or_superuser()}),
    # Feeds and what hangs on them
    "feed-list": Row(api(""), {"GET": anyone()}),
    "feed-list-query-search": Row(api("search/"), {"GET": signed_in()}),
    "publicfeed-list": Row(api("publicfeeds/"), {"GET": anyone()}),
    "publicfeed-list-query-search": Row(api("publicfeeds/search/"), {"GET": anyone()}),
    "feed-detail": Row(
        api("{w.feed.pk}/"),
        {
            "GET": owner_or_superuser(),
            "PUT": owner_or_superuser(),
            "DELETE": owner_or_superuser(DELETED),
        },
        {"PUT": template(name="renamed")},
    ),
    "note-detail": Row(
        api("note{w.feed.note.pk}/"),
        {"GET": owner_or_superuser(), "PUT": owner_or_superuser()},
        {"PUT": template(title="n", content="c")},
    ),
    "feedfile-list": Row(api("{w.feed.pk}/files/"), {"GET": owner_or_superuser()}),
    "feed-plugininstance-list": Row(
        api("{w.feed.pk}/plugininstances/"), {"GET": owner_or_superuser()}
    ),
    "comment-list": Row(
        api("{w.feed.pk}/comments/"),
        {"GET": owner_or_superuser(), "POST": owner_or_superuser(201)},
        {"POST": template(title="t", content="c")},
    ),
    "comment-list-query-search": Row(
        api("{w.feed.pk}/comments/search/"), {"GET": owner_or_superuser()}
    ),
    "comment-detail": Row(
        api("comments/{w.comment.pk}/"),
        {
            "GET": signed_in(),
            "PUT": owner_or_superuser(),
            "DELETE": owner_or_superuser(204),
        },
        {"PUT": template(title="t2", content="c2")},
    ),
    "feed-tag-list": Row(api("{w.feed.pk}/tags/"), {"GET": owner_or_superuser()}),
    "feed-tagging-list": Row(
        api("{w.feed.pk}/taggings/"),
        # A superuser may tag the feed, but only with its own tags.
        {"GET": owner_or_superuser(), "POST": owner_or_superuser(201, superuser=400)},
        {
            "POST": lambda w, r: {
                "data": cj_template({"tag_id": w.spare_tag.pk}),
                "content_type": CJ,
            }
        },
    ),
    # Tags are private
    "tag-list": Row(
        api("tags/"),
        {"GET": signed_in(), "POST": signed_in(201)},
        {"POST": template(name="t", color="red")},
    ),
    "tag-list-query-search": Row(api("tags/search/"), {"GET": signed_in()}),
    "tag-detail": Row(
        api("tags/{w.tag.pk}/"),
        {
            "GET": owner_or_superuser(),
            "PUT": owner_or_superuser(),
            "DELETE": owner_or_superuser(204),
        },
        {"PUT": template(name="t2", color="green")},
    ),
    "tag-feed-list": Row(api("tags/{w.tag.pk}/feeds/"), {"GET": owner_or_superuser()}),
    "tag-tagging-list": Row(
        api("tags/{w.tag.pk}/taggings/"),
        # The feed must be the caller's own: a superuser co-owns no feed here.
        {"GET": owner_or_superuser(), "POST": owner_or_superuser(201, superuser=400)},
        {
            "POST": lambda w, r: {
                "data": cj_template({"feed_id": w.spare_feed.pk}),
                "content_type": CJ,
            }
        },
    ),
    "tagging-detail": Row(
        api("taggings/{w.tagging.pk}/"),
        {"GET": owner_or_superuser(), "DELETE": owner_or_superuser(204)},
    ),
    # Pipelines: a locked pipeline is its owner's (and superusers') alone
    "pipeline-list": Row(
        api("pipelines/"),
        {"GET": anyone(), "POST": signed_in(201)},
        {
            "POST": lambda w, r: {
                "data": cj_template(
                    {
                        "name": f"new by {r}",
                        "plugin_tree": json.dumps(
                            [{"title": "a", "plugin_id": w.simpledsapp.pk, "previous": None}]
                        ),
                    }
                ),
                "content_type": CJ,
            }
        },
    ),
    "pipeline-list-query-search": Row(api("pipelines/search/"), {"GET": anyone()}),
    "pipeline-detail": Row(
        api("pipelines/{w.pipeline.pk}/"),
        {
            "GET": owner_or_superuser(),
            "PUT": owner_or_superuser(),
            "DELETE": owner_or_superuser(204),
        },
        {"PUT": template(name="renamed")},
    ),
    "pipeline-customjson-detail": Row(
        api("pipelines/{w.pipeline.pk}/json/"), {"GET": owner_or_superuser()}
    ),
    "pipeline-plugin-list": Row(
        api("pipelines/{w.pipeline.pk}/plugins/"), {"GET": owner_or_superuser()}
    ),
    "pipeline-pluginpiping-list": Row(
        api("pipelines/{w.pipeline.pk}/pipings/"), {"GET": owner_or_superuser()}
    ),
    "pipeline-defaultparameter-list": Row(
        api("pipelines/{w.pipeline.pk}/parameters/"), {"GET": owner_or_superuser()}
    ),
    "pluginpiping-detail": Row(
        api("pipelines/pipings/{w.piping.pk}/"), {"GET": owner_or_superuser()}
    ),
    **{
        f"defaultpiping{name}parameter-detail": Row(
            api(f"pipelines/{kind}-parameter/{{w.defaults[{kind}].pk}}/"),
            {"GET": owner_or_superuser(), "PUT": owner_or_superuser()},
            {"PUT": template(value=value)},
        )
        for name, kind, value in (
            ("str", "string", "q"),
            ("int", "integer", 4),
            ("float", "float", 0.25),
            ("bool", "boolean", False),
        )
    },
    "pipelinesourcefile-list": Row(
        api("pipelines/sourcefiles/"),
        # An empty upload: the signed-in pass the permission check and fail validation.
        {"GET": anyone(), "POST": signed_in(400)},
        {"POST": lambda w, r: {"data": {}, "format": "multipart"}},
    ),
    "pipelinesourcefile-list-query-search": Row(
        api("pipelines/sourcefiles/search/"), {"GET": anyone()}
    ),
    "pipelinesourcefile-detail": Row(
        api("pipelines/sourcefiles/{w.source_file.pk}/"), {"GET": anyone()}
    ),
    "pipelinesourcefile-resource": Row(
        api("pipelines/sourcefiles/{w.source_file.pk}/p.yml"), {"GET": anyone()}
    ),
    # Runs of pipelines (legacy pipeline instances and workflows) are read by every user
    # who may read the pipeline; the run's owner or a superuser changes it.
    "pipelineinstance-list": Row(
        api("pipelines/{w.pipeline.pk}/instances/"),
        {"GET": owner_or_superuser(), "POST": owner_or_superuser(201)},
        {"POST": run_after_own_instance},
    ),
    "allpipelineinstance-list": Row(api("pipelines/instances/"), {"GET": signed_in()}),
    "allpipelineinstance-list-query-search": Row(
        api("pipelines/instances/search/"), {"GET": signed_in()}
    ),
    "pipelineinstance-detail": Row(
        api("pipelines/instances/{w.pipeline_instance.pk}/"),
        {
            "GET": signed_in(),
            "PUT": owner_or_superuser(),
            "DELETE": owner_or_superuser(204),
        },
        {"PUT": template(title="renamed")},
    ),
    "pipelineinstance-plugininstance-list": Row(
        api("pipelines/instances/{w.pipeline_instance.pk}/plugininstances/"),
        {"GET": signed_in()},
    ),
    "workflow-list": Row(
        api("pipelines/{w.pipeline.pk}/workflows/"),
        {"GET": owner_or_superuser(), "POST": owner_or_superuser(201)},
        {"POST": run_after_own_instance},
    ),
    "allworkflow-list": Row(api("pipelines/workflows/"), {"GET": signed_in()}),
    "allworkflow-list-query-search": Row(api("pipelines/workflows/search/"), {"GET": signed_in()}),
    "workflow-detail": Row(
        api("pipelines/workflows/{w.workflow.pk}/"),
        {"GET": signed_in(), "PUT": owner_or_superuser(), "DELETE": owner_or_superuser(204)},
        {"PUT": template(title="renamed")},
    ),
    "workflow-plugininstance-list": Row(
        api("pipelines/workflows/{w.workflow.pk}/plugininstances/"), {"GET": signed_in()}
    ),
    # The rest of /api/v1/
    "chrisinstance-detail": Row(api("chrisinstance/1/"), {"GET": signed_in()}),
    "pacsfile-list": Row(
        api("pacsfiles/"),
        # An empty registration: a superuser passes the permission check, then fails validation.
        {"GET": signed_in(), "POST": superuser_only(400)},
        {"POST": template()},
    ),
    "pacsfile-list-query-search": Row(api("pacsfiles/search/"), {"GET": signed_in()}),
    "pacsfile-detail": Row(api("pacsfiles/{w.pacs_file.pk}/"), {"GET": signed_in()}),
    "pacsfile-resource": Row(api("pacsfiles/{w.pacs_file.pk}/1.dcm"), {"GET": signed_in()}),
    "servicefile-list": Row(
        api("servicefiles/"),
        {"GET": signed_in(), "POST": superuser_only(400)},
        {"POST": template()},
    ),
    "servicefile-list-query-search": Row(api("servicefiles/search/"), {"GET": signed_in()}),
    "servicefile-detail": Row(api("servicefiles/{w.service_file.pk}/"), {"GET": signed_in()}),
    "servicefile-resource": Row(
        api("servicefiles/{w.service_file.pk}/1.txt"), {"GET": signed_in()}
    ),
    # The file browser answers everyone, showing each caller only what it may see.
    "filebrowserpath-list": Row(api("filebrowser/"), {"GET": anyone()}),
    "filebrowserpath-list-query-search": Row(
        api("filebrowser/search/?path=alice/uploads"), {"GET": anyone()}
    ),
    "filebrowserpath": Row(api("filebrowser/alice/uploads/"), {"GET": hidden_from_others()}),
    "filebrowserpathfile-list": Row(
        api("filebrowser-files/alice/uploads/"), {"GET": hidden_from_others()}
    ),
    # Staff JSON API (`admin` root link): empty bodies pass the check, then fail validation.
    "admin-plugin-list": Row(
        lambda w: "/chris-admin/api/v1/",
        {"GET": superuser_only(), "POST": superuser_only(400)},
        {"POST": template()},
    ),
    "admin-plugin-detail": Row(
        lambda w: f"/chris-admin/api/v1/{w.dircopy.pk}/",
        {"GET": superuser_only(), "PUT": superuser_only(), "DELETE": superuser_only(204)},
        {"PUT": template(compute_names="host")},
    ),
    "admin-computeresource-list": Row(
        lambda w: "/chris-admin/api/v1/computeresources/",
        {"GET": superuser_only(), "POST": superuser_only(400)},
        {"POST": template()},
    ),
    "admin-computeresource-detail": Row(
        lambda w: f"/chris-admin/api/v1/computeresources/{w.compute.pk}/",
        # Refused with a 400: the plugins would be left without a compute resource.
        {"GET": superuser_only(), "DELETE": superuser_only(400)},
    ),
    # Not in v5: the OpenAPI document and its viewer are public.
    "schema": Row(lambda w: "/schema/", {"GET": anyone()}),
    "swagger-ui": Row(lambda w: "/schema/swagger-ui/", {"GET": anyone()}),
    # The same-origin ChRIS_ui, public like any web page; the tests configure none.
    "ui": Row(lambda w: "/feeds/1", {"GET": anyone(404)}, api=False),
}


def route_names(patterns, namespace: str | None = None):
    """(name, pattern) of every route, with the namespace of the include that holds it."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from route_names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name, pattern, namespace


def api_routes() -> dict[str, URLPattern]:
    return {
        name: pattern
        for name, pattern, namespace in route_names(get_resolver().url_patterns)
        if namespace != "admin"
    }


def test_every_route_has_a_row():
    routes = api_routes()
    assert None not in routes, "every route outside the admin site needs a name"
    assert sorted(set(routes) - set(ROWS)) == [], "routes without a row in ROWS"
    assert sorted(set(ROWS) - set(routes)) == [], "rows without a route"


@pytest.fixture
def world(storage) -> World:
    return World(storage)


def call(world: World, role: str, method: str, row: Row):
    client = APIClient()
    user = world.user(role)
    if user is not None:
        client.force_authenticate(user)
    kwargs = row.bodies[method](world, role) if method in row.bodies else {}
    with transaction.atomic():
        response = getattr(client, method.lower())(row.url(world), **kwargs)
        transaction.set_rollback(True)
    if method != "GET":
        world.restore_storage()
    return response


@pytest.mark.parametrize("name", sorted(ROWS))
def test_route_answers_each_caller_by_the_rules(world, name):
    row = ROWS[name]
    wrong = []
    for method, expected in row.expect.items():
        for role in ROLES:
            status = call(world, role, method, row).status_code
            allowed = expected[role]
            if status not in (allowed if isinstance(allowed, frozenset) else {allowed}):
                wrong.append(f"{method} as {role}: {status}, expected {allowed}")
    # No PATCH anywhere (v5): a 405 for whoever passes the route's own check.
    for role in ROLES[1:] if row.api else ():
        status = call(world, role, "PATCH", row).status_code
        refused = any(expected[role] in (401, 403) for expected in row.expect.values())
        if status != 405 and not (refused and status == 403):
            wrong.append(f"PATCH as {role}: {status}, expected 405")
    if wrong:
        pytest.fail(f"{name}: " + "; ".join(wrong))


def admin_site_urls(world: World) -> list[str]:
    """One URL for every route of the admin site, with an existing object where it takes one."""
    samples = {
        "object_id": str(world.owner.pk),
        "content_type_id": "1",
        "id": str(world.owner.pk),
        "app_label": "feeds",
        "url": "nowhere/",
    }
    urls = []
    for _name, pattern, namespace in route_names(get_resolver().url_patterns):
        if namespace != "admin":
            continue
        route = str(pattern.pattern)
        for key, value in samples.items():
            for converter in ("", "path:", "int:", "str:"):
                route = route.replace(f"<{converter}{key}>", value)
        route = route.replace("^(?P<app_label>", "").replace(")/$", "/")
        route = route.split("|")[0] + ("/" if "|" in route else "")
        route = route.replace("(?P<url>.*)$", samples["url"])
        urls.append("/chris-admin/" + route)
    return urls


def test_admin_site_is_for_staff_only(world):
    urls = admin_site_urls(world)
    assert len(urls) > 50
    for role in ROLES:
        client = APIClient()
        if world.user(role) is not None:
            client.force_login(world.user(role))
        for url in urls:
            response = client.get(url)
            if role != "superuser":
                if url.endswith(("/login/", "/logout/")):
                    assert response.status_code in (200, 302, 405), url
                else:
                    assert response.status_code == 302, (role, url)
                    assert "/chris-admin/login/" in response["Location"], (role, url)
            else:
                assert response.status_code < 500, url
                assert "/login/" not in response.get("Location", ""), url
