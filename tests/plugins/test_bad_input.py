"""Bad input to the plugin routes gets a clear 400 and changes nothing (issue 10, items 3, 4, 7)."""

import io
import re
import time

import pytest

from plugins.models import PluginInstance, PluginInstanceSplit
from plugins.regexes import UnsafeRegex, check_regex
from plugins.services.registry import register_plugin
from tests.helpers import CJ, add_instance_file, cj_items, cj_template

pytestmark = pytest.mark.django_db

FLOATAPP = {
    "name": "pl-floatapp", "version": "1.0", "dock_image": "fnndsc/pl-floatapp:1.0",
    "type": "fs", "selfpath": "/usr/local/bin", "selfexec": "floatapp", "execshell": "",
    "parameters": [
        {"name": "scale", "type": "float", "optional": True, "flag": "--scale", "default": 1.0},
    ],
}  # fmt: skip


@pytest.fixture
def uploads(storage):
    storage.put("alice/uploads/DICOM/dataset1/0001.dcm", io.BytesIO(b"dicom"))


@pytest.fixture
def floatapp(compute_resource):
    return register_plugin(FLOATAPP, compute_names=[compute_resource.name])


@pytest.fixture
def instance(client, dircopy, uploads) -> dict:
    body = cj_template({"dir": "alice/uploads/DICOM/dataset1"})
    response = client.post(f"/api/v1/plugins/{dircopy.pk}/instances/", body, content_type=CJ)
    assert response.status_code == 201, response.content
    return cj_items(response)[0]


def error_message(response) -> str:
    return response.json()["collection"]["error"]["message"]


@pytest.mark.parametrize(
    "regex, reason",
    [
        ("(", "not a valid regular expression"),
        ("[a-", "not a valid regular expression"),
        ("(a+)+$", "several ways"),
        ("(a|ab)*c", "several ways"),
        (".*.*.*x", "too long to match"),
        (r"(\w)\1", "backreferences"),
        ("x" * 201, "longer than 200"),
    ],
)
def test_split_refuses_bad_and_unbounded_regexes(client, topologicalcopy, instance, regex, reason):
    url = f"/api/v1/plugins/instances/{instance['id']}/splits/"
    response = client.post(url, cj_template({"filter": rf"\.dcm$,{regex}"}), content_type=CJ)
    assert response.status_code == 400
    assert "filter" in error_message(response)
    assert reason in error_message(response)
    assert not PluginInstanceSplit.objects.exists()
    assert PluginInstance.objects.count() == 1


def test_split_accepts_ordinary_filters(client, topologicalcopy, instance):
    url = f"/api/v1/plugins/instances/{instance['id']}/splits/"
    filters = r"\.dcm$, ^data/.*/.*\.json$, [a-z]+_(left|right)\.nii"
    response = client.post(url, cj_template({"filter": filters}), content_type=CJ)
    assert response.status_code == 201, response.content
    assert len(cj_items(response)[0]["created_plugin_inst_ids"].split(",")) == 3


def test_split_caps_the_number_of_filters(client, topologicalcopy, instance):
    url = f"/api/v1/plugins/instances/{instance['id']}/splits/"
    response = client.post(url, cj_template({"filter": ",".join(["x"] * 101)}), content_type=CJ)
    assert response.status_code == 400
    assert PluginInstance.objects.count() == 1


def test_ts_filter_parameter_is_checked_like_a_split(client, topologicalcopy, instance):
    body = {"previous_id": instance["id"], "plugininstances": str(instance["id"]), "filter": "("}
    response = client.post(
        f"/api/v1/plugins/{topologicalcopy.pk}/instances/", cj_template(body), content_type=CJ
    )
    assert response.status_code == 400
    assert "value" in error_message(response)
    assert PluginInstance.objects.count() == 1


