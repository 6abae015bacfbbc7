"""Moving job data: staging inputs into ``key-<jid>/incoming`` and collecting outputs.

Storage paths are relative, slash-separated names under the storage root. A ``.chrislink``
file holds one such path; staging replaces it by a folder named after the path with ``/``
turned into ``_`` holding the linked tree (the parent folder's tree when it names a file).
Links may not point at the job's output folder or one of its ancestors.
"""

import os
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

LINK_SUFFIX = ".chrislink"


class StagingError(Exception):
    """Inputs could not be staged or outputs collected; the message is shown to the client."""


class ObjectStorage(Protocol):
    """The part of ``storage.base.Storage`` used here."""

    def ls(self, prefix: str) -> list[str]: ...

    def open(self, key: str) -> Iterator[bytes]: ...

    def put(self, key: str, stream: BinaryIO, *, length: int | None = None) -> int: ...


def storage_path(raw: str) -> str:
    """Normalize a client-supplied storage path, refusing absolute tricks and ``..``."""
    parts = [part for part in raw.strip().strip("/").split("/") if part not in ("", ".")]
    if not parts:
        raise StagingError(f"invalid storage path: {raw!r}")
    if any(part == ".." for part in parts) or "\x00" in raw:
        raise StagingError(f"invalid storage path: {raw!r}")
    return "/".join(parts)


def resolve_inside(base: Path, relative: str) -> Path:
    """``base/relative`` with symlinks resolved, refusing anything that leaves ``base``."""
    root = base.resolve()
    candidate = (root / relative).resolve()
    if candidate != root and root not in candidate.parents:
        raise StagingError(f"path escapes the storage root: {relative!r}")
    return candidate


def _points_at_output(target: str, output_dir: str) -> bool:
    return f"{output_dir}/".startswith(f"{target}/")


def _link_target(raw: str, output_dir: str) -> str:
    target = storage_path(raw)
    if output_dir and _points_at_output(target, output_dir):
        raise StagingError(f"link to {target} points at the job output dir or an ancestor")
    return target


def _in_chain(target: str, chain: frozenset[str]) -> bool:
    return any(target == seen or target.startswith(f"{seen}/") for seen in chain)


def _place_file(source: Path, destination: Path, *, hardlink: bool) -> bool:
    if destination.exists():
        return False
    destination.parent.mkdir(parents=True, exist_ok=True)
    if hardlink:
        try:
            os.link(source, destination)
            return True
        except OSError:
            pass  # another filesystem, or links unsupported: fall back to a copy
    shutil.copy2(source, destination)
    return True


class FilesystemStager:
    """Stages inputs from a storage root on the local filesystem (fslink mode)."""

    def __init__(self, storebase: Path, *, hardlink: bool, log: Callable[[str], None]):
        self.storebase = storebase
        self.hardlink = hardlink
        self.log = log

    def stage(self, input_dirs: list[str], incoming: Path, output_dir: str) -> int:
        output = storage_path(output_dir)
        count = 0
        for raw in input_dirs:
            relative = storage_path(raw)
            source = resolve_inside(self.storebase, relative)
            if source.is_file():
                count += _place_file(source, incoming / source.name, hardlink=self.hardlink)
            elif source.is_dir():
                count += self._copy_tree(source, incoming, output, frozenset({relative}))
            else:
                self.log(f"input path {relative} not found; nothing staged from it")
        return count

    def _copy_tree(self, source: Path, destination: Path, output: str, chain) -> int:
        count = 0
        for root, _dirs, files in os.walk(source):
            target_root = destination / os.path.relpath(root, source)
            target_root.mkdir(parents=True, exist_ok=True)
            for name in files:
                path = Path(root) / name
                if path.is_symlink():
                    self.log(f"skipping symlink {path.relative_to(self.storebase)}")
                elif name.endswith(LINK_SUFFIX):
                    count += self._expand_link(path, target_root, output, chain)
                else:
                    count += _place_file(path, target_root / name, hardlink=self.hardlink)
        return count

    def _expand_link(self, link: Path, target_root: Path, output: str, chain) -> int:
        target = _link_target(link.read_text(), output)
        linked = resolve_inside(self.storebase, target)
        if linked.is_file():
            target = str(PurePosixPath(target).parent)
            linked = linked.parent
        if _in_chain(target, chain) or not linked.is_dir():
            return 0
        destination = target_root / target.replace("/", "_")
        if destination.exists():
            return 0
        return self._copy_tree(linked, destination, output, chain | {target})


