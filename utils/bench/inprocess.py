"""Steps that need Django itself, run in a child process with a stack's environment.

    python -m utils.bench.inprocess STEP 'JSON kwargs'   (prints the result as JSON)

The bench process never imports Django: each stack has its own settings (database, storage),
and Django can be set up only once per process.
"""

import io
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def hash_cost(*, username: str, password: str) -> dict:
    """What verifying the password costs, i.e. what a Basic request pays without the cache."""
    from django.contrib.auth.hashers import check_password
    from django.contrib.auth.models import User

    encoded = User.objects.get(username=username).password
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        if not check_password(password, encoded):
            raise RuntimeError("wrong password")
        samples.append(time.perf_counter() - start)
    return {"ms": statistics.median(samples) * 1000, "algorithm": encoded.split("$", 1)[0]}


def _clone_instance(instance_id: int, suffix: str):
    from plugins.models import PluginInstance

    instance = PluginInstance.objects.get(pk=instance_id)
    base = instance.output_path.rsplit("/", 1)[0]
    instance.pk = None
    instance._state.adding = True
    instance.files_count = 0  # the copy has no files yet
    instance.title = f"bench {suffix}"
    instance.output_path = f"{base}/bench-{suffix}-{os.getpid()}"
    instance.save()
    return instance


def _store_files(prefix: str, count: int) -> None:
    from cube.storage import get_storage

    storage = get_storage()
    names = [f"{prefix}/data/{index // 1000:03d}/file{index:06d}.dcm" for index in range(count)]
    with ThreadPoolExecutor(16) as pool:
        for _ in pool.map(lambda name: storage.put(name, io.BytesIO(b"x" * 64)), names):
            pass


def registration(*, instance_id: int, count: int, baseline_count: int) -> dict:
    """Time register_output_files for ``count`` stored files and count its SQL queries.

    A second registration of count/10 files shows whether the query count is constant. The
    baseline is a save() per file, the way upstream CUBE registered outputs, timed on
    ``baseline_count`` rows and scaled to ``count``.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from plugins.models import PluginInstanceFile
    from plugins.services.outputs import register_output_files

    result = {}
    for label, size in (("small", max(1, count // 10)), ("full", count)):
        instance = _clone_instance(instance_id, f"registration-{label}")
        _store_files(instance.output_path, size)
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            register_output_files(instance)
            seconds = time.perf_counter() - start
        registered = PluginInstanceFile.objects.filter(plugin_inst=instance).count()
        if registered != size:
            raise RuntimeError(f"registered {registered} of {size} files")
        result[label] = {"files": size, "seconds": seconds, "queries": len(queries)}

    instance = _clone_instance(instance_id, "registration-baseline")
    start = time.perf_counter()
    for index in range(baseline_count):
        PluginInstanceFile.objects.create(
            fname=f"{instance.output_path}/data/file{index:06d}.dcm",
            fsize=64,
            plugin_inst=instance,
            feed_id=instance.feed_id,
        )
    result["baseline"] = {
        "files": baseline_count,
        "seconds": (time.perf_counter() - start) * count / baseline_count,
    }
    return result


def seed_listing(*, instance_id: int, username: str, count: int, instances: int = 150) -> dict:
    """Bulk-insert ``count`` file rows into the instance's feed, ``count`` uploads, and
    ``instances`` finished copies of the instance (for a full page of plugin instances)."""
    from django.contrib.auth.models import User
    from django.db import connection

    from plugins.models import PluginInstance
    from plugins.services.outputs import insert_files
    from uploadedfiles.models import UploadedFile

    instance = PluginInstance.objects.get(pk=instance_id)
    owner = User.objects.get(username=username)
    start = time.perf_counter()
    names = (f"{instance.output_path}/listing/{index:06d}.dcm" for index in range(count))
    insert_files(
        [(name, 1000 + index) for index, name in enumerate(names)],
        plugin_inst_id=instance.pk,
        feed_id=instance.feed_id,
    )
    upload_prefix = f"{username}/uploads/listing/"
    UploadedFile.objects.bulk_create(
        (
            UploadedFile(fname=f"{upload_prefix}{index:06d}.txt", fsize=1000, owner=owner)
            for index in range(count)
        ),
        batch_size=5000,
    )
    copies = []
    for index in range(instances):
        copy = PluginInstance.objects.get(pk=instance_id)
        copy.pk = None
        copy.files_count = 0
        copy.title = f"listing {index}"
        copies.append(copy)
    PluginInstance.objects.bulk_create(copies)
    # A live database refreshes its planner statistics on its own, and PostgreSQL's
    # autovacuum also marks freshly inserted pages all-visible (what lets a scan read an
    # index alone); right after a bulk insert neither has happened, so do it as it would.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {
        "feed_id": instance.feed_id,
        "upload_prefix": upload_prefix,
        "instances": PluginInstance.objects.count(),
        "seconds": time.perf_counter() - start,
    }


def listing_queries(*, username: str, paths: list[str]) -> dict:
    """SQL queries and storage calls per GET, with limit=10 and limit=100, for each path."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from cube.storage import get_storage

    calls = {"count": 0}
    backend = get_storage()
    for name in ("open", "ls", "ls_with_sizes", "exists", "size"):
        original = getattr(backend, name)

        def counted(*args, _original=original, **kwargs):
            calls["count"] += 1
            return _original(*args, **kwargs)

        setattr(backend, name, counted)

    client = APIClient()
    client.force_authenticate(User.objects.get(username=username))
    result = {}
    for path in paths:
        # A first request fills the process's one-time caches, which no page pays for.
        client.get(f"/api/v1/{path}", HTTP_ACCEPT="application/json")
        per_limit = {}
        for limit in (10, 100):
            separator = "&" if "?" in path else "?"
            calls["count"] = 0
            with CaptureQueriesContext(connection) as queries:
                response = client.get(
                    f"/api/v1/{path}{separator}limit={limit}", HTTP_ACCEPT="application/json"
                )
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")
            per_limit[limit] = {"queries": len(queries), "storage_calls": calls["count"]}
        result[path] = per_limit
    return result


STEPS = {
    "hash_cost": hash_cost,
    "registration": registration,
    "seed_listing": seed_listing,
    "listing_queries": listing_queries,
}


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cube.settings")
    import django

    django.setup()
    step = STEPS[argv[0]]
    kwargs = json.loads(argv[1]) if len(argv) > 1 else {}
    print(json.dumps(step(**kwargs)))


if __name__ == "__main__":
    main(sys.argv[1:])
