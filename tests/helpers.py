"""Helpers shared by the tests: Collection+JSON documents, and services a test needs."""

import json
import os

import pytest

CJ = "application/vnd.collection+json"


def require_service(name: str, reachable: bool) -> None:
    """Skip a test whose service is missing, except under CI, where that is a failure."""
    if reachable:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is not reachable and CI=true: the service must run in CI")
    pytest.skip(f"{name} is not reachable")


def cj_items(response) -> list[dict]:
    """Items of a C+J response as plain dicts of data values and link hrefs."""
    items = []
    for item in response.json()["collection"]["items"]:
        values = {entry["name"]: entry["value"] for entry in item["data"]}
        for link in item.get("links", []):
            values.setdefault(link["rel"], link["href"])
        values["href"] = item.get("href")
        items.append(values)
    return items


def cj_template(data: dict) -> str:
    return json.dumps({"template": {"data": [{"name": k, "value": v} for k, v in data.items()]}})


def add_instance_file(*, fname: str, fsize: int, plugin_inst, feed):
    """A file row registered as outputs are, by ``insert_files``, which also counts it."""
    from plugins.models import PluginInstanceFile
    from plugins.services.outputs import insert_files

    insert_files([(fname, fsize)], plugin_inst_id=plugin_inst.pk, feed_id=feed.pk)
    return PluginInstanceFile.objects.get(fname=fname)


def migrate(targets):
    """Migrate the test database to ``targets``; the apps as of that state."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest_migrations():
    """Every app's newest migration: the schema the models describe."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor.loader.graph.leaf_nodes()
