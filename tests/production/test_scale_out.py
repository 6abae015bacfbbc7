"""Scale-out on the real engines: the production profile with two Celery workers (and
gunicorn's two web workers) under concurrent users and the seed's scripts at once, then the
consistency check."""

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.api_user import User
from tests.production.conftest import REPO_ROOT
from tests.production.seed import make_seed_dir, remove_swift_pushed, run_seed, source_files

pytestmark = pytest.mark.integration

JOBS = 8


@pytest.fixture(scope="module")
def stack(production_stack_factory):
    started = production_stack_factory()
    started.start_worker("second")
    return started


def test_concurrent_users_and_the_seed_on_two_workers_leave_a_consistent_installation(
    stack, tmp_path
):
    users = [User(stack.stack, f"user{index}") for index in range(JOBS)]
    for index, user in enumerate(users):
        for number in range(3):
            content = f"user {index} file {number}\n".encode()
            assert user.upload(f"in/{number}.dcm", content).status_code == 201

    # The same upload path by one user, many times at once: exactly one wins.
    with ThreadPoolExecutor(10) as pool:
        statuses = list(
            pool.map(lambda _: users[0].upload("race/a.dcm", b"race").status_code, range(10))
        )
    assert sorted(statuses) == [201] + [400] * 9, statuses

    def chain(user: User) -> list[dict]:
        dircopy = user.run("pl-dircopy", dir=f"{user.username}/uploads/in")
        return [dircopy, user.run("pl-simpledsapp", previous_id=dircopy["id"])]

    # The seed (small generated data: the seed test proper pushes the real sample) runs
    # beside the users' chains, on the same two web and two Celery workers.
    seed_dir = make_seed_dir(tmp_path / "seed", shared=False)
    started = time.monotonic()
    with ThreadPoolExecutor(JOBS + 1) as pool:
        seeded = pool.submit(run_seed, stack, seed_dir, tmp_path)
        chains = list(pool.map(chain, users))
        seeded.result()
    assert time.monotonic() - started < 300
    for user, instances in zip(users, chains, strict=True):
        for instance in instances:
            assert instance["status"] == "finishedSuccessfully", instance
            assert len(user.files(instance)) == 3

    # Every object is then either a row's or one the seed pushed straight to Swift.
    assert remove_swift_pushed(stack) == len(source_files(seed_dir))
    result = subprocess.run(
        ["bash", "-c", f"set -a; . {stack.var_dir}/production.env; set +a; "
         "exec .venv/bin/python manage.py check_consistency"],
        cwd=REPO_ROOT, env=stack.env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
