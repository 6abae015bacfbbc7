import io
import json

import pytest
from django.contrib.auth.models import User
from rest_framework.exceptions import ValidationError

from chrisinstance.models import ChrisInstance
from chrisinstance.services import get_chris_instance
from plugins import tasks
from plugins.models import PluginInstance, PluginInstanceFile
from plugins.services import jobs
from plugins.services.compute import job_id
from plugins.services.instances import cancel_plugin_instance, create_plugin_instance
from plugins.services.lifecycle import set_status
from plugins.status import InvalidTransition, Status
from tests.plugin_support import compute_resource_for

pytestmark = pytest.mark.django_db


def put_files(storage, prefix: str, count: int) -> list[str]:
    keys = [f"{prefix}/{index:04}.dcm" for index in range(count)]
    for key in keys:
        storage.put(key, io.BytesIO(key.encode()))
    return keys


def run_to_end(instance: PluginInstance, steps: int = 20) -> PluginInstance:
    """Advance the instance as the beat poller would, until it reaches a final status."""
    for _ in range(steps):
        instance = PluginInstance.objects.get(pk=instance.pk)
        if instance.status not in (Status.SCHEDULED, Status.STARTED, Status.REGISTERING_FILES):
            return instance
        jobs.check_plugin_instance(instance, follow=False)
    raise AssertionError(f"instance stuck in {instance.status}")


def test_fs_instance_creates_feed_and_is_scheduled(
    dircopy, user, storage, django_capture_on_commit_callbacks
):
    put_files(storage, "alice/uploads/DICOM/dataset1", 2)
    with django_capture_on_commit_callbacks() as callbacks:
        instance = create_plugin_instance(
            dircopy, owner=user, parameters={"dir": "alice/uploads/DICOM/dataset1"}, title="seed"
        )
    assert len(callbacks) == 1  # the submit task
    assert instance.status == Status.SCHEDULED
    assert instance.feed.name == "seed"
    assert list(instance.feed.owner.all()) == [user]
    assert instance.output_path == f"alice/feed_{instance.feed_id}/pl-dircopy_{instance.pk}/data"
    assert instance.cpu_limit == 50 and instance.memory_limit == 200


def test_dircopy_runs_and_registers_copies_once(dircopy, user, storage, pfcon):
    keys = put_files(storage, "alice/uploads/DICOM/dataset1", 5)
    put_files(storage, "alice/uploads/DICOM/dataset10", 3)  # a sibling sharing the prefix
    instance = create_plugin_instance(dircopy, owner=user, parameters={"dir": "/DICOM/dataset1"})
    stored = instance.parameter_values.get()
    assert stored.value == "alice/uploads/DICOM/dataset1"
    instance = run_to_end(instance)
    assert instance.status == Status.FINISHED_SUCCESSFULLY, instance.summary
    fnames = sorted(
        PluginInstanceFile.objects.filter(plugin_inst=instance).values_list("fname", flat=True)
    )
    copies = f"{instance.output_path}/alice_uploads_DICOM_dataset1/DICOM/dataset1"
    assert fnames == [f"{copies}/{key.rsplit('/', 1)[1]}" for key in keys]
    assert instance.size == sum(len(key) for key in keys)
    summary = json.loads(instance.summary)
    assert summary["pullPath"]["status"] is True
    assert summary["compute"]["return"]["job_status"] == "finishedSuccessfully"
    # Registering again (a second poller, or a retry) adds nothing.
    assert PluginInstanceFile.objects.filter(plugin_inst=instance).count() == 5
    plugin_post = pfcon.requests_to("POST pluginjobs/")[0]
    assert plugin_post.form["args"] == ["--dir", "alice/uploads/DICOM/dataset1"]
    assert plugin_post.form["args_path_flags"] == ["--dir"]
    assert "CHRIS_USER_TOKEN" not in " ".join(plugin_post.form["env"])


def test_ds_instance_outputs_and_shell_metacharacters_pass_literally(
    dircopy, simpledsapp, user, storage, pfcon
):
    put_files(storage, "alice/uploads/in", 1)
    fs = run_to_end(
        create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    )
    literal = "$(touch /tmp/pwned); `id` | x > y"
    ds = create_plugin_instance(
        simpledsapp, owner=user, previous=fs, parameters={"prefix": literal, "dummyInt": "7"}
    )
    pfcon.set_output(job_id(ds), files={"out/le_a.txt": b"abc"})
    ds = run_to_end(ds)
    assert ds.status == Status.FINISHED_SUCCESSFULLY
    assert ds.output_path == fs.output_path.removesuffix("/data") + f"/pl-simpledsapp_{ds.pk}/data"
    post = pfcon.requests_to("POST pluginjobs/")[-1]
    assert post.form["args"] == ["--prefix", literal, "--dummyInt", "7"]
    assert post.form["input_dirs"] == [fs.output_path]
    assert f"CHRIS_PREV_PLG_INST_ID={fs.pk}" in post.form["env"]
    assert list(ds.files.values_list("fname", flat=True)) == [f"{ds.output_path}/out/le_a.txt"]


