"""The catalogue of locally installed plugins: the only programs localcompute will run.

The catalogue is a JSON file (LOCALCOMPUTE_PLUGINS) written by an administrator or by
``utils/scripts/install_builtin_plugins.sh``::

    {"plugins": [
        {"image": "fnndsc/pl-dircopy:2.1.1", "name": "pl-dircopy", "version": "2.1.1",
         "selfexec": "dircopy", "executable": "/abs/path/venv/bin/dircopy",
         "aliases": ["ghcr.io/fnndsc/pl-dircopy:2.1.1"]}
    ]}

``image`` (and the optional ``aliases``) are matched against the job's image. A relative
``executable`` is resolved against the catalogue file's directory. The file is re-read when
it changes, so installing a plugin needs no restart.
"""

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

# Docker Hub spellings that all name the same image.
_DEFAULT_REGISTRY_PREFIXES = ("docker.io/library/", "docker.io/", "index.docker.io/")


class CatalogueError(Exception):
    """The catalogue file is missing or malformed."""


@dataclass(frozen=True)
class InstalledPlugin:
    image: str
    name: str
    version: str
    selfexec: str
    executable: Path

    @property
    def bin_dir(self) -> Path:
        return self.executable.parent


def normalize_image(image: str) -> tuple[str, str]:
    """Split an OCI reference into (repository, tag); the tag is '' when absent or latest."""
    reference = image.strip()
    for prefix in _DEFAULT_REGISTRY_PREFIXES:
        if reference.startswith(prefix):
            reference = reference[len(prefix) :]
            break
    reference = reference.split("@", 1)[0]
    repository, tag = reference, ""
    last_segment = reference.rsplit("/", 1)[-1]
    if ":" in last_segment:
        repository, tag = reference.rsplit(":", 1)
    if tag == "latest":
        tag = ""
    return repository, tag


def _version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


class Catalogue:
    """Loads the catalogue file and finds the installed plugin for an image."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._entries: list[tuple[str, str, InstalledPlugin]] = []

    def _reload_if_changed(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._entries = None, []
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        try:
            document = json.loads(self.path.read_text())
            entries = []
            for raw in document["plugins"]:
                executable = Path(raw["executable"])
                if not executable.is_absolute():
                    executable = self.path.parent / executable
                plugin = InstalledPlugin(
                    image=raw["image"],
                    name=raw.get("name", ""),
                    version=str(raw.get("version", "")),
                    selfexec=raw["selfexec"],
                    executable=Path(os.path.abspath(executable)),
                )
                for image in [raw["image"], *raw.get("aliases", [])]:
                    repository, tag = normalize_image(image)
                    entries.append((repository, tag, plugin))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise CatalogueError(f"unreadable plugin catalogue {self.path}: {e}") from e
        self._stamp, self._entries = stamp, entries

    def find(self, image: str) -> InstalledPlugin | None:
        """The plugin installed for ``image``; an untagged image picks the newest version."""
        repository, tag = normalize_image(image)
        with self._lock:
            self._reload_if_changed()
            candidates = [entry for entry in self._entries if entry[0] == repository]
        if tag:
            exact = [plugin for _repo, entry_tag, plugin in candidates if entry_tag == tag]
            return exact[0] if exact else None
        if not candidates:
            return None
        return max((plugin for *_, plugin in candidates), key=lambda p: _version_key(p.version))
