"""Moving job data: staging inputs into ``key-<jid>/incoming`` and collecting outputs.

Storage paths are relative, slash-separated names under the storage root. A ``.chrislink``
file holds one such path; staging replaces it by a folder named after the path with ``/``
turned into ``_`` holding the linked tree (the parent folder's tree when it names a file).
Links may not point at the job's output folder or one of its ancestors.
"""

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol, TypeVar

LINK_SUFFIX = ".chrislink"
# A link file holds one storage path; anything longer is not a link CUBE wrote.
MAX_LINK_BYTES = 4096
# Object storage transfers of one job run this many at a time.
TRANSFER_THREADS = 8
# An output this size or larger that is byte for byte one of the job's inputs is copied
# inside object storage instead of uploaded; below it an upload costs no more.
COPY_MIN_BYTES = 64 << 10
HASH_CHUNK = 1 << 20

T = TypeVar("T")


class StagingError(Exception):
    """Inputs could not be staged or outputs collected; the message is shown to the client."""


class ObjectStorage(Protocol):
    """The part of ``storage.base.Storage`` used here."""

    def ls(self, prefix: str) -> list[str]: ...

    def open(self, key: str) -> Iterator[bytes]: ...

    def put(self, key: str, stream: BinaryIO, *, length: int | None = None) -> int: ...

    def copy_if_match(self, source: str, destination: str, etag: str) -> bool: ...


def storage_path(raw: str) -> str:
    """Normalize a client-supplied storage path, refusing absolute paths, ``..`` and NUL."""
    path = raw.strip()
    parts = [part for part in path.strip("/").split("/") if part not in ("", ".")]
    if not parts or path.startswith("/") or ".." in parts or "\x00" in path:
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
    """The storage path a link file names; a link into the job's own output is an error.

    Link files are written by CUBE only (the API refuses them in uploads and moves, and
    outputs drop them), but one left in storage must still not widen what a job reads: the
    stagers follow only targets in the tree of the output folder's owner (``<owner>/...``).
    """
    target = storage_path(raw)
    if output_dir and _points_at_output(target, output_dir):
        raise StagingError(f"link to {target} points at the job output dir or an ancestor")
    return target


def _outside_owner_tree(target: str, output_dir: str) -> bool:
    return target.split("/", 1)[0] != output_dir.split("/", 1)[0]


def _read_link(path: Path) -> str:
    with open(path, "rb") as f:
        return f.read(MAX_LINK_BYTES).decode("utf-8", errors="replace")


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
        target = _link_target(_read_link(link), output)
        if _outside_owner_tree(target, output):
            self.log(f"not following {link.relative_to(self.storebase)}: {target} is not yours")
            return 0
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


def _in_parallel(function: Callable[[T], Any], items: Iterable[T]) -> list:
    items = list(items)
    if len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(min(TRANSFER_THREADS, len(items)), "localcompute-transfer") as pool:
        return list(pool.map(function, items))