def test_job_ids_use_the_installations_stored_prefix(dircopy, simpledsapp, user, storage, pfcon):
    get_chris_instance()
    ChrisInstance.objects.update(job_id_prefix="chris-jid-0123abcd-")
    put_files(storage, "alice/uploads/in", 1)
    fs = run_to_end(
        create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    )
    ds = create_plugin_instance(simpledsapp, owner=user, previous=fs, parameters={})
    assert job_id(ds) == f"chris-jid-0123abcd-{ds.pk}"
    run_to_end(ds)
    jids = {request.form["jid"][0] for request in pfcon.requests_to("POST pluginjobs/")}
    assert jids == {f"chris-jid-0123abcd-{fs.pk}", f"chris-jid-0123abcd-{ds.pk}"}
    env = pfcon.requests_to("POST pluginjobs/")[-1].form["env"]
    assert f"CHRIS_JID=chris-jid-0123abcd-{ds.pk}" in env
    assert f"CHRIS_PREV_JID=chris-jid-0123abcd-{fs.pk}" in env


def test_zip_mode_stores_outputs_from_the_zip(user, storage, zip_pfcon, db):
    from plugins.services.registry import register_plugin
    from tests.plugin_support import SIMPLEFSAPP

    resource = compute_resource_for(zip_pfcon, name="remote")
    plugin = register_plugin(SIMPLEFSAPP, compute_names=[resource.name])
    put_files(storage, "alice/uploads/data", 2)
    instance = create_plugin_instance(plugin, owner=user, parameters={"dir": "alice/uploads/data"})
    zip_pfcon.set_output(job_id(instance), files={"out.txt": b"listing", "sub/x": b"1"})
    instance = run_to_end(instance)
    assert instance.status == Status.FINISHED_SUCCESSFULLY, instance.summary
    assert b"".join(storage.open(f"{instance.output_path}/out.txt")) == b"listing"
    assert instance.files.count() == 2
    upload = zip_pfcon.requests_to("POST pluginjobs/")[0]
    assert "data_file" in upload.files


def test_bad_zip_cancels_with_code04(user, storage, zip_pfcon, db):
    from plugins.services.registry import register_plugin
    from tests.plugin_support import SIMPLEFSAPP

    resource = compute_resource_for(zip_pfcon, name="remote")
    plugin = register_plugin(SIMPLEFSAPP, compute_names=[resource.name])
    put_files(storage, "alice/uploads/data", 1)
    instance = create_plugin_instance(plugin, owner=user, parameters={"dir": "alice/uploads/data"})
    zip_pfcon.set_output(job_id(instance), zip_bytes=b"not a zip")
    instance = run_to_end(instance)
    assert (instance.status, instance.error_code) == (Status.CANCELLED, "CODE04")


def test_plugin_failure_ends_with_error_and_log_tail(dircopy, user, storage, pfcon):
    put_files(storage, "alice/uploads/in", 1)
    instance = create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    pfcon.set_status(job_id(instance), "finishedWithError", logs="x" * 3000 + "Traceback: boom")
    instance = run_to_end(instance)
    assert instance.status == Status.FINISHED_WITH_ERROR
    logs = json.loads(instance.summary)["compute"]["return"]["job_logs"]
    assert logs.endswith("Traceback: boom") and len(logs) == 1800


def test_undefined_remote_status_cancels_with_code10(dircopy, user, storage, pfcon):
    put_files(storage, "alice/uploads/in", 1)
    instance = create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    pfcon.set_status(job_id(instance), "undefined")
    instance = run_to_end(instance)
    assert (instance.status, instance.error_code) == (Status.CANCELLED, "CODE10")


def test_unreachable_pfcon_retries_then_finishes_with_error(
    dircopy, user, storage, pfcon, settings
):
    settings.SUBMIT_RETRIES = 2
    put_files(storage, "alice/uploads/in", 1)
    instance = create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    pfcon.fail_next("POST copyjobs/", 503, times=100)
    for attempt in range(3):
        jobs.submit_plugin_instance(PluginInstance.objects.get(pk=instance.pk), attempt=attempt)
    instance.refresh_from_db()
    assert (instance.status, instance.error_code) == (Status.FINISHED_WITH_ERROR, "CODE01")
    assert "503" in json.loads(instance.summary)["compute"]["return"]["job_logs"]
    assert len(pfcon.requests_to("POST copyjobs/")) == 3  # the client sends each POST once


