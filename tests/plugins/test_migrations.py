"""The migration that keeps each instance's file count, run forward on an old database."""

import pytest

from tests.helpers import latest_migrations, migrate

BEFORE = [("plugins", "0004_covering_fname_index")]


@pytest.fixture
def old_database(transactional_db):
    """The database as the previous release left it; the latest schema again afterwards."""
    yield migrate(BEFORE)
    migrate(latest_migrations())


def test_existing_files_are_counted(old_database):
    old = old_database
    owner = old.get_model("auth", "User").objects.create(username="alice")
    feed = old.get_model("feeds", "Feed").objects.create(name="f", creator=owner)
    plugin = old.get_model("plugins", "Plugin").objects.create(
        meta=old.get_model("plugins", "PluginMeta").objects.create(name="pl-x", type="fs"),
        version="1.0", dock_image="x", execshell="", selfpath="/usr/local/bin", selfexec="x",
    )  # fmt: skip
    Instance = old.get_model("plugins", "PluginInstance")
    File = old.get_model("plugins", "PluginInstanceFile")
    instances = [
        Instance.objects.create(
            plugin=plugin,
            owner=owner,
            feed=feed,
            output_path=f"alice/feed_1/pl-x_{i}/data",
            cpu_limit=1000,
            memory_limit=200,
            number_of_workers=1,
            gpu_limit=0,
        )  # fmt: skip
        for i in range(3)
    ]
    for index, instance in enumerate(instances[:2]):
        File.objects.bulk_create(
            File(fname=f"{instance.output_path}/{n}", fsize=1, plugin_inst=instance, feed=feed)
            for n in range(5 + index)
        )

    new = migrate(latest_migrations())

    counts = dict(
        new.get_model("plugins", "PluginInstance").objects.values_list("pk", "files_count")
    )
    assert counts == {instances[0].pk: 5, instances[1].pk: 6, instances[2].pk: 0}
