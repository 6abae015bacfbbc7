"""Confining plugin processes: what a plugin sees of the machine while it runs.

In CUBE every plugin runs in a container that sees only ``/share/incoming`` (read-only) and
``/share/outgoing``. ``Bubblewrap`` gives the same guarantee without a container engine: each
job gets its own user, mount, pid, ipc, uts, cgroup and network namespaces, a filesystem of
the system's ``/usr``, the plugin's own runtime (read-only), its inputs (read-only), an empty
output folder and a private ``/tmp``, and nothing else of the host. ``Unconfined`` runs the
plugin as a plain process, for development on a machine without namespaces.
"""

import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

INCOMING = Path("/share/incoming")
OUTGOING = Path("/share/outgoing")
SCRATCH = Path("/tmp")
# The plugin's identity inside its user namespace; it maps to localcompute's own uid.
SANDBOX_UID = 1000
SANDBOX_GID = 1000
SANDBOX_HOSTNAME = "localcompute"
# Top-level folders that merged-/usr systems keep as symlinks into /usr.
SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# Host files a program may need to start (the dynamic loader's cache, the time zone,
# Debian's alternatives that /usr/bin links point into); nothing in them is a secret.
HOST_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives")


class SandboxError(Exception):
    """No working sandbox: localcompute must not run plugins."""


@dataclass(frozen=True)
class JobPaths:
    """A job's input, output and scratch folders, on the host or as the plugin sees them."""

    incoming: Path
    outgoing: Path
    scratch: Path


def runtime_paths(executable: Path) -> list[Path]:
    """Host folders the plugin needs to run: its bin folder, virtualenv and interpreter.

    A virtualenv's scripts name their interpreter by absolute path, and the venv's python
    links to a base installation (``home`` in ``pyvenv.cfg``), so all three are mounted at
    their host paths, read-only. Folders under ``/usr`` are there already.
    """
    folders = {executable.parent, executable.resolve().parent}
    programs = [executable]
    interpreter = _shebang_interpreter(executable)
    if interpreter is not None:
        programs.append(interpreter)
        # The installation prefix of the real interpreter holds its standard library.
        folders.update({interpreter.parent, interpreter.resolve().parent.parent})
    for program in programs:
        venv = program.parent.parent
        config = venv / "pyvenv.cfg"
        if config.is_file():
            folders.add(venv)
            home = _venv_home(config)
            if home is not None:
                folders.add(home.resolve().parent)
    return _outermost(folder for folder in folders if not _under(folder, Path("/usr")))


def _shebang_interpreter(executable: Path) -> Path | None:
    try:
        with open(executable, "rb") as f:
            first = f.readline(256)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].split()
    if not words or not words[0].startswith(b"/"):
        return None
    return Path(os.fsdecode(words[0]))


def _venv_home(config: Path) -> Path | None:
    for line in config.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home" and value.strip():
            return Path(value.strip())
    return None


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _outermost(folders) -> list[Path]:
    chosen: list[Path] = []
    for folder in sorted({Path(os.path.abspath(f)) for f in folders}, key=lambda p: len(p.parts)):
        if folder != Path("/") and not any(_under(folder, outer) for outer in chosen):
            chosen.append(folder)
    return chosen


class Unconfined:
    """Plugins run as plain processes of localcompute's user (LOCALCOMPUTE_SANDBOX=off)."""

    name = "off"

    def view(self, paths: JobPaths) -> JobPaths:
        return paths

    def wrap(self, argv: list[str], paths: JobPaths, runtime: list[Path]) -> list[str]:
        return argv

    def check(self) -> None:
        logger.warning(
            "LOCALCOMPUTE_SANDBOX=off: plugins run unconfined, with this server's user and "
            "its view of the filesystem and network"
        )