def test_a_failing_submission_reaches_pfcon_once_per_scheduler_try(
    dircopy, user, storage, pfcon, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """Worst case: 1 + SUBMIT_RETRIES submissions, however many retries the client has."""
    settings.SUBMIT_RETRIES = 3
    settings.PFCON_RETRIES = 3
    put_files(storage, "alice/uploads/in", 1)
    instance = create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    pfcon.fail_next("POST copyjobs/", 503, times=100)
    countdowns = []

    def run_now(args, countdown=0):
        countdowns.append(countdown)
        tasks.advance_plugin_instance(*args)

    monkeypatch.setattr(tasks.advance_plugin_instance, "apply_async", run_now)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.advance_plugin_instance(instance.pk)

    instance.refresh_from_db()
    assert (instance.status, instance.error_code) == (Status.FINISHED_WITH_ERROR, "CODE01")
    assert len(pfcon.requests_to("POST copyjobs/")) == 1 + 3
    assert countdowns == [2, 4, 8]  # backoff through the task queue, not in the worker


def test_expired_token_is_refreshed_and_saved(dircopy, user, storage, pfcon, compute_resource):
    put_files(storage, "alice/uploads/in", 1)
    instance = create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    jobs.check_plugin_instance(instance, follow=False)
    compute_resource.refresh_from_db()
    first_token = compute_resource.compute_auth_token
    pfcon.expire_tokens()
    run_to_end(instance)
    compute_resource.refresh_from_db()
    assert compute_resource.compute_auth_token not in ("", first_token)


def test_cancel_running_instance_kills_remote_job_and_active_descendants(
    dircopy, simpledsapp, user, storage, pfcon, eager_tasks, django_capture_on_commit_callbacks
):
    put_files(storage, "alice/uploads/in", 1)
    fs = create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    pfcon.set_status(job_id(fs), "started")
    jobs.check_plugin_instance(fs, follow=False)
    jobs.check_plugin_instance(PluginInstance.objects.get(pk=fs.pk), follow=False)
    fs.refresh_from_db()
    assert fs.status == Status.STARTED
    ds = create_plugin_instance(simpledsapp, owner=user, previous=fs, parameters={})
    assert ds.status == Status.WAITING
    with django_capture_on_commit_callbacks(execute=True):
        cancel_plugin_instance(fs)
    fs.refresh_from_db()
    ds.refresh_from_db()
    assert (fs.status, ds.status) == (Status.CANCELLED, Status.CANCELLED)
    assert pfcon.requests_to("DELETE pluginjobs/*/")
    assert pfcon.job(job_id(fs)).removed


def test_waiting_child_runs_after_parent_finishes(dircopy, simpledsapp, user, storage, pfcon):
    from plugins.services.polling import poll_plugin_instances

    put_files(storage, "alice/uploads/in", 1)
    fs = create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    ds = create_plugin_instance(simpledsapp, owner=user, previous=fs, parameters={})
    assert ds.status == Status.WAITING
    for _ in range(8):
        poll_plugin_instances()
    fs.refresh_from_db()
    ds.refresh_from_db()
    assert (fs.status, ds.status) == (Status.FINISHED_SUCCESSFULLY, Status.FINISHED_SUCCESSFULLY)


def test_child_of_failed_parent_is_cancelled(dircopy, simpledsapp, user, storage, pfcon):
    put_files(storage, "alice/uploads/in", 1)
    fs = create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    pfcon.set_status(job_id(fs), "finishedWithError")
    run_to_end(fs)
    ds = create_plugin_instance(simpledsapp, owner=user, previous=fs, parameters={})
    assert ds.status == Status.CANCELLED


def test_registration_happens_once_when_two_pollers_race(dircopy, user, storage, pfcon):
    put_files(storage, "alice/uploads/in", 3)
    instance = create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    jobs.check_plugin_instance(instance, follow=False)  # copy
    jobs.check_plugin_instance(PluginInstance.objects.get(pk=instance.pk), follow=False)  # submit
    first = PluginInstance.objects.get(pk=instance.pk)
    second = PluginInstance.objects.get(pk=instance.pk)
    assert first.status == second.status == Status.STARTED
    jobs.check_plugin_instance(first, follow=False)
    jobs.check_plugin_instance(second, follow=False)  # lost the race: does nothing
    first.refresh_from_db()
    assert first.status == Status.FINISHED_SUCCESSFULLY
    assert first.files.count() == 3
    assert len(pfcon.requests_to("GET pluginjobs/*/file/")) == 1


def test_interrupted_registration_is_recovered(dircopy, user, storage, pfcon):
    put_files(storage, "alice/uploads/in", 2)
    instance = create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    jobs.check_plugin_instance(instance, follow=False)
    jobs.check_plugin_instance(PluginInstance.objects.get(pk=instance.pk), follow=False)
    instance = PluginInstance.objects.get(pk=instance.pk)
    pfcon.set_status(job_id(instance), "finishedSuccessfully")
    # A worker claimed the registration and died before finishing it.
    assert set_status(instance, Status.REGISTERING_FILES)
    instance = run_to_end(instance)
    assert instance.status == Status.FINISHED_SUCCESSFULLY
    assert instance.files.count() == 2


def test_transition_table_refuses_invalid_moves(dircopy, user, storage, pfcon):
    put_files(storage, "alice/uploads/in", 1)
    instance = create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    with pytest.raises(InvalidTransition):
        set_status(instance, Status.FINISHED_SUCCESSFULLY)
    instance = run_to_end(instance)
    for status in Status:
        with pytest.raises(InvalidTransition):
            set_status(instance, status)


def test_post_runs_to_completion_through_the_task_queue(
    dircopy, user, storage, pfcon, eager_tasks, django_capture_on_commit_callbacks
):
    put_files(storage, "alice/uploads/in", 2)
    with django_capture_on_commit_callbacks(execute=True):
        instance = create_plugin_instance(
            dircopy, owner=user, parameters={"dir": "alice/uploads/in"}
        )
    instance.refresh_from_db()
    assert instance.status == Status.FINISHED_SUCCESSFULLY
    assert instance.files.count() == 2


@pytest.mark.parametrize(
    "value, message",
    [
        ("", "permission"),
        ("/", "permission"),
        ("bobby/uploads/secret", "permission"),
        ("bobby", "permission"),
        ("alice/uploads/../../bobby/uploads", "invalid path"),
        ("alice/uploads//in", "invalid path"),
        ("alice/uploads/nothing-here", "does not exist"),
        ("alice/uploads/i", "does not exist"),
        ("bobby/feed_999/x", "invalid path"),
    ],
)
def test_path_parameters_are_confined(dircopy, user, storage, value, message):
    User.objects.create_user("bobby", "b@example.org", "bobby-password")
    put_files(storage, "alice/uploads/in", 1)
    put_files(storage, "bobby/uploads/secret", 1)
    with pytest.raises(ValidationError) as error:
        create_plugin_instance(dircopy, owner=user, parameters={"dir": value})
    assert message in str(error.value.detail["value"][0])
    assert PluginInstance.objects.count() == 0


def test_other_users_feed_paths_need_co_ownership(dircopy, user, storage, pfcon):
    bobby = User.objects.create_user("bobby", "b@example.org", "bobby-password")
    put_files(storage, "bobby/uploads/in", 1)
    feed_instance = run_to_end(
        create_plugin_instance(dircopy, owner=bobby, parameters={"dir": "bobby/uploads/in"})
    )
    with pytest.raises(ValidationError):
        create_plugin_instance(dircopy, owner=user, parameters={"dir": feed_instance.output_path})
    feed_instance.feed.owner.add(user)
    shared = create_plugin_instance(
        dircopy, owner=user, parameters={"dir": feed_instance.output_path}
    )
    assert shared.status == Status.SCHEDULED


def test_ts_instance_copies_filtered_parent_outputs(
    dircopy, simpledsapp, topologicalcopy, user, storage, pfcon
):
    put_files(storage, "alice/uploads/in", 1)
    fs = run_to_end(
        create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    )
    ds = create_plugin_instance(simpledsapp, owner=user, previous=fs, parameters={})
    pfcon.set_output(job_id(ds), files={"a.txt": b"a", "b.csv": b"b"})
    ds = run_to_end(ds)
    ts = create_plugin_instance(
        topologicalcopy,
        owner=user,
        previous=ds,
        parameters={"plugininstances": f"{ds.pk}", "filter": r"\.txt$"},
    )
    ts = run_to_end(ts)
    assert ts.status == Status.FINISHED_SUCCESSFULLY
    assert list(ts.files.values_list("fname", flat=True)) == [f"{ts.output_path}/a.txt"]
    post = pfcon.requests_to("POST pluginjobs/")[-1]
    assert post.form["type"] == ["ts"]


def test_register_output_files_uses_one_insert_for_any_number_of_files(dircopy, user, storage):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from plugins.services.outputs import register_output_files

    put_files(storage, "alice/uploads/DICOM/dataset1", 1)
    counts = []
    for size in (3, 600):
        instance = create_plugin_instance(
            dircopy, owner=user, parameters={"dir": "/DICOM/dataset1"}
        )
        keys = put_files(storage, instance.output_path, size)
        storage.put(f"{instance.output_path}/skip.chrislink", io.BytesIO(b"link"))
        with CaptureQueriesContext(connection) as queries:
            total = register_output_files(instance)
        counts.append(len(queries))
        assert sum("INSERT" in query["sql"] for query in queries) == 1
        files = PluginInstanceFile.objects.filter(plugin_inst=instance).order_by("fname")
        assert [f.fname for f in files] == sorted(keys)
        assert [f.fsize for f in files] == [len(key) for key in sorted(keys)]
        assert all(f.feed_id == instance.feed_id for f in files)
        assert all(abs((timezone.now() - f.creation_date).total_seconds()) < 60 for f in files)
        assert total == sum(len(key) for key in keys)
        instance.refresh_from_db()
        assert instance.files_count == size
        register_output_files(instance)  # registering again skips what is already there
        assert files.count() == size
        instance.refresh_from_db()
        assert instance.files_count == size
    assert counts[0] == counts[1]


LINK_OUTPUTS = {
    "out.txt": b"listing",
    "a.chrislink": b"bobby/uploads",
    "sub/b.ChrisLink": b"bobby/uploads",
    "sub/c.CHRISLINK": b"bobby/uploads",
}


def test_zip_outputs_never_store_or_register_link_files(user, storage, zip_pfcon, db):
    from plugins.services.registry import register_plugin
    from tests.plugin_support import SIMPLEFSAPP

    resource = compute_resource_for(zip_pfcon, name="remote")
    plugin = register_plugin(SIMPLEFSAPP, compute_names=[resource.name])
    put_files(storage, "alice/uploads/data", 1)
    instance = create_plugin_instance(plugin, owner=user, parameters={"dir": "alice/uploads/data"})
    zip_pfcon.set_output(job_id(instance), files=LINK_OUTPUTS)
    instance = run_to_end(instance)
    assert instance.status == Status.FINISHED_SUCCESSFULLY, instance.summary
    assert storage.ls(instance.output_path) == [f"{instance.output_path}/out.txt"]
    assert list(instance.files.values_list("fname", flat=True)) == [
        f"{instance.output_path}/out.txt"
    ]


def test_in_network_outputs_never_register_link_files(dircopy, simpledsapp, user, storage, pfcon):
    put_files(storage, "alice/uploads/in", 1)
    fs = run_to_end(
        create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    )
    ds = create_plugin_instance(simpledsapp, owner=user, previous=fs, parameters={})
    pfcon.set_output(job_id(ds), files=LINK_OUTPUTS)
    ds = run_to_end(ds)
    assert ds.status == Status.FINISHED_SUCCESSFULLY, ds.summary
    # The fake compute service wrote them all into storage; removing them is its job.
    assert len(storage.ls(ds.output_path)) == len(LINK_OUTPUTS)
    assert list(ds.files.values_list("fname", flat=True)) == [f"{ds.output_path}/out.txt"]


def test_linked_inputs_are_copied_without_link_files(
    dircopy, simpledsapp, topologicalcopy, user, storage, pfcon
):
    put_files(storage, "alice/uploads/in", 1)
    storage.put("alice/uploads/in/x.chrislink", io.BytesIO(b"bobby/uploads"))  # not via the API
    fs = run_to_end(
        create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    )
    assert fs.status == Status.FINISHED_SUCCESSFULLY, fs.summary
    copied = storage.ls(fs.output_path)
    assert [key.rpartition("/")[2] for key in copied] == ["0000.dcm"]
    ds = create_plugin_instance(simpledsapp, owner=user, previous=fs, parameters={})
    pfcon.set_output(job_id(ds), files=LINK_OUTPUTS)
    ds = run_to_end(ds)
    assert len(storage.ls(ds.output_path)) == len(LINK_OUTPUTS)
    ts = create_plugin_instance(
        topologicalcopy, owner=user, previous=ds, parameters={"plugininstances": f"{ds.pk}"}
    )
    ts = run_to_end(ts)
    assert ts.status == Status.FINISHED_SUCCESSFULLY, ts.summary
    assert storage.ls(ts.output_path) == [f"{ts.output_path}/out.txt"]
