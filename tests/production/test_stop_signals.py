"""make stack stops as reliably as it starts: a stop signal to its process group ends every
process it started within seconds."""

import os
import signal
import time

import pytest

from tests.e2e.stack import marked_processes
from tests.production.conftest import left_running_on_purpose

pytestmark = pytest.mark.integration

STOP_SECONDS = 10


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_ends_every_process_of_the_production_stack(production_stack_factory, signum):
    stack = production_stack_factory().stack

    def left() -> list:
        return [
            info for info in marked_processes(stack.marker) if not left_running_on_purpose(info)
        ]

    assert left()
    stopped_at = time.monotonic()
    os.killpg(stack.process.pid, signum)
    while remaining := left():
        assert time.monotonic() - stopped_at < STOP_SECONDS, remaining
        time.sleep(0.1)
    stack.process.wait(timeout=5)