class Bubblewrap:
    """Every plugin in its own bubblewrap sandbox."""

    name = "bwrap"

    def __init__(self, data_dir: Path, executable: str = "bwrap"):
        self.executable = executable
        self.etc_dir = data_dir / "sandbox-etc"

    def view(self, paths: JobPaths) -> JobPaths:
        return JobPaths(incoming=INCOMING, outgoing=OUTGOING, scratch=SCRATCH)

    def wrap(self, argv: list[str], paths: JobPaths, runtime: list[Path]) -> list[str]:
        """The bwrap command line that runs ``argv`` (already in the plugin's view)."""
        command = [
            self._bwrap(),
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--uid", str(SANDBOX_UID),
            "--gid", str(SANDBOX_GID),
            "--hostname", SANDBOX_HOSTNAME,
            # The whole namespace dies with the launcher's child, so a cancel that kills the
            # process group also kills what the plugin moved to a new session.
            "--die-with-parent",
            "--cap-drop", "ALL",
            "--ro-bind", "/usr", "/usr",
        ]  # fmt: skip
        for name in SYSTEM_LINKS:
            host = Path("/") / name
            if host.is_symlink():
                command += ["--symlink", os.readlink(host), str(host)]
            elif host.is_dir():
                command += ["--ro-bind", str(host), str(host)]
        command += ["--proc", "/proc", "--dev", "/dev"]
        for name in HOST_ETC_FILES:
            command += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        for name in ("passwd", "group", "hosts"):
            command += ["--ro-bind", str(self._etc_file(name)), f"/etc/{name}"]
        command += ["--bind", str(paths.scratch), str(SCRATCH)]
        for folder in runtime:
            command += ["--ro-bind", str(folder), str(folder)]
        command += [
            "--ro-bind", str(paths.incoming), str(INCOMING),
            "--bind", str(paths.outgoing), str(OUTGOING),
            # The sandbox's own root holds only mount points: nothing may be written there.
            "--remount-ro", "/",
            "--chdir", str(SCRATCH),
            "--",
            *argv,
        ]  # fmt: skip
        return command

    def check(self) -> None:
        """Run a trivial program in a sandbox like a job's; raise SandboxError if that fails."""
        probe = self.etc_dir.parent / "sandbox-probe"
        paths = JobPaths(probe / "incoming", probe / "outgoing", probe / "tmp")
        for folder in (paths.incoming, paths.outgoing, paths.scratch):
            folder.mkdir(parents=True, exist_ok=True)
        try:
            result = subprocess.run(
                self.wrap(["/bin/sh", "-c", "exit 0"], paths, []),
                capture_output=True,
                env={"PATH": "/usr/bin:/bin"},
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise SandboxError(f"bubblewrap does not run: {e}") from e
        finally:
            shutil.rmtree(probe, ignore_errors=True)
        if result.returncode != 0:
            detail = result.stderr.decode(errors="replace").strip().splitlines()
            raise SandboxError(
                f"bubblewrap cannot create a sandbox here: {detail[-1] if detail else 'failed'}"
            )

    def _bwrap(self) -> str:
        found = shutil.which(self.executable)
        if found is None:
            raise SandboxError(
                "bubblewrap (bwrap) is not installed: install the 'bubblewrap' package, or set "
                "LOCALCOMPUTE_SANDBOX=off to run plugins unconfined (development only)"
            )
        return found

    def _etc_file(self, name: str) -> Path:
        """A minimal passwd, group or hosts naming only the sandbox's own user and host."""
        path = self.etc_dir / name
        if not path.exists():
            content = {
                "passwd": f"plugin:x:{SANDBOX_UID}:{SANDBOX_GID}:ChRIS plugin:{SCRATCH}:/bin/sh\n"
                "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
                "group": f"plugin:x:{SANDBOX_GID}:\nnogroup:x:65534:\n",
                "hosts": f"127.0.0.1\tlocalhost {SANDBOX_HOSTNAME}\n::1\tlocalhost\n",
            }[name]
            self.etc_dir.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{name}.partial-{os.getpid()}")
            partial.write_text(content)
            partial.replace(path)
        return path


def make_sandbox(mode: str, data_dir: Path) -> Bubblewrap | Unconfined:
    return Bubblewrap(data_dir) if mode == "bwrap" else Unconfined()
