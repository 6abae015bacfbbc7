"""A live production stack (utils/scripts/run-production.sh) per test module.

Started and stopped with utils/stack.py, so a process left behind fails the test run.
Each stack gets its own var dir, free ports, PostgreSQL database, Redis database and Swift
container, and everything is removed afterwards. PostgreSQL, Redis and Swift must already
answer (utils/scripts/test-production.sh starts them); under CI=true a missing service fails.
"""

import os
import random
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest
import redis
import requests
from psycopg2 import sql
from swiftclient.client import ClientException, Connection

from tests.helpers import require_service
from utils import stack as launcher
from utils.stack import REPO_ROOT, left_running_on_purpose  # noqa: F401  (the tests use it)

AUTH = ("chris", "chris1234")
PG_URL = os.environ.get("CUBE_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("CUBE_TEST_REDIS_URL", "redis://127.0.0.1:6379")
SWIFT_AUTH_URL = os.environ.get("SWIFT_AUTH_URL", "http://127.0.0.1:8080/auth/v1.0")
SWIFT_USERNAME = os.environ.get("SWIFT_USERNAME", "chris:chris1234")
SWIFT_KEY = os.environ.get("SWIFT_KEY", "testing")
START_TIMEOUT = 180


def pg_connection(dbname: str = "postgres"):
    return psycopg2.connect(f"{PG_URL}/{dbname}", connect_timeout=3)


def pg_reachable() -> bool:
    try:
        pg_connection().close()
    except psycopg2.OperationalError:
        return False
    return True


def redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping())
    except redis.RedisError:
        return False


def swift_connection() -> Connection:
    return Connection(
        authurl=SWIFT_AUTH_URL, user=SWIFT_USERNAME, key=SWIFT_KEY, retries=1, timeout=10
    )


def swift_reachable() -> bool:
    try:
        swift_connection().get_auth()
    except (ClientException, OSError):
        return False
    return True


@pytest.fixture(scope="session")
def production_services() -> None:
    require_service("PostgreSQL", pg_reachable())
    require_service("Redis", redis_reachable())
    require_service("Swift", swift_reachable())
    require_service("plugin catalogue (make plugins)", plugin_catalogue().is_file())


def plugin_catalogue() -> Path:
    plugins_dir = Path(os.environ.get("CUBE_PLUGINS_DIR", REPO_ROOT / "var" / "plugins"))
    return plugins_dir / "catalogue.json"


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal a process started with start_new_session, and every process in its group."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


