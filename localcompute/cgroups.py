"""Per-job control groups: hard caps on a job's memory, CPU and tasks, for its whole tree.

rlimits bound one process at a time; a plugin that forks, or runs many threads, escapes
them. When the machine lets localcompute create control groups, every plugin job gets its
own, with

* memory: ``memory_limit × number_of_workers`` plus the headroom (resident memory and page
  cache of every process of the job; no swap), the kernel OOM-kills the job past it;
* CPU: a CFS quota of ``cpu_limit × number_of_workers`` millicores (Docker's ``nano_cpus``
  and Kubernetes' CPU limit are the same hard quota), after a short start at one core per
  worker when that is more (see ``for_job``);
* tasks: at most ``LOCALCOMPUTE_MAX_TASKS`` processes and threads (a fork bomb stops there).

Both cgroup v1 (a controller per hierarchy, as on this project's machines) and cgroup v2 are
handled. On v1 a job's groups are made under localcompute's own group in each hierarchy. On
v2 a group with processes may not delegate controllers, so they are made under
``LOCALCOMPUTE_CGROUP_PARENT`` (a delegated group without processes), or under the root
group when localcompute itself runs there. Anywhere else, or with LOCALCOMPUTE_CGROUPS=off,
jobs have rlimits only; LOCALCOMPUTE_CGROUPS=required refuses to start instead.

The groups are created, joined and removed by ``launcher.py`` (which this module describes
them to, as plain paths and values), so they live exactly as long as the job's launcher.
"""

import logging
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

CONTROLLERS = ("memory", "cpu", "pids")
CPU_PERIOD_US = 100_000
# The kernel refuses a CFS quota under 1 ms per period.
MIN_CPU_QUOTA_US = 1_000
JOB_PREFIX = "localcompute-"


class CgroupError(Exception):
    """Control groups were required but cannot be used here."""


@dataclass(frozen=True)
class JobCgroups:
    """One job's groups as the launcher handles them: plain paths and values."""

    dirs: list[str]
    # Written in order once the folders exist: the limits. A missing file of an optional
    # one (swap accounting, group OOM kills) is skipped.
    writes: list[tuple[str, str, bool]]
    # The job's process joins each of these (one per hierarchy).
    procs: list[str]
    # Files with an ``oom_kill <n>`` line.
    oom_events: list[str]
    # Files holding the peak memory use in bytes, if the kernel keeps one.
    peak: list[str] = field(default_factory=list)
    # Written ``settle_after`` seconds after the job starts, if it still runs: its own CPU
    # quota, replacing the quota of its start.
    settle: list[tuple[str, str]] = field(default_factory=list)
    settle_after: float = 0.0

    def spec(self) -> dict:
        return {
            "dirs": self.dirs,
            "writes": [list(item) for item in self.writes],
            "procs": self.procs,
            "oom_events": self.oom_events,
            "peak": self.peak,
            "settle": [list(item) for item in self.settle],
            "settle_after": self.settle_after,
        }


