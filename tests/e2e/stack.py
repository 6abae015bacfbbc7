"""The pytest side of ``utils/stack.py``: skips, a stack per block, and the shared stack.

``running_stack`` starts a launcher for the duration of a block; a stack that cannot start
makes the caller skip, except under CI=true, where it fails. ``live_stack`` is one embedded
stack for the whole session, shared by every conftest that imports it. The launcher itself
(ports, var dir, readiness, stopping the process group) is ``utils/stack.py``, whose names are
re-exported here for the tests.
"""

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from utils.stack import (  # noqa: F401  (re-exported for the tests)
    EMBEDDED_SCRIPT,
    MARKER,
    PLUGINS_VENV,
    REPO_ROOT,
    SUPERUSER,
    ProcessInfo,
    Stack,
    StackError,
    compute_credentials,
    free_ports,
    install_builtin_plugins,
    marked_processes,
    start_stack,
    stop_stack,
)


def unavailable(reason: str) -> None:
    """Skip the test for a missing prerequisite, except under CI=true, where that is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}\n(CI=true: this must work in CI)", pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def running_stack(
    script: Path,
    var_dir: Path,
    extra_env: dict[str, str] | None = None,
    timeout: float = 240,
    keep: Callable[[ProcessInfo], bool] | None = None,
) -> Iterator[Stack]:
    """A started stack for the duration of the block; stopped (and checked) at exit.

    A stack that cannot start makes the caller skip, except under CI=true, where it fails.
    ``keep`` is passed to ``stop_stack``.
    """
    try:
        stack = start_stack(script, var_dir, extra_env, timeout, keep)
    except StackError as error:
        unavailable(f"the stack failed to start:\n{error}")
    try:
        yield stack
    finally:
        stop_stack(stack, keep=keep)


def ui_env() -> dict[str, str]:
    """CUBE_UI_DIR for the shared stack, so it serves ChRIS_ui at / as `make run` can."""
    build = REPO_ROOT.parent / "shared" / "clients" / "chris_ui-v5" / "dist"
    return {"CUBE_UI_DIR": str(build)} if (build / "index.html").is_file() else {}


class _SharedEmbeddedStack:
    """One embedded stack for the whole session, shared by tests/e2e and tests/clients.

    Session fixtures of two conftests are separate fixtures, so each one acquires this and the
    last one to release it stops the stack.
    """

    def __init__(self) -> None:
        self.users = 0
        self.context: contextlib.ExitStack | None = None
        self.stack: Stack | None = None
        self.failure: BaseException | None = None

    def acquire(self, tmp_path_factory: pytest.TempPathFactory) -> Stack:
        if self.failure is not None:
            raise self.failure
        if self.stack is None:
            context = contextlib.ExitStack()
            try:
                plugins_dir = install_builtin_plugins(tmp_path_factory.mktemp("plugins"))
                self.stack = context.enter_context(
                    running_stack(
                        EMBEDDED_SCRIPT,
                        tmp_path_factory.mktemp("embedded-var"),
                        {"CUBE_PLUGINS_DIR": str(plugins_dir), **ui_env()},
                    )
                )
            except StackError as error:
                self.failure = error
                unavailable(str(error))
            except BaseException as error:  # skip/fail outcomes: repeat them for later users
                self.failure = error
                raise
            self.context = context
        self.users += 1
        return self.stack

    def release(self) -> None:
        self.users -= 1
        if self.users == 0 and self.context is not None:
            context, self.context, self.stack = self.context, None, None
            context.close()


shared_embedded_stack = _SharedEmbeddedStack()


def attach_stack_log(item: pytest.Item, report: pytest.TestReport) -> None:
    """Add the tail of the shared stack's log to the report of a failed test that used it."""
    stack = shared_embedded_stack.stack
    if report.failed and stack is not None and "live_stack" in getattr(item, "fixturenames", ()):
        report.sections.append((f"{stack.script.name} log (tail)", stack.log_tail(80)))


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """API root URL (``http://127.0.0.1:<port>/api/v1/``) of the session's embedded stack.

    Import it into a conftest to use it; every importer shares the same stack.
    """
    stack = shared_embedded_stack.acquire(tmp_path_factory)
    try:
        yield stack.url
    finally:
        shared_embedded_stack.release()


@pytest.fixture(scope="session")
def live_stack_details(live_stack: str) -> Stack:
    """The session's embedded stack itself: its var dir, environment and log."""
    assert shared_embedded_stack.stack is not None
    return shared_embedded_stack.stack


@pytest.fixture(scope="session")
def live_compute_credentials(live_stack_details: Stack) -> tuple[str, str]:
    """(user, password) of the session stack's localcompute, random per var dir."""
    return compute_credentials(live_stack_details.var_dir)