@dataclass
class Stack:
    """A running production launcher, and the workers a test started beside it."""

    stack: launcher.Stack
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def api(self) -> str:
        return self.stack.url

    @property
    def env(self) -> dict[str, str]:
        return self.stack.env

    @property
    def var_dir(self) -> Path:
        return self.stack.var_dir

    def log_tail(self, lines: int = 60) -> str:
        return self.stack.log_tail(lines)

    def start_worker(self, name: str) -> subprocess.Popen:
        """A Celery worker outside the supervisor, with the stack's environment (production.env)."""
        command = (
            f"set -a; . {self.var_dir}/production.env; set +a; "
            f"exec .venv/bin/celery -A cube worker --loglevel INFO --pool threads --concurrency 4 "
            f"--hostname {name}@%h"
        )
        with open(self.var_dir / f"{name}.log", "ab") as log:
            worker = subprocess.Popen(
                ["bash", "-c", command],
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            kill_group(worker, signal.SIGTERM)
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                kill_group(worker)
                worker.wait(5)
        launcher.stop_stack(self.stack, keep=left_running_on_purpose)


def drop_database(name: str) -> None:
    connection = pg_connection()
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
    connection.close()


def delete_container(name: str) -> None:
    connection = swift_connection()
    for container in (name, f"{name}_segments"):
        try:
            _headers, listing = connection.get_container(container, full_listing=True)
        except ClientException as error:
            if error.http_status == 404:
                continue
            raise
        for entry in listing:
            try:
                connection.delete_object(container, entry["name"])
            except ClientException as error:
                if error.http_status != 404:
                    raise
        try:
            connection.delete_container(container)
        except ClientException as error:
            if error.http_status != 404:
                raise


@pytest.fixture(scope="module")
def production_stack_factory(production_services, tmp_path_factory) -> Iterator:
    """Start production stacks with isolated state; all are stopped and cleaned at the end."""
    started: list[tuple[Stack, str, int, str]] = []

    def make(processes: tuple[str, ...] = (), **extra_env: str) -> Stack:
        token = uuid.uuid4().hex[:10]
        db_name = f"cube_prodtest_{token}"
        # Redis has 16 databases; 0 is left to a developer's `make stack`.
        redis_db = random.randint(1, 15)
        container = f"prodtest-{token}"
        redis.Redis.from_url(f"{REDIS_URL}/{redis_db}").flushdb()
        stack_env = {
            "CUBE_DB_NAME": db_name,
            "DATABASE_URL": f"{PG_URL}/{db_name}",
            "CELERY_BROKER_URL": f"{REDIS_URL}/{redis_db}",
            "SWIFT_AUTH_URL": SWIFT_AUTH_URL,
            "SWIFT_USERNAME": SWIFT_USERNAME,
            "SWIFT_KEY": SWIFT_KEY,
            "SWIFT_CONTAINER_NAME": container,
            "CUBE_CELERY_POLL_INTERVAL": "2",
            **extra_env,
        }
        if processes:
            stack_env["CUBE_PROCESSES"] = " ".join(processes)
        var_dir = tmp_path_factory.mktemp(f"stack-{token}")
        try:
            stack = Stack(
                launcher.start_stack(
                    launcher.PRODUCTION_SCRIPT,
                    var_dir,
                    stack_env,
                    START_TIMEOUT,
                    keep=left_running_on_purpose,
                )
            )
        except BaseException:
            drop_database(db_name)
            delete_container(container)
            raise
        started.append((stack, db_name, redis_db, container))
        return stack

    yield make
    for stack, db_name, redis_db, container in started:
        try:
            stack.stop()
        finally:
            drop_database(db_name)
            redis.Redis.from_url(f"{REDIS_URL}/{redis_db}").flushdb()
            delete_container(container)


class Api:
    """Just enough of CUBE's API for the production tests (plain JSON rendering)."""

    def __init__(self, base: str):
        self.base = base
        self.session = requests.Session()
        self.session.auth = AUTH
        self.session.headers["Accept"] = "application/json"

    def get(self, path: str, **params) -> dict:
        url = path if path.startswith("http") else self.base + path
        response = self.session.get(url, params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def all(self, path: str) -> list[dict]:
        page = self.get(path, limit=100)
        results = page["results"]
        while page.get("next"):
            page = self.get(page["next"])
            results += page["results"]
        return results

    def plugin_id(self, name: str) -> int:
        matches = [p for p in self.all("plugins/") if p["name"] == name]
        assert matches, f"plugin {name} is not registered"
        return matches[0]["id"]

    def run_plugin(self, name: str, **data) -> dict:
        body = {"template": {"data": [{"name": k, "value": v} for k, v in data.items()]}}
        response = self.session.post(
            f"{self.base}plugins/{self.plugin_id(name)}/instances/",
            json=body,
            headers={"Content-Type": "application/vnd.collection+json"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return response.json()

    def instance(self, instance_id: int) -> dict:
        return self.get(f"plugins/instances/{instance_id}/")

    def wait_status(self, instance_id: int, wanted: set[str], timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            instance = self.instance(instance_id)
            if instance["status"] in wanted:
                return instance
            if time.monotonic() > deadline:
                raise AssertionError(f"instance {instance_id} still {instance['status']}")
            time.sleep(0.5)

    def instance_files(self, instance_id: int) -> list[dict]:
        return self.all(f"plugins/instances/{instance_id}/files/")

    def download(self, url: str) -> bytes:
        response = self.session.get(url, timeout=120)
        response.raise_for_status()
        return response.content