@dataclass(frozen=True)
class Cgroups:
    """Where job groups go: version 1 (a parent per controller) or 2 (one parent)."""

    version: int
    parents: dict[str, Path]

    def describe(self) -> str:
        where = ", ".join(f"{name} in {path}" for name, path in sorted(self.parents.items()))
        return f"cgroup v{self.version} ({where})"

    def job_dirs(self, jid: str) -> list[Path]:
        return [parent / f"{JOB_PREFIX}{jid}" for parent in self._distinct_parents()]

    def _distinct_parents(self) -> list[Path]:
        seen: list[Path] = []
        for path in self.parents.values():
            if path not in seen:
                seen.append(path)
        return seen

    def for_job(
        self,
        jid: str,
        *,
        memory_bytes: int | None,
        cpu_millicores: int | None,
        max_tasks: int,
        start_millicores: int | None = None,
        start_seconds: float = 0.0,
    ) -> JobCgroups:
        """The groups, limits and files of one job.

        With ``start_millicores`` above ``cpu_millicores``, the job runs its first
        ``start_seconds`` under that quota, then under its own. A quota is a rate: at 50m an
        interpreter that needs 70 ms of CPU to start takes 1.4 s whatever the period, and the
        kernel's burst (``cpu.cfs_burst_us``) is at most one quota and empty at the start. The
        start costs at most ``start_seconds`` of the larger rate, once per job.
        """
        name = f"{JOB_PREFIX}{jid}"
        writes: list[tuple[str, str, bool]] = []
        settle: list[tuple[str, str]] = []
        oom_events: list[str] = []
        peak: list[str] = []
        quota = start_quota = None
        if cpu_millicores:
            quota = _quota(cpu_millicores)
            if start_millicores and start_millicores > cpu_millicores and start_seconds > 0:
                start_quota = _quota(start_millicores)
        if self.version == 2:
            folder = self.parents["memory"] / name
            if memory_bytes:
                writes.append((str(folder / "memory.max"), str(memory_bytes), False))
                writes.append((str(folder / "memory.swap.max"), "0", True))
                # The whole job goes when one of its processes is chosen.
                writes.append((str(folder / "memory.oom.group"), "1", True))
            if quota is not None and "cpu" in self.parents:
                cpu_max = str(folder / "cpu.max")
                writes.append((cpu_max, f"{start_quota or quota} {CPU_PERIOD_US}", False))
                if start_quota is not None:
                    settle.append((cpu_max, f"{quota} {CPU_PERIOD_US}"))
            if "pids" in self.parents:
                writes.append((str(folder / "pids.max"), str(max_tasks), False))
            oom_events.append(str(folder / "memory.events"))
            peak.append(str(folder / "memory.peak"))
            return JobCgroups(
                dirs=[str(folder)],
                writes=writes,
                procs=[str(folder / "cgroup.procs")],
                oom_events=oom_events,
                peak=peak,
                settle=settle,
                settle_after=start_seconds if settle else 0.0,
            )
        dirs: list[str] = []
        for controller, parent in self.parents.items():
            folder = parent / name
            if str(folder) not in dirs:
                dirs.append(str(folder))
            if controller == "memory" and memory_bytes:
                writes.append((str(folder / "memory.limit_in_bytes"), str(memory_bytes), False))
                # No swap either, where swap is accounted (after the memory limit: never below).
                writes.append(
                    (str(folder / "memory.memsw.limit_in_bytes"), str(memory_bytes), True)
                )
                oom_events.append(str(folder / "memory.oom_control"))
                peak.append(str(folder / "memory.max_usage_in_bytes"))
            elif controller == "cpu" and quota is not None:
                cfs_quota = str(folder / "cpu.cfs_quota_us")
                writes.append((str(folder / "cpu.cfs_period_us"), str(CPU_PERIOD_US), False))
                writes.append((cfs_quota, str(start_quota or quota), False))
                if start_quota is not None:
                    settle.append((cfs_quota, str(quota)))
            elif controller == "pids":
                writes.append((str(folder / "pids.max"), str(max_tasks), False))
        return JobCgroups(
            dirs=dirs,
            writes=writes,
            procs=[str(Path(folder) / "cgroup.procs") for folder in dirs],
            oom_events=oom_events,
            peak=peak,
            settle=settle,
            settle_after=start_seconds if settle else 0.0,
        )

    def probe(self) -> None:
        """Create a job-like group with limits and remove it; raise CgroupError if that fails."""
        plan = self.for_job(
            f"probe-{os.getpid()}", memory_bytes=64 << 20, cpu_millicores=1000, max_tasks=64
        )
        try:
            if self.version == 2:
                enable_controllers(self.parents["memory"], self.parents)
            for folder in plan.dirs:
                os.mkdir(folder)
            for path, value, optional in plan.writes:
                write_limit(path, value, optional=optional)
        except OSError as e:
            raise CgroupError(f"cannot create a job cgroup: {e}") from e
        finally:
            remove_dirs(plan.dirs)

    def kill_job(self, jid: str) -> None:
        """SIGKILL what is left in a job's groups (its launcher died before it could)."""
        for _attempt in range(100):
            members = set()
            for folder in self.job_dirs(jid):
                try:
                    text = (folder / "cgroup.procs").read_text()
                except OSError:
                    continue
                members.update(int(line) for line in text.split())
            if not members:
                return
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)
        logger.error("processes of job %s survive in its cgroups", jid)

    def remove_job(self, jid: str) -> None:
        """Remove what a job's launcher left behind (it died before it could)."""
        remove_dirs([str(folder) for folder in self.job_dirs(jid) if folder.exists()])


