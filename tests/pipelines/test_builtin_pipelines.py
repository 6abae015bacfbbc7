"""The built-in pipelines (pipelines/builtin/), created at start-up by register_pipelines."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from pipelines.models import Pipeline
from plugins.models import ComputeResource
from plugins.services.registry import register_plugin

pytestmark = pytest.mark.django_db

# The upstream descriptors our built-ins reproduce.
SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "plugins"
DICOM_TO_IMAGES = ("pl-unstack-folders", "pl-pfdicom_tagExtract", "pl-med2img")


@pytest.fixture
def imaging_plugins(db) -> None:
    ComputeResource.objects.create(name="host", compute_url="http://127.0.0.1:1/api/v1/")
    for name in DICOM_TO_IMAGES:
        descriptor = json.loads((SPEC / f"{name}.json").read_text())
        register_plugin(descriptor, compute_names=["host"])


def test_dicom_to_images_is_registered_once(superuser, imaging_plugins, capsys):
    call_command("register_pipelines")
    pipeline = Pipeline.objects.get(name="DICOM to images")
    assert pipeline.owner == superuser and not pipeline.locked
    pipings = {piping.title: piping for piping in pipeline.plugin_pipings.all()}
    assert {title: piping.plugin.meta.name for title, piping in pipings.items()} == {
        "unstack": "pl-unstack-folders",
        "dicom-headers": "pl-pfdicom_tagExtract",
        "png-slices": "pl-med2img",
    }
    assert pipings["unstack"].previous is None
    assert pipings["dicom-headers"].previous == pipings["unstack"]
    assert pipings["png-slices"].previous == pipings["unstack"]
    defaults = {
        default.plugin_param.name: default.value
        for default in pipings["png-slices"].parameter_defaults.select_related("plugin_param")
    }
    assert defaults["inputFileSubStr"] == ".dcm"
    assert defaults["outputFileType"] == "png"
    assert pipeline.source_file.fname == "PIPELINES/chris/dicom_to_images.yml"
    assert "registered from dicom_to_images.yml" in capsys.readouterr().out

    call_command("register_pipelines")
    assert "is registered" in capsys.readouterr().out
    assert Pipeline.objects.count() == 1


def test_a_pipeline_whose_plugins_are_missing_is_skipped(superuser, capsys):
    call_command("register_pipelines")
    assert not Pipeline.objects.exists()
    assert "dicom_to_images.yml: not registered" in capsys.readouterr().err
