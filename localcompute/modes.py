"""The three ways localcompute can reach CUBE's storage (``STORAGE_ENV``), one object each.

* ``fslink``: in-network, on CUBE's storage folder. Copy jobs hard-link inputs from it, and
  a plugin's collected outputs move into it.
* ``zipfile``: out of network. CUBE posts the inputs as a zip and fetches the outputs as one.
* ``swift``: in-network, on CUBE's Swift container. Copy jobs download inputs; upload jobs
  push the outputs, and copy inside Swift those that are byte for byte an input.
"""

from collections.abc import Callable
from pathlib import Path

from . import staging


class Occupied(Exception):
    """A job's output folder already holds files."""


class FilesystemMode:
    name = "fslink"
    innetwork = True
    requires_copy_job = True
    requires_upload_job = False

    def __init__(self, storebase: Path, *, hardlink: bool):
        self.storebase = storebase
        self.hardlink = hardlink
        storebase.mkdir(parents=True, exist_ok=True)

    def stager(
        self, log: Callable[[str], None], *, record: Path | None = None
    ) -> staging.FilesystemStager:
        return staging.FilesystemStager(self.storebase, hardlink=self.hardlink, log=log)

    def output_destination(self, output_dir: str, outgoing: Path) -> Path:
        """Where a plugin's outputs go once collected: its output folder in storage."""
        destination = staging.resolve_inside(self.storebase, staging.storage_path(output_dir))
        if destination.exists() and any(destination.iterdir()):
            raise Occupied(output_dir)
        return destination

    def outputs_folder(self, prefix: str, outgoing: Path) -> Path:
        return staging.resolve_inside(self.storebase, prefix)

    def upload(self, outgoing: Path, prefix: str, *, record: Path | None = None) -> str:
        raise NotImplementedError("fslink outputs are in storage already")


class ZipMode:
    name = "zipfile"
    innetwork = False
    requires_copy_job = False
    requires_upload_job = False

    def stager(self, log: Callable[[str], None], *, record: Path | None = None):
        raise NotImplementedError("zipfile inputs arrive with the plugin job")

    def output_destination(self, output_dir: str | None, outgoing: Path) -> Path:
        return outgoing

    def outputs_folder(self, prefix: str, outgoing: Path) -> Path:
        return outgoing

    def upload(self, outgoing: Path, prefix: str, *, record: Path | None = None) -> str:
        raise NotImplementedError("zipfile outputs are fetched by CUBE")


class ObjectStorageMode:
    name = "swift"
    innetwork = True
    requires_copy_job = True
    requires_upload_job = True

    def __init__(self, storage: staging.ObjectStorage):
        self.storage = storage

    def stager(
        self, log: Callable[[str], None], *, record: Path | None = None
    ) -> staging.ObjectStorageStager:
        return staging.ObjectStorageStager(self.storage, log=log, record=record)

    def output_destination(self, output_dir: str, outgoing: Path) -> Path:
        """Outputs stay in the job's folder until the upload job sends them."""
        prefix = staging.storage_path(output_dir)
        if self.storage.ls(prefix):
            raise Occupied(prefix)
        return outgoing

    def outputs_folder(self, prefix: str, outgoing: Path) -> Path:
        return outgoing

    def upload(self, outgoing: Path, prefix: str, *, record: Path | None = None) -> str:
        """Store the outputs; inputs the plugin passed on unchanged are copied in storage."""
        count, copied = staging.upload_outputs(
            self.storage, outgoing, prefix, staged=staging.read_staged(record)
        )
        return f"stored {count} files under {prefix} ({copied} copied inside storage)"


StorageMode = FilesystemMode | ZipMode | ObjectStorageMode