class ObjectStorageStager:
    """Stages inputs by downloading them from object storage (swift mode).

    The walk (listings, link files) comes first; the downloads then run in parallel. With
    ``record``, what was downloaded is written there (key, size, SHA-256 and MD5 of the
    bytes) for ``upload_outputs``; it lives in the job's folder, outside the sandbox.
    """

    def __init__(
        self, storage: ObjectStorage, *, log: Callable[[str], None], record: Path | None = None
    ):
        self.storage = storage
        self.log = log
        self.record = record
        self._wanted: dict[Path, str] = {}

    def stage(self, input_dirs: list[str], incoming: Path, output_dir: str) -> int:
        output = storage_path(output_dir)
        self._wanted = {}
        for raw in input_dirs:
            prefix = storage_path(raw)
            keys = self.storage.ls(prefix)
            if keys == [prefix]:
                self._want(prefix, incoming / PurePosixPath(prefix).name)
            elif keys:
                self._fetch(prefix, incoming, output, frozenset({prefix}))
            else:
                self.log(f"input path {prefix} not found; nothing staged from it")
        staged = [item for item in _in_parallel(self._download, self._wanted.items()) if item]
        if self.record is not None:
            _write_json(self.record, staged)
        return len(staged)

    def _fetch(self, prefix: str, destination: Path, output: str, chain) -> None:
        for key in self.storage.ls(prefix):
            if not key.startswith(f"{prefix}/"):
                continue
            relative = key[len(prefix) + 1 :]
            local = resolve_inside(destination, storage_path(relative))
            if key.endswith(LINK_SUFFIX):
                content = b"".join(self.storage.open(key)).decode()
                self._expand_link(content, local.parent, output, chain)
            else:
                self._want(key, local)

    def _expand_link(self, content: str, target_root: Path, output: str, chain) -> None:
        target = _link_target(content, output)
        if _outside_owner_tree(target, output):
            self.log(f"not following a link to {target}: it is not yours")
            return
        if self.storage.ls(target) == [target]:
            target = str(PurePosixPath(target).parent)
        if _in_chain(target, chain):
            return
        destination = target_root / target.replace("/", "_")
        if destination.exists() or any(_under(path, destination) for path in self._wanted):
            return
        self._fetch(target, destination, output, chain | {target})

    def _want(self, key: str, local: Path) -> None:
        # The first key to claim a local path wins, as when the downloads were sequential.
        if not local.exists():
            self._wanted.setdefault(local, key)

    def _download(self, item: tuple[Path, str]) -> dict | None:
        local, key = item
        local.parent.mkdir(parents=True, exist_ok=True)
        partial = local.with_name(f"{local.name}.partial")
        sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        with open(partial, "wb") as f:
            for chunk in self.storage.open(key):
                f.write(chunk)
                sha256.update(chunk)
                md5.update(chunk)
                size += len(chunk)
        partial.replace(local)
        return {"key": key, "size": size, "sha256": sha256.hexdigest(), "md5": md5.hexdigest()}


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _write_json(path: Path, value) -> None:
    partial = path.with_name(f"{path.name}.partial")
    partial.write_text(json.dumps(value))
    partial.replace(path)


def read_staged(record: Path | None) -> list[dict]:
    """What a copy job downloaded (``ObjectStorageStager``); empty when it kept no record."""
    if record is None:
        return []
    try:
        return json.loads(record.read_text())
    except FileNotFoundError:
        return []


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
            target = _link_target(_read_link(entry), "")
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


def is_link_file(name: str) -> bool:
    return name.lower().endswith(LINK_SUFFIX)


def unsafe_name(name: str) -> str | None:
    """Why an output file or folder name is refused, or None when it is sound."""
    if any(ord(character) < 32 or ord(character) == 127 for character in name):
        return "control character in the name"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "name is not UTF-8"
    if len(name.encode("utf-8")) > 255:
        return "name longer than 255 bytes"
    return None


def collect_outputs(outgoing: Path, destination: Path) -> list[str]:
    """Keep what a plugin wrote to ``outgoing`` that may enter storage, then move it to
    ``destination`` (when that is another folder); returns what was dropped, and why.

    Only regular files and folders with sound names stay: symlinks, link files, devices,
    fifos and sockets are removed. A file with other hard links is replaced by a copy of
    its own, so storage never shares an inode with anything a plugin could reach. Moving
    is idempotent: a collection cut short by a crash is finished by the next one.
    """
    dropped: list[str] = []
    if not outgoing.is_dir():
        return dropped

    def sanitize(folder: Path, relative: str) -> None:
        with os.scandir(folder) as entries:
            for entry in list(entries):
                name = f"{relative}{entry.name}"
                reason = unsafe_name(entry.name)
                if reason is None and entry.is_symlink():
                    reason = "symbolic link"
                elif reason is None and entry.is_file(follow_symlinks=False):
                    if is_link_file(entry.name):
                        reason = "link files are written by CUBE only"
                    elif entry.stat(follow_symlinks=False).st_nlink > 1:
                        _make_private_copy(Path(entry.path))
                elif reason is None and not entry.is_dir(follow_symlinks=False):
                    reason = "not a regular file or folder"
                if reason is None:
                    if entry.is_dir(follow_symlinks=False):
                        sanitize(Path(entry.path), f"{name}/")
                    continue
                dropped.append(f"{name!r}: {reason}")
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)

    moving = destination.resolve() != outgoing.resolve()
    if moving:
        _drop_already_moved(outgoing, destination)
    sanitize(outgoing, "")
    if moving:
        _move_tree(outgoing, destination)
    return dropped


