"""Workers claim an instance before they advance its job; deletes never wait on the compute
service and never leave files behind a registration."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from cube import celery_app
from feeds.models import Feed
from plugins.models import PluginInstance
from plugins.services import jobs
from plugins.services.compute import job_id
from plugins.services.instances import create_plugin_instance
from plugins.services.lifecycle import set_status
from plugins.status import Status

pytestmark = pytest.mark.django_db


def started(dircopy, user, storage, pfcon) -> PluginInstance:
    storage.put("alice/uploads/in/a.dcm", io.BytesIO(b"a"))
    instance = create_plugin_instance(dircopy, owner=user, parameters={"dir": "alice/uploads/in"})
    pfcon.set_status(job_id(instance), "started")
    jobs.advance_plugin_instance(instance.pk, follow=False)  # copy job
    jobs.advance_plugin_instance(instance.pk, follow=False)  # plugin job
    instance.refresh_from_db()
    assert instance.status == Status.STARTED
    return instance


def test_an_instance_held_by_another_worker_is_left_alone(dircopy, user, storage, pfcon):
    instance = started(dircopy, user, storage, pfcon)
    assert jobs.claim(instance.pk)
    pfcon.clear_requests()
    pfcon.set_status(job_id(instance), "finishedSuccessfully")
    jobs.advance_plugin_instance(instance.pk, follow=False)
    assert pfcon.requests_to("GET pluginjobs/*/") == []
    instance.refresh_from_db()
    assert instance.status == Status.STARTED


def test_a_lapsed_claim_of_a_dead_worker_is_taken_up(dircopy, user, storage, pfcon):
    instance = started(dircopy, user, storage, pfcon)
    PluginInstance.objects.filter(pk=instance.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    pfcon.set_status(job_id(instance), "finishedSuccessfully")
    jobs.advance_plugin_instance(instance.pk, follow=False)
    instance.refresh_from_db()
    assert instance.status == Status.FINISHED_SUCCESSFULLY
    assert instance.claimed_until is None  # released after the step


def test_a_held_instance_keeps_its_follow_up_chain(
    dircopy, user, storage, pfcon, django_capture_on_commit_callbacks, monkeypatch
):
    instance = started(dircopy, user, storage, pfcon)
    assert jobs.claim(instance.pk)
    scheduled = []
    monkeypatch.setattr(
        "plugins.tasks.advance_plugin_instance.apply_async",
        lambda args, countdown: scheduled.append(args),
    )
    with django_capture_on_commit_callbacks(execute=True):
        jobs.advance_plugin_instance(instance.pk, attempt=4)
    assert scheduled == [(instance.pk, 5)]


def test_deleting_a_running_job_answers_without_calling_the_compute_service(
    dircopy, user, storage, pfcon, client, django_capture_on_commit_callbacks
):
    fs = started(dircopy, user, storage, pfcon)
    pfcon.clear_requests()
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.delete(f"/api/v1/{fs.feed_id}/")
    assert response.status_code == 204
    assert pfcon.requests == []
    assert not PluginInstance.objects.filter(pk=fs.pk).exists()
    # Stopping the job is a task keyed by compute resource and job id: the row is gone.
    celery_app.conf.task_always_eager = True
    try:
        for callback in callbacks:
            callback()
    finally:
        celery_app.conf.task_always_eager = False
    assert pfcon.job(job_id(fs)).removed
    assert storage.ls(f"alice/feed_{fs.feed_id}") == []


@pytest.mark.parametrize("target", ["instance", "feed"])
def test_a_delete_during_registration_is_refused_and_changes_nothing(
    dircopy, simpledsapp, user, storage, pfcon, client, target
):
    fs = started(dircopy, user, storage, pfcon)
    pfcon.set_status(job_id(fs), "finishedSuccessfully")
    jobs.advance_plugin_instance(fs.pk, follow=False)
    ds = create_plugin_instance(simpledsapp, owner=user, previous=fs, parameters={})
    pfcon.set_status(job_id(ds), "started")
    jobs.advance_plugin_instance(ds.pk, follow=False)
    jobs.advance_plugin_instance(ds.pk, follow=False)
    ds = PluginInstance.objects.get(pk=ds.pk)
    # A worker has just started registering the outputs.
    assert set_status(ds, Status.REGISTERING_FILES)
    url = {
        "instance": f"/api/v1/plugins/instances/{ds.pk}/",
        "feed": f"/api/v1/{fs.feed_id}/",
    }[target]
    before = sorted(storage.ls(f"alice/feed_{fs.feed_id}"))

    response = client.delete(url, HTTP_ACCEPT="application/json")

    assert response.status_code == 409
    assert "registering" in response.json()["detail"]
    assert PluginInstance.objects.filter(pk__in=(fs.pk, ds.pk)).count() == 2
    assert Feed.objects.filter(pk=fs.feed_id).exists()
    assert sorted(storage.ls(f"alice/feed_{fs.feed_id}")) == before