class ObjectStorageStager:
    """Stages inputs by downloading them from object storage (swift mode)."""

    def __init__(self, storage: ObjectStorage, *, log: Callable[[str], None]):
        self.storage = storage
        self.log = log

    def stage(self, input_dirs: list[str], incoming: Path, output_dir: str) -> int:
        output = storage_path(output_dir)
        count = 0
        for raw in input_dirs:
            prefix = storage_path(raw)
            keys = self.storage.ls(prefix)
            if keys == [prefix]:
                count += self._download(prefix, incoming / PurePosixPath(prefix).name)
            elif keys:
                count += self._fetch(prefix, incoming, output, frozenset({prefix}))
            else:
                self.log(f"input path {prefix} not found; nothing staged from it")
        return count

    def _fetch(self, prefix: str, destination: Path, output: str, chain) -> int:
        count = 0
        for key in self.storage.ls(prefix):
            if not key.startswith(f"{prefix}/"):
                continue
            relative = key[len(prefix) + 1 :]
            local = resolve_inside(destination, storage_path(relative))
            if key.endswith(LINK_SUFFIX):
                content = b"".join(self.storage.open(key)).decode()
                count += self._expand_link(content, local.parent, output, chain)
            else:
                count += self._download(key, local)
        return count

    def _expand_link(self, content: str, target_root: Path, output: str, chain) -> int:
        target = _link_target(content, output)
        if self.storage.ls(target) == [target]:
            target = str(PurePosixPath(target).parent)
        if _in_chain(target, chain):
            return 0
        destination = target_root / target.replace("/", "_")
        if destination.exists():
            return 0
        return self._fetch(target, destination, output, chain | {target})

    def _download(self, key: str, local: Path) -> int:
        if local.exists():
            return 0
        local.parent.mkdir(parents=True, exist_ok=True)
        partial = local.with_name(f"{local.name}.partial")
        with open(partial, "wb") as f:
            for chunk in self.storage.open(key):
                f.write(chunk)
        partial.replace(local)
        return 1


def _safe_member_name(name: str) -> str:
    if name.startswith(("/", "\\")) or "\x00" in name or "\\" in name:
        raise StagingError(f"data_file: unsafe member name {name!r}")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if not parts or ".." in parts or (len(parts[0]) == 2 and parts[0][1] == ":"):
        raise StagingError(f"data_file: unsafe member name {name!r}")
    return "/".join(parts)


def extract_zip(fileobj: BinaryIO, incoming: Path) -> int:
    """Unpack an input zip into ``incoming``, expand its links, return the file count.

    Raises zipfile.BadZipFile for a corrupt archive and StagingError for a member whose
    name is absolute or climbs out with ``..``; nothing is written in either case.
    """
    with zipfile.ZipFile(fileobj) as archive:
        members = [(member, _safe_member_name(member.filename)) for member in archive.infolist()]
        nfiles = 0
        for member, name in members:
            target = incoming / name
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink)
            nfiles += 1
    return nfiles - expand_links_in_place(incoming)


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def expand_links_in_place(incoming: Path) -> int:
    """Replace link files under ``incoming`` by copies of the trees they name.

    The uploaded archive carries each linked tree under its full storage path; those
    full-path copies are removed afterwards unless a link names their top folder itself.
    Returns the number of link files removed.
    """
    linked: set[str] = set()
    removed = 0

    def walk(directory: Path, chain: frozenset[str]) -> None:
        nonlocal removed
        subdirs = []
        for entry in sorted(directory.iterdir()):
            if entry.is_dir() and not entry.is_symlink():
                subdirs.append(entry)
                continue
            if not (entry.is_file() and entry.name.endswith(LINK_SUFFIX)):
                continue
            target = _link_target(entry.read_text(), "")
            source = resolve_inside(incoming, target)
            if source.is_file():
                target = str(PurePosixPath(target).parent)
                source = source.parent
            destination = directory / target.replace("/", "_")
            if not destination.exists() and source.is_dir() and not _in_chain(target, chain):
                shutil.copytree(source, destination, copy_function=_link_or_copy)
                walk(destination, chain | {target})
            linked.add(target)
            entry.unlink()
            removed += 1
        for subdir in subdirs:
            walk(subdir, chain)

    walk(incoming, frozenset())
    for top in {target.split("/", 1)[0] for target in linked} - linked:
        shutil.rmtree(incoming / top, ignore_errors=True)
    return removed


def list_outputs(output_dir: Path) -> list[str]:
    """Relative paths of the regular files a plugin produced.

    Symlinks and link files are removed rather than listed: a plugin must not be able to
    make the backend register or follow a path outside its own output.
    """
    paths: list[str] = []
    for root, dirs, files in os.walk(output_dir):
        for name in list(dirs):
            path = Path(root) / name
            if path.is_symlink():
                path.unlink()
                dirs.remove(name)
        for name in files:
            path = Path(root) / name
            if path.is_symlink() or name.endswith(LINK_SUFFIX):
                path.unlink()
                continue
            paths.append(os.path.relpath(path, output_dir))
    return sorted(paths)


def write_zip(output_dir: Path, sink: BinaryIO) -> int:
    """Write the plugin's outputs as a zip with relative names; returns the file count."""
    names = list_outputs(output_dir)
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.write(output_dir / name, arcname=name)
    return len(names)


def upload_outputs(storage: ObjectStorage, output_dir: Path, job_output_path: str) -> int:
    """Upload the plugin's outputs under ``job_output_path``; returns the file count."""
    prefix = storage_path(job_output_path)
    names = list_outputs(output_dir)
    for name in names:
        path = output_dir / name
        with open(path, "rb") as f:
            storage.put(f"{prefix}/{name}", f, length=path.stat().st_size)
    return len(names)
