"""Timing and memory helpers."""

import statistics
import threading
import time
from collections.abc import Callable, Iterable

import psutil


def median_ms(samples: Iterable[float]) -> float:
    return statistics.median(samples) * 1000


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``samples`` (0 < fraction <= 1)."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def repeat_timed(function: Callable[[], object], count: int, *, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        function()
    return [timed(function) for _ in range(count)]


class RssSampler:
    """Samples the summed RSS of some processes every ``interval`` seconds in a thread.

    ``peak_growth`` is the highest sum seen minus the sum when sampling started.
    """

    def __init__(self, pids_source: Callable[[], list[int]], interval: float = 0.02) -> None:
        self._pids_source = pids_source
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.start_rss = 0
        self.peak_rss = 0

    def _total(self) -> int:
        total = 0
        for pid in self._pids_source():
            try:
                total += psutil.Process(pid).memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self._total())
            self._stop.wait(self._interval)

    def __enter__(self) -> "RssSampler":
        self.start_rss = self.peak_rss = self._total()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak_rss = max(self.peak_rss, self._total())

    @property
    def peak_growth(self) -> int:
        return self.peak_rss - self.start_rss
