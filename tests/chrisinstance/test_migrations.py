"""The migration that adds the stored job-id prefix, run forward on old databases."""

import re

import pytest
from django.contrib.auth.models import User

from feeds.models import Feed
from plugins.models import Plugin, PluginInstance, PluginMeta
from tests.helpers import latest_migrations, migrate

BEFORE = [("chrisinstance", "0001_initial")]
AFTER = [("chrisinstance", "0002_job_id_prefix")]


@pytest.fixture
def old_database(transactional_db):
    """A database as the previous release left it; migrated to the latest schema afterwards,
    so the tests that follow find every column."""
    apps = migrate(BEFORE)
    yield apps
    migrate(latest_migrations())


def plugin_instance_row() -> None:
    """One plugin instance, made with today's models: only chrisinstance was migrated back."""
    owner = User.objects.create_user("alice")
    plugin = Plugin.objects.create(
        meta=PluginMeta.objects.create(name="pl-x", type="fs"),
        version="1.0",
        dock_image="x",
        execshell="",
        selfpath="/usr/local/bin",
        selfexec="x",
    )
    PluginInstance.objects.create(
        plugin=plugin,
        owner=owner,
        feed=Feed.objects.create(name="f", creator=owner),
        status="started",
        output_path="alice/feed_1/pl-x_1/data",
        cpu_limit=1000,
        memory_limit=200,
        number_of_workers=1,
        gpu_limit=0,
    )


def test_new_database_keeps_a_random_prefix(old_database):
    ChrisInstance = old_database.get_model("chrisinstance", "ChrisInstance")
    ChrisInstance.objects.create(pk=1)
    apps = migrate(AFTER)
    prefix = apps.get_model("chrisinstance", "ChrisInstance").objects.get().job_id_prefix
    assert re.fullmatch(r"chris-jid-[0-9a-f]{8}-", prefix)


def test_installation_with_jobs_keeps_naming_them_as_before(old_database, settings):
    settings.JOB_ID_PREFIX = "chris-jid-"
    plugin_instance_row()
    apps = migrate(AFTER)
    # The row was never read before the upgrade, so it did not exist yet.
    assert apps.get_model("chrisinstance", "ChrisInstance").objects.get().job_id_prefix == (
        "chris-jid-"
    )