@pytest.mark.parametrize(
    "regex", ["(a+)+$", "(a|aa)*$", "(x?x?)*y", ".*.*.*.*x", r"(\d+\.)*!", "(?:a*)*b", "a*a*a*!"]
)
def test_pathological_regexes_are_refused(regex):
    with pytest.raises(UnsafeRegex):
        check_regex(regex)


@pytest.mark.parametrize(
    "regex",
    [r".*\.dcm$", "^a*a*!", "a*!", r"^[^/]*/.*\.json$", "(a|b)*!", "x?x?y", "a{0,30}a{0,30}!"],
)
def test_accepted_regexes_match_the_longest_keys_quickly(regex):
    """What the rule accepts stays fast on the subjects that make backtracking blow up."""
    check_regex(regex)
    compiled = re.compile(regex)
    started = time.monotonic()
    for subject in ("a" * 1024, "a/" * 512, "x" * 1024, "1." * 512, "a" * 1023 + "/"):
        compiled.search(subject)
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"])
def test_non_finite_floats_are_refused(client, floatapp, value):
    response = client.post(
        f"/api/v1/plugins/{floatapp.pk}/instances/", cj_template({"scale": value}), content_type=CJ
    )
    assert response.status_code == 400
    assert "not a valid float" in error_message(response)
    assert not PluginInstance.objects.exists()


@pytest.mark.parametrize(
    "value, reason",
    [
        ("alice/uploads/a\x00b", "NUL characters"),
        ("alice/uploads/a\nb", "control characters"),
        ("alice/uploads/.storage-put-1234", ".storage-put-"),
        ("alice/uploads/" + "x" * 256, "255 bytes"),
        ("alice/uploads/" + "é" * 128, "255 bytes"),
    ],
)
def test_bad_path_values_are_a_400(client, dircopy, uploads, value, reason):
    response = client.post(
        f"/api/v1/plugins/{dircopy.pk}/instances/", cj_template({"dir": value}), content_type=CJ
    )
    assert response.status_code == 400
    assert reason in error_message(response)
    assert not PluginInstance.objects.exists()


@pytest.mark.parametrize("value", [10**400, 1e400, "1" + "0" * 400])
def test_floats_beyond_range_are_refused_in_json(client, floatapp, value):
    response = client.post(
        f"/api/v1/plugins/{floatapp.pk}/instances/",
        '{"scale": ' + (f'"{value}"' if isinstance(value, str) else str(value)) + "}",
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not PluginInstance.objects.exists()


def test_nul_in_dir_is_a_400_as_json_too(client, dircopy, uploads):
    response = client.post(
        f"/api/v1/plugins/{dircopy.pk}/instances/",
        {"dir": "alice/uploads/\x00"},
        format="json",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert "NUL characters" in response.json()["detail"]


def test_files_with_control_characters_list_and_download(client, instance, storage):
    """An output file named with a newline (a plugin can write one) lists and downloads."""
    plugin_instance = PluginInstance.objects.get(pk=instance["id"])
    fname = f"{plugin_instance.output_path}/bad\nname\t.txt"
    storage.put(fname, io.BytesIO(b"odd"))
    row = add_instance_file(
        plugin_inst=plugin_instance, feed=plugin_instance.feed, fname=fname, fsize=3
    )
    for url in (
        "/api/v1/files/",
        "/api/v1/files/search/?fname_icontains=bad",
        f"/api/v1/{plugin_instance.feed_id}/files/",
        f"/api/v1/plugins/instances/{plugin_instance.pk}/files/",
        f"/api/v1/files/{row.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert client.get(url, HTTP_ACCEPT="application/json").status_code == 200, url
    item = cj_items(client.get(f"/api/v1/files/{row.pk}/"))[0]
    assert item["fname"] == fname
    assert item["file_resource"] == f"http://testserver/api/v1/files/{row.pk}/bad%250Aname%09.txt"
    download = client.get(item["file_resource"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"odd"
    assert download["Content-Disposition"] == "inline; filename*=utf-8''bad%0Aname%09.txt"
