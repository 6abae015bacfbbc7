"""Plugin packages in virtualenvs of their own, described and listed in localcompute's catalogue.

Standard library only, and localcompute's image rule: ``manage.py install_plugin`` (through
``plugins.installation``) and ``utils/scripts/install_builtin_plugins.sh`` (``python -m
plugins.local_install``, before Django is set up) share it.

A ChRIS plugin is a Python distribution with a console script that requires either
``chris_plugin`` (described by its ``chris_plugin_info`` tool) or ``chrisapp`` (whose app
prints its own description with ``--json``). Running either executes the plugin's code on
this machine, outside any sandbox, as pip did when it built and installed the package: only
install what you would pip-install.
"""

import argparse
import email.parser
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# localcompute owns the rule by which it matches a job's image to a catalogue entry; a
# conflict or a shadowed entry here must mean the same match there.
from localcompute.catalogue import normalize_image

Progress = Callable[[str], None]

FRAMEWORKS = ("chris_plugin", "chrisapp")
# Keys CUBE needs in a plugin's JSON representation (plugins.services.registry).
DESCRIPTOR_KEYS = ("type", "parameters", "version", "selfexec", "selfpath", "execshell")
# An OCI repository: lower-case path components separated by '/'.
IMAGE_PATTERN = re.compile(
    r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*:[\w.-]+$"
)
PIP_TIMEOUT_SECONDS = 1800
# Where a plugin's image has it. CUBE registers these (its execshell holds 50 characters at
# most); localcompute's catalogue has the real paths, and only the script's name must match.
CONTAINER_SELFPATH = "/usr/local/bin"
CONTAINER_EXECSHELL = "/usr/local/bin/python"
# Left out of the copy a local folder is built from.
COPY_IGNORED = (".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".tox")
DESCRIBE_TIMEOUT_SECONDS = 120
# pip's lines worth showing as progress; the rest is shown only when it fails.
PIP_PROGRESS = (
    "Collecting ",
    "Processing ",
    "Building wheel",
    "Installing collected",
    "Successfully",
)


class InstallError(Exception):
    """The package cannot be installed as a ChRIS plugin; the message says why."""


def quiet(_line: str) -> None:
    pass


# -- the package --------------------------------------------------------------------------


@dataclass(frozen=True)
class Package:
    """A built wheel and what its metadata says."""

    wheel: Path
    name: str  # as the distribution spells it
    version: str
    requires: tuple[str, ...]

    @property
    def slug(self) -> str:
        return f"{normalize(self.name)}-{self.version}"

    def framework(self) -> str | None:
        """``chris_plugin`` or ``chrisapp`` when the package requires one, else None."""
        names = {
            normalize(re.split(r"[\s;<>=!~\[(]", entry, maxsplit=1)[0]) for entry in self.requires
        }
        for framework in FRAMEWORKS:
            if normalize(framework) in names:
                return framework
        return None


def normalize(name: str) -> str:
    """PEP 503's normal form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_wheel(wheel: Path) -> Package:
    try:
        with zipfile.ZipFile(wheel) as archive:
            metadata = next(
                (n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None
            )
            if metadata is None:
                raise InstallError(f"{wheel.name} has no METADATA: not a wheel")
            message = email.parser.Parser().parsestr(archive.read(metadata).decode())
    except (OSError, zipfile.BadZipFile) as e:
        raise InstallError(f"{wheel.name} is not a readable wheel: {e}") from e
    return Package(
        wheel=wheel,
        name=message["Name"],
        version=message["Version"],
        requires=tuple(message.get_all("Requires-Dist") or ()),
    )


def build_wheel(spec: str, folder: Path, *, python: str, progress: Progress = quiet) -> Package:
    """The wheel of ``spec`` alone (a requirement, a folder, a wheel file or a Git URL)."""
    given = Path(spec).expanduser()
    if spec.endswith(".whl") and given.is_file():
        target = folder / given.name
        shutil.copyfile(given, target)
        return read_wheel(target)
    if spec.startswith(("/", "./", "../", "~")) and not given.exists():
        raise InstallError(f"{spec}: no such file or folder")
    source = spec
    if given.is_dir():
        # Built from a copy: setuptools leaves build/ and *.egg-info in the tree it builds.
        source = str(folder / "source")
        shutil.copytree(given, source, ignore=shutil.ignore_patterns(*COPY_IGNORED))
    progress(f"building {spec}")
    wheels_dir = folder / "wheels"
    run_pip(
        [python, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels_dir), source],
        progress=progress,
        what=f"pip could not build {spec}",
    )
    wheels = sorted(wheels_dir.glob("*.whl"))
    if len(wheels) != 1:
        raise InstallError(f"pip built {len(wheels)} wheels for {spec}, expected one")
    return read_wheel(wheels[0])


def run_pip(command: list[str], *, progress: Progress, what: str) -> None:
    """Run pip, passing its progress lines on; on failure raise with the end of its output."""
    lines: list[str] = []
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_PROGRESS_BAR": "off"}
    env.pop("PYTHONPATH", None)
    try:
        with subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            env=env,
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                line = line.rstrip()
                lines.append(line)
                if line.lstrip().startswith(PIP_PROGRESS):
                    progress(f"  {line.strip()}")
            code = process.wait(timeout=PIP_TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise InstallError(f"{what}: {e}") from e
    if code != 0:
        tail = "\n".join(line for line in lines[-15:] if line.strip())
        raise InstallError(f"{what}:\n{tail}")


# -- virtualenvs --------------------------------------------------------------------------


def create_venv(venv: Path, *, python: str) -> None:
    try:
        subprocess.run(
            [python, "-m", "venv", str(venv)], check=True, capture_output=True, text=True
        )
    except subprocess.CalledProcessError as e:
        raise InstallError(f"cannot create the virtualenv {venv}: {e.stderr.strip()}") from e


def pip_install(venv: Path, *targets: str, progress: Progress = quiet) -> None:
    run_pip(
        [str(venv / "bin" / "python"), "-m", "pip", "install", *targets],
        progress=progress,
        what="pip could not install the plugin",
    )


# -- descriptions -------------------------------------------------------------------------


_DISTRIBUTION_PROBE = """
import importlib.metadata as m, json, sys
d = m.distribution(sys.argv[1])
print(json.dumps({
    "name": d.metadata["Name"],
    "version": d.version,
    "scripts": [e.name for e in d.entry_points if e.group == "console_scripts"],
    "home": d.metadata.get("Home-page") or "",
}))
"""


def installed_distribution(venv: Path, name: str) -> dict:
    """Name, version, console scripts and home page of a distribution installed in ``venv``."""
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-I", "-c", _DISTRIBUTION_PROBE, name],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise InstallError(f"{name} is not installed in {venv}: {result.stderr.strip()[-500:]}")
    return json.loads(result.stdout)


def _plugin_env(venv: Path) -> dict[str, str]:
    # chrisapp looks its own console script up in PATH.
    return {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
    }


def _json_of(command: list[str], venv: Path) -> dict | None:
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=_plugin_env(venv),
            timeout=DESCRIBE_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    try:
        document = json.loads(result.stdout)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def describe(
    venv: Path,
    distribution: str,
    *,
    image: str,
    name: str | None = None,
    public_repo: str | None = None,
) -> dict:
    """The plugin's JSON representation, as CUBE registers it, from its own tools."""
    installed = installed_distribution(venv, distribution)
    scripts = installed["scripts"]
    if not scripts:
        raise InstallError(
            f"{installed['name']} is not a ChRIS plugin: it has no console script to run"
        )
    descriptor = None
    info = venv / "bin" / "chris_plugin_info"
    if info.exists():
        command = [str(info), "--dock-image", image, installed["name"]]
        if name:
            command += ["--name", name]
        command += ["--public-repo", public_repo or installed["home"] or ""]
        descriptor = _json_of(command, venv)
    if descriptor is None:
        for script in scripts:
            descriptor = _json_of([str(venv / "bin" / script), "--json"], venv)
            if descriptor is not None and "parameters" in descriptor:
                break
            descriptor = None
    if descriptor is None:
        raise InstallError(
            f"{installed['name']} is not a ChRIS plugin: chris_plugin_info cannot describe it "
            f"and none of its console scripts ({', '.join(scripts)}) prints a description "
            "with --json"
        )
    missing = [key for key in DESCRIPTOR_KEYS if key not in descriptor]
    if missing:
        raise InstallError(
            f"the description of {installed['name']} lacks {', '.join(missing)}: "
            "not a ChRIS plugin description"
        )
    # chrisapp's own description has no name, image or repository: they come from here.
    descriptor["dock_image"] = image
    descriptor["name"] = name or descriptor.get("name") or image_name(image)
    if public_repo is not None:
        descriptor["public_repo"] = public_repo
    else:
        descriptor.setdefault("public_repo", installed["home"] or "")
    ordered = {key: descriptor[key] for key in ("name", "dock_image", "public_repo")}
    ordered.update((k, v) for k, v in descriptor.items() if k not in ordered)
    return ordered


def for_registration(descriptor: dict, venv: Path, *, execshell: str = CONTAINER_EXECSHELL) -> dict:
    """The description CUBE registers: ``selfpath`` and ``execshell`` inside ``venv`` become
    the paths the plugin's container image uses, as upstream registrations have them."""
    registered = dict(descriptor)
    if _inside(registered.get("selfpath", ""), venv):
        registered["selfpath"] = CONTAINER_SELFPATH
    if _inside(registered.get("execshell", ""), venv):
        registered["execshell"] = execshell
    return registered


def _inside(path: str, folder: Path) -> bool:
    return bool(path) and (path == str(folder) or path.startswith(f"{folder}/"))


def image_name(image: str) -> str:
    """The plugin name an image implies: its last path component, without the tag."""
    return image.rsplit("/", 1)[-1].split(":", 1)[0]


def default_image(package: Package) -> str:
    return f"local/{normalize(package.name)}:{package.version}"


def check_image(image: str) -> str:
    if not IMAGE_PATTERN.match(image):
        raise InstallError(
            f"invalid image {image!r}: expected lower-case <repository>:<tag>, "
            "for example fnndsc/pl-dircopy:2.1.1"
        )
    return image


# -- the catalogue ------------------------------------------------------------------------


def catalogue_entry(
    descriptor: dict, *, installed_by: str, venv: Path | None = None, bin_dir: Path | None = None
) -> dict:
    """localcompute's entry for a plugin whose script is in ``bin_dir`` (else its selfpath)."""
    folder = bin_dir or (venv / "bin" if venv is not None else Path(descriptor["selfpath"]))
    entry = {
        "image": descriptor["dock_image"],
        "name": descriptor["name"],
        "version": str(descriptor["version"]),
        "selfexec": descriptor["selfexec"],
        "executable": str(folder / descriptor["selfexec"]),
        "installed_by": installed_by,
    }
    if venv is not None:
        entry["venv"] = str(venv)
    return entry


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` + '.lock', held by this process for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_catalogue(path: Path) -> list[dict]:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except ValueError as e:
        raise InstallError(f"the plugin catalogue {path} is not valid JSON: {e}") from e
    plugins = document.get("plugins") if isinstance(document, dict) else None
    if not isinstance(plugins, list):
        raise InstallError(f"the plugin catalogue {path} has no 'plugins' list")
    return plugins


def write_catalogue(path: Path, entries: list[dict]) -> None:
    """Replace the catalogue atomically: localcompute reads either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as f:
            json.dump({"plugins": entries}, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(partial, 0o644)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def update_catalogue(path: Path, change: Callable[[list[dict]], list[dict]]) -> list[dict]:
    """Read, change and write the catalogue under its lock; returns the new entries."""
    with locked(path):
        entries = change(read_catalogue(path))
        write_catalogue(path, entries)
    return entries


def merge_builtin_entries(entries: list[dict], builtins: list[dict]) -> list[dict]:
    """The built-in entries, then every entry install_plugin added that they do not shadow."""
    taken = {normalize_image(entry["image"]) for entry in builtins}
    kept = [
        entry
        for entry in entries
        if entry.get("installed_by") == "install_plugin"
        and normalize_image(entry["image"]) not in taken
    ]
    return [*builtins, *kept]


# -- command line (used by install_builtin_plugins.sh) -----------------------------------


def install_builtin(args: argparse.Namespace) -> None:
    """One built-in plugin in its own virtualenv with exact pins; writes its description."""
    venv = Path(args.venv).absolute()

    def say(line: str) -> None:
        print(f"[install_builtin_plugins] {line}", file=sys.stderr, flush=True)

    if args.install:
        if not (venv / "bin" / "python").exists():
            say(f"creating virtualenv {venv}")
            create_venv(venv, python=args.python)
        say(f"installing {Path(args.source).name} into {venv}")
        targets = ["-r", args.requirements] if args.requirements else []

        def summary(line: str) -> None:
            if line.strip().startswith("Successfully installed"):
                say(line.strip())

        pip_install(venv, *targets, args.source, progress=summary)
        for leftover in ("build", *(p.name for p in Path(args.source).glob("*.egg-info"))):
            shutil.rmtree(Path(args.source) / leftover, ignore_errors=True)
    say(f"describing {args.name} {args.version}")
    descriptor = describe(
        venv, args.distribution, image=args.image, name=args.name, public_repo=args.public_repo
    )
    if str(descriptor["version"]) != args.version:
        raise InstallError(
            f"{args.name} describes version {descriptor['version']}, not {args.version}"
        )
    write_json(Path(args.output), for_registration(descriptor, venv, execshell=args.execshell))


def write_json(path: Path, document: dict) -> None:
    partial = path.with_name(f"{path.name}.partial")
    partial.write_text(json.dumps(document, indent=2))
    partial.replace(path)


def write_builtin_catalogue(args: argparse.Namespace) -> None:
    """catalogue.json from the built-ins' descriptions, keeping what install_plugin added.

    Each key may name its script folder (``key=/venv/bin``); the description is then
    rewritten with its image's paths for CUBE (``for_registration``).
    """
    out_dir = Path(args.out_dir)
    builtins = []
    for item in args.keys:
        key, _, folder = item.partition("=")
        path = out_dir / f"{key}.json"
        descriptor = json.loads(path.read_text())
        bin_dir = Path(folder) if folder else None
        builtins.append(
            catalogue_entry(descriptor, installed_by="install_builtin_plugins", bin_dir=bin_dir)
        )
        if bin_dir is not None:
            registered = for_registration(descriptor, bin_dir.parent)
            if registered != descriptor:
                write_json(path, registered)
    update_catalogue(
        out_dir / "catalogue.json", lambda entries: merge_builtin_entries(entries, builtins)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plugins.local_install")
    commands = parser.add_subparsers(dest="command", required=True)
    builtin = commands.add_parser("builtin", help=install_builtin.__doc__)
    builtin.add_argument("source", help="the plugin's source folder")
    builtin.add_argument("--venv", required=True)
    builtin.add_argument("--python", default=sys.executable)
    builtin.add_argument("--requirements", default="")
    builtin.add_argument("--install", action="store_true", help="(re)install before describing")
    builtin.add_argument("--distribution", required=True)
    builtin.add_argument("--name", required=True)
    builtin.add_argument("--version", required=True)
    builtin.add_argument("--image", required=True)
    builtin.add_argument("--public-repo", default=None)
    builtin.add_argument("--execshell", default=CONTAINER_EXECSHELL, help="in the plugin's image")
    builtin.add_argument("--output", required=True)
    catalogue = commands.add_parser("catalogue", help=write_builtin_catalogue.__doc__)
    catalogue.add_argument("out_dir")
    catalogue.add_argument("keys", nargs="+", help="<key>[=<script folder>]: <key>.json")
    args = parser.parse_args(argv)
    try:
        if args.command == "builtin":
            install_builtin(args)
        else:
            write_builtin_catalogue(args)
    except InstallError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