def _quota(millicores: int) -> int:
    return max(MIN_CPU_QUOTA_US, millicores * CPU_PERIOD_US // 1000)


def write_value(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def write_limit(path: str, value: str, *, optional: bool) -> None:
    """Write a limit; an optional one whose file the kernel lacks is skipped."""
    try:
        write_value(path, value)
    except FileNotFoundError:
        if not optional:
            raise


def remove_dirs(dirs: list[str]) -> None:
    for folder in dirs:
        try:
            os.rmdir(folder)
        except FileNotFoundError:
            pass
        except OSError as e:
            logger.warning("cannot remove cgroup %s: %s", folder, e)


def enable_controllers(parent: Path, wanted: dict[str, Path]) -> None:
    """v2: make the memory, cpu and pids controllers available to the parent's children."""
    control = parent / "cgroup.subtree_control"
    enabled = set(control.read_text().split())
    missing = [name for name in CONTROLLERS if name in wanted and name not in enabled]
    if missing:
        write_value(str(control), " ".join(f"+{name}" for name in missing))


# -- detection ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mount:
    fstype: str
    root: str
    point: Path
    options: set[str]


def read_mounts(text: str) -> list[Mount]:
    """cgroup mounts from /proc/self/mountinfo."""
    mounts = []
    for line in text.splitlines():
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(fields) < 5 or len(tail) < 3 or tail[0] not in ("cgroup", "cgroup2"):
            continue
        mounts.append(
            Mount(
                fstype=tail[0],
                root=_unescape(fields[3]),
                point=Path(_unescape(fields[4])),
                options=set(tail[2].split(",")),
            )
        )
    return mounts


def _unescape(value: str) -> str:
    return value.replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")


def read_own_groups(text: str) -> dict[str, str]:
    """/proc/self/cgroup: controller (``""`` for v2) -> this process's group path."""
    groups: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _hierarchy, controllers, path = parts
        for controller in controllers.split(",") if controllers else [""]:
            groups[controller] = path
    return groups


def _inside(mount: Mount, path: str) -> Path | None:
    """The folder of group ``path`` under this mount, or None when the mount does not hold it."""
    root = mount.root.rstrip("/")
    if root and not (path == root or path.startswith(root + "/")):
        return None
    relative = path[len(root) :].lstrip("/")
    return mount.point / relative if relative else mount.point


def plan_v1(mounts: list[Mount], own: dict[str, str]) -> Cgroups | None:
    parents: dict[str, Path] = {}
    for controller in CONTROLLERS:
        mount = next((m for m in mounts if m.fstype == "cgroup" and controller in m.options), None)
        if mount is None or controller not in own:
            continue
        folder = _inside(mount, own[controller])
        if folder is not None and folder.is_dir():
            parents[controller] = folder
    if "memory" not in parents:
        return None
    return Cgroups(version=1, parents=parents)


def plan_v2(mounts: list[Mount], own: dict[str, str], configured: str) -> Cgroups | None:
    mount = next((m for m in mounts if m.fstype == "cgroup2"), None)
    if mount is None:
        return None
    if configured:
        parent = Path(configured)
    else:
        # A group with processes may not hand controllers to its children; the root may.
        here = _inside(mount, own.get("", "/"))
        if here != mount.point:
            return None
        parent = mount.point
    try:
        available = set((parent / "cgroup.controllers").read_text().split())
    except OSError:
        return None
    if "memory" not in available:
        return None
    parents = {name: parent for name in CONTROLLERS if name in available}
    return Cgroups(version=2, parents=parents)


def detect(mode: str, configured_parent: str = "") -> Cgroups | None:
    """The usable control groups, or None (rlimits only); CgroupError if required and absent."""
    if mode == "off":
        return None
    try:
        mounts = read_mounts(Path("/proc/self/mountinfo").read_text())
        own = read_own_groups(Path("/proc/self/cgroup").read_text())
    except OSError as e:
        mounts, own = [], {}
        reason = f"cannot read this process's cgroups: {e}"
    else:
        reason = "no cgroup hierarchy with a memory controller that localcompute may write to"
    candidates = []
    v1 = None if configured_parent else plan_v1(mounts, own)
    if v1 is not None:
        candidates.append(v1)
    v2 = plan_v2(mounts, own, configured_parent)
    if v2 is not None:
        candidates.append(v2)
    for candidate in candidates:
        try:
            candidate.probe()
        except CgroupError as e:
            reason = str(e)
            continue
        return candidate
    if mode == "required":
        raise CgroupError(f"LOCALCOMPUTE_CGROUPS=required, but {reason}")
    logger.warning(
        "no per-job cgroups (%s): plugins are limited by rlimits only (per process); "
        "see LOCALCOMPUTE_CGROUPS in localcompute/README.md",
        reason,
    )
    return None
