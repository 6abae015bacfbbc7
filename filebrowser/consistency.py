"""The file tables against storage: objects a row names that are gone, objects no row names,
and rows whose size is not their object's."""

from dataclasses import dataclass, field

from chrisinstance.services import INSTALLATION_MARKER
from cube.storage import get_storage
from pacsfiles.models import PACSFile
from pipelines.models import PipelineSourceFile
from plugins.models import PluginInstanceFile
from servicefiles.models import ServiceFile
from uploadedfiles.models import UploadedFile

FILE_MODELS = (UploadedFile, PluginInstanceFile, PACSFile, ServiceFile, PipelineSourceFile)


@dataclass
class Report:
    missing: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    wrong_size: list[tuple[str, int, int]] = field(default_factory=list)  # key, row, object

    @property
    def consistent(self) -> bool:
        return not (self.missing or self.orphans or self.wrong_size)


def check_consistency() -> Report:
    """Compare every registered file with one listing of the whole storage."""
    stored = dict(get_storage().ls_with_sizes(""))
    stored.pop(INSTALLATION_MARKER, None)
    registered: dict[str, int] = {}
    for model in FILE_MODELS:
        registered.update(model.objects.values_list("fname", "fsize").iterator())
    report = Report()
    for key, size in sorted(registered.items()):
        if key not in stored:
            report.missing.append(key)
        elif stored[key] != size:
            report.wrong_size.append((key, size, stored[key]))
    report.orphans = sorted(set(stored) - set(registered))
    return report


def delete_orphans(report: Report) -> int:
    """Remove the objects no row names; returns how many."""
    storage = get_storage()
    for key in report.orphans:
        storage.delete(key)
    return len(report.orphans)