def _drop_already_moved(source: Path, destination: Path) -> None:
    """Forget files an interrupted collection linked into place but did not yet remove;
    their extra link would otherwise look like a hard link made by the plugin."""
    for root, _dirs, files in os.walk(source):
        for name in files:
            path = Path(root) / name
            target = destination / path.relative_to(source)
            if not path.is_symlink() and target.is_file() and os.path.samefile(path, target):
                path.unlink()


def _make_private_copy(path: Path) -> None:
    partial = path.with_name(f".{path.name}.localcompute-copy")
    shutil.copyfile(path, partial, follow_symlinks=False)
    os.replace(partial, path)


def _move_tree(source: Path, destination: Path) -> None:
    """Move every file under ``source`` to the same place under ``destination``.

    ``destination`` is in storage, which no plugin can write, so its folders are trusted;
    an existing file there is never replaced.
    """
    destination.mkdir(parents=True, exist_ok=True)
    for root, dirs, files in os.walk(source):
        target_root = destination / os.path.relpath(root, source)
        for name in dirs:
            (target_root / name).mkdir(exist_ok=True)
        for name in files:
            path, target = Path(root) / name, target_root / name
            try:
                os.link(path, target)
            except FileExistsError as e:
                raise StagingError(f"output {target} already exists in storage") from e
            except OSError:
                shutil.copy2(path, target)  # storage on another filesystem
            os.unlink(path)


def list_outputs(output_dir: Path) -> list[str]:
    """Relative paths of the regular files under ``output_dir``; links are never listed."""
    paths: list[str] = []
    for root, dirs, files in os.walk(output_dir):
        dirs[:] = [name for name in dirs if not (Path(root) / name).is_symlink()]
        for name in files:
            path = Path(root) / name
            if path.is_symlink() or is_link_file(name) or not path.is_file():
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


def upload_outputs(
    storage: ObjectStorage,
    output_dir: Path,
    job_output_path: str,
    *,
    staged: list[dict] | None = None,
) -> tuple[int, int]:
    """Store the plugin's outputs under ``job_output_path``, several at a time; returns the
    file count and how many of them were copied inside storage.

    An output with the size and SHA-256 of an input the job downloaded (``staged``) is
    copied from that input's object instead of uploaded, if the object still has the MD5
    of those bytes (``If-Match``: Swift checks the source's ETag); otherwise it is
    uploaded. Only the job's own record names the source, never the plugin.
    """
    prefix = storage_path(job_output_path)
    names = list_outputs(output_dir)
    inputs: dict[tuple[int, str], dict] = {}
    for item in staged or []:
        if item["size"] >= COPY_MIN_BYTES:
            inputs.setdefault((item["size"], item["sha256"]), item)
    sizes = {size for size, _sha256 in inputs}

    def store(name: str) -> bool:
        path = output_dir / name
        key = f"{prefix}/{name}"
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size in sizes:
                source = inputs.get((size, _sha256(f)))
                if source is not None and storage.copy_if_match(source["key"], key, source["md5"]):
                    return True
                f.seek(0)
            storage.put(key, f, length=size)
        return False

    copied = sum(_in_parallel(store, names))
    return len(names), copied


def _sha256(f: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := f.read(HASH_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()
