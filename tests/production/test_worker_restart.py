"""A Celery worker killed mid-job: the next worker, driven by beat's poller, finishes it."""

import io
import signal
import time

import pytest

from tests.production.conftest import Api, kill_group

pytestmark = pytest.mark.integration

FINAL = {"finishedSuccessfully", "finishedWithError", "cancelled"}
INPUTS = {f"in/{index:02d}.txt": f"input {index}\n".encode() * (index + 1) for index in range(12)}


@pytest.fixture(scope="module")
def stack(production_stack_factory):
    # The worker runs outside the supervisor so that killing it leaves the rest of the stack up.
    # A short claim lets another worker take up an interrupted registration within the test.
    return production_stack_factory(("web", "beat", "localcompute"), CUBE_JOB_CLAIM_SECONDS="5")


def upload_inputs(api: Api) -> str:
    folder = "chris/uploads/worker-restart"
    for name, data in INPUTS.items():
        response = api.session.post(
            f"{api.base}uploadedfiles/",
            data={"upload_path": f"{folder}/{name}"},
            files={"fname": (name.rsplit("/", 1)[-1], io.BytesIO(data))},
            timeout=30,
        )
        assert response.status_code == 201, response.text
    return folder


def wait_worker_ready(stack, name: str, timeout: float = 60) -> None:
    log = stack.var_dir / f"{name}.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and b" ready." in log.read_bytes():
            return
        time.sleep(0.2)
    raise AssertionError(f"worker {name} not ready:\n{log.read_text(errors='replace')[-3000:]}")


def test_instance_finishes_after_the_worker_is_killed_mid_job(stack):
    api = Api(stack.api)
    first = stack.start_worker("first")
    wait_worker_ready(stack, "first")
    copy = api.run_plugin("pl-dircopy", dir=upload_inputs(api))
    copied = api.wait_status(copy["id"], FINAL, 120)
    assert copied["status"] == "finishedSuccessfully", stack.log_tail()

    slow = api.run_plugin("pl-simpledsapp", previous_id=copy["id"], sleepLength="8")
    api.wait_status(slow["id"], {"started", *FINAL}, 60)
    assert api.instance(slow["id"])["status"] == "started"

    # The whole worker: main process and prefork children, with no chance to clean up.
    kill_group(first, signal.SIGKILL)
    first.wait(10)
    time.sleep(2)
    assert api.instance(slow["id"])["status"] == "started"

    stack.start_worker("second")
    wait_worker_ready(stack, "second")
    finished = api.wait_status(slow["id"], FINAL, 120)
    assert finished["status"] == "finishedSuccessfully", stack.log_tail()

    names = [entry["fname"] for entry in api.instance_files(slow["id"])]
    assert len(names) == len(set(names)), "an output file is registered twice"
    assert len(names) == len(INPUTS)
    parent_names = [entry["fname"] for entry in api.instance_files(copy["id"])]
    assert sorted(name.rsplit("/", 1)[-1] for name in names) == sorted(
        name.rsplit("/", 1)[-1] for name in parent_names
    )
