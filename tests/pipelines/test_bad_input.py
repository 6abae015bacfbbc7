"""Pipeline defaults get the checks of a run request: bounded ts filters, finite floats."""

import json

import pytest

from pipelines.models import Pipeline, Workflow
from tests.helpers import CJ, cj_template
from tests.plugin_support import diamond_tree, make_fs_instance

pytestmark = pytest.mark.django_db


def tree_with(simpledsapp, topologicalcopy, name: str, value) -> str:
    """The diamond tree with one default set: ``filter`` on its ts node, others on its root."""
    tree = diamond_tree(simpledsapp, topologicalcopy)
    node = tree[3] if name == "filter" else tree[0]
    defaults = [d for d in node.get("plugin_parameter_defaults", []) if d["name"] != name]
    node["plugin_parameter_defaults"] = [*defaults, {"name": name, "default": value}]
    return json.dumps(tree)


@pytest.mark.parametrize(
    "name, value", [("filter", "("), ("filter", "(a+)+$"), ("dummyFloat", "nan")]
)
def test_bad_defaults_are_refused(client, simpledsapp, topologicalcopy, name, value):
    body = {"name": "bad", "plugin_tree": tree_with(simpledsapp, topologicalcopy, name, value)}
    response = client.post("/api/v1/pipelines/", cj_template(body), content_type=CJ)
    assert response.status_code == 400
    assert not Pipeline.objects.exists()


def test_bad_defaults_in_nodes_info_are_refused(client, user, pipeline, dircopy):
    previous = make_fs_instance(user, dircopy)
    join = pipeline.plugin_pipings.get(title="join")
    nodes_info = [{"piping_id": join.pk, "plugin_parameter_defaults": [
        {"name": "filter", "default": ".*.*.*x"}]}]  # fmt: skip
    body = {"previous_plugin_inst_id": previous.pk, "nodes_info": json.dumps(nodes_info)}
    response = client.post(
        f"/api/v1/pipelines/{pipeline.pk}/workflows/", cj_template(body), content_type=CJ
    )
    assert response.status_code == 400
    assert "nodes_info" in response.json()["collection"]["error"]["message"]
    assert not Workflow.objects.exists()
