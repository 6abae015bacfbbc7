"""Installing a ChRIS plugin package on this machine's localcompute, and registering it.

``install_plugin`` is what ``manage.py install_plugin`` runs (and what the admin site may
call): it builds the package, gives it a virtualenv of its own under
``CUBE_PLUGINS_DIR/venvs/<name>-<version>``, describes it with its own tools, adds it to
localcompute's catalogue (``LOCALCOMPUTE_PLUGINS``, re-read by the running service) and
registers it on a compute resource. It is idempotent, and a failure at any step undoes the
steps before it. ``uninstall_plugin`` undoes an installation.

Long-running (a pip install): call it from a management command or a task, not a request.
"""

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from rest_framework.exceptions import ValidationError

from plugins import local_install
from plugins.local_install import InstallError, Progress, quiet
from plugins.models import ComputeResource, Plugin, PluginMeta
from plugins.services.registry import register_plugin

logger = logging.getLogger(__name__)

INSTALLED_BY = "install_plugin"

__all__ = ["InstallError", "Installation", "install_plugin", "uninstall_plugin"]


@dataclass(frozen=True)
class Installation:
    """What ``install_plugin`` did: the registered plugin and whether it was new."""

    plugin: Plugin
    venv: Path
    created: bool


def plugins_dir() -> Path:
    return Path(settings.CUBE_PLUGINS_DIR).absolute()


def catalogue_path() -> Path:
    return Path(settings.LOCALCOMPUTE_PLUGINS).absolute()


def install_plugin(
    spec: str,
    *,
    compute_resource_name: str = "host",
    image: str | None = None,
    name: str | None = None,
    python: str | None = None,
    progress: Progress = quiet,
) -> Installation:
    """Install ``spec`` (a pip requirement, folder, wheel or Git URL) and register it.

    Running it again for the same name and version changes nothing but a missing
    registration. Raises InstallError with a readable message on any failure, after undoing
    what it did.
    """
    if image is not None:
        local_install.check_image(image)
    compute_resource = ComputeResource.objects.filter(name=compute_resource_name).first()
    if compute_resource is None:
        raise InstallError(f"there is no compute resource named {compute_resource_name!r}")
    python = python or settings.PLUGIN_PYTHON
    root = plugins_dir()
    root.mkdir(parents=True, exist_ok=True)
    with local_install.locked(root / "install"):
        scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
        try:
            package = local_install.build_wheel(spec, scratch, python=python, progress=progress)
            return _install(
                package,
                compute_resource=compute_resource,
                image=image,
                name=name,
                python=python,
                progress=progress,
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _install(
    package: local_install.Package,
    *,
    compute_resource: ComputeResource,
    image: str | None,
    name: str | None,
    python: str,
    progress: Progress,
) -> Installation:
    progress(f"{package.name} {package.version}")
    framework = package.framework()
    if framework is None:
        raise InstallError(
            f"{package.name} {package.version} is not a ChRIS plugin: it requires neither "
            "chris_plugin nor chrisapp"
        )
    venv = plugins_dir() / "venvs" / package.slug
    entry = _catalogue_entry_for(venv)
    if entry is not None and (venv / "plugin.json").is_file():
        progress(f"already installed in {venv}")
        descriptor = json.loads((venv / "plugin.json").read_text())
        plugin = _register(descriptor, compute_resource, progress=progress)
        return Installation(plugin=plugin, venv=venv, created=False)
    if venv.exists():
        # What an interrupted installation left: it was never in the catalogue.
        progress(f"removing an unfinished installation in {venv}")
        shutil.rmtree(venv)
    catalogued = False
    try:
        progress(f"creating the virtualenv {venv}")
        local_install.create_venv(venv, python=python)
        progress(f"installing {package.wheel.name} and its dependencies ({framework} plugin)")
        local_install.pip_install(venv, str(package.wheel), progress=progress)
        progress("reading the plugin's description")
        descriptor = local_install.describe(
            venv,
            package.name,
            image=image or local_install.default_image(package),
            name=name,
        )
        _check_conflicts(descriptor, venv)
        registered = local_install.for_registration(descriptor, venv)
        (venv / "plugin.json").write_text(json.dumps(registered, indent=2))
        progress(f"adding {descriptor['dock_image']} to localcompute's catalogue")
        _add_to_catalogue(descriptor, venv)
        catalogued = True
        plugin = _register(registered, compute_resource, progress=progress)
    except BaseException:
        if catalogued:
            _remove_from_catalogue(venv)
        shutil.rmtree(venv, ignore_errors=True)
        raise
    logger.info("installed %s %s in %s", plugin.meta.name, plugin.version, venv)
    return Installation(plugin=plugin, venv=venv, created=True)


def _catalogue_entry_for(venv: Path) -> dict | None:
    entries = local_install.read_catalogue(catalogue_path())
    return next((e for e in entries if e.get("venv") == str(venv)), None)


def _check_conflicts(descriptor: dict, venv: Path) -> None:
    """Refuse an image localcompute already runs, or a name and version CUBE already has."""
    key = local_install.normalize_image(descriptor["dock_image"])
    for entry in local_install.read_catalogue(catalogue_path()):
        if local_install.normalize_image(entry["image"]) == key and entry.get("venv") != str(venv):
            raise InstallError(
                f"localcompute already runs {entry['image']} ({entry.get('name')} "
                f"{entry.get('version')}); give this plugin another image with --image"
            )
    existing = Plugin.objects.filter(
        meta__name=descriptor["name"], version=str(descriptor["version"])
    ).first()
    if existing is not None and existing.dock_image != descriptor["dock_image"]:
        raise InstallError(
            f"CUBE already has {descriptor['name']} {descriptor['version']} with the image "
            f"{existing.dock_image}, not {descriptor['dock_image']}"
        )


def _add_to_catalogue(descriptor: dict, venv: Path) -> None:
    entry = local_install.catalogue_entry(descriptor, installed_by=INSTALLED_BY, venv=venv)
    local_install.update_catalogue(
        catalogue_path(),
        lambda entries: [e for e in entries if e.get("venv") != str(venv)] + [entry],
    )


def _remove_from_catalogue(venv: Path) -> None:
    local_install.update_catalogue(
        catalogue_path(), lambda entries: [e for e in entries if e.get("venv") != str(venv)]
    )


def _register(descriptor: dict, compute_resource: ComputeResource, *, progress: Progress) -> Plugin:
    progress(f"registering {descriptor['name']} {descriptor['version']} on {compute_resource.name}")
    try:
        return register_plugin(descriptor, compute_names=[compute_resource.name])
    except ValidationError as error:
        raise InstallError(f"CUBE refused the plugin's description: {error.detail}") from error


def uninstall_plugin(
    name: str,
    *,
    version: str | None = None,
    compute_resource_name: str = "host",
    progress: Progress = quiet,
) -> Plugin | None:
    """Undo ``install_plugin``: unregister from the compute resource, then remove the files.

    Refused while an instance of the plugin is active. The plugin stays in CUBE when it
    remains on another compute resource, or when past instances (and their feeds) refer to
    it; otherwise it is deleted. Returns the plugin if it was kept.
    """
    entries = [
        entry
        for entry in local_install.read_catalogue(catalogue_path())
        if entry.get("name") == name and entry.get("installed_by") == INSTALLED_BY
    ]
    if version is not None:
        entries = [entry for entry in entries if entry.get("version") == version]
    if not entries:
        builtin = Plugin.objects.filter(meta__name=name).exists()
        raise InstallError(
            f"{name}{' ' + version if version else ''} was not installed with install_plugin"
            + (" (a built-in plugin stays)" if builtin else "")
        )
    if len(entries) > 1:
        versions = ", ".join(sorted(entry["version"] for entry in entries))
        raise InstallError(f"{name} is installed in several versions ({versions}): name one")
    (entry,) = entries
    venv = Path(entry["venv"])
    kept = None
    with local_install.locked(plugins_dir() / "install"):
        with transaction.atomic():
            plugin = (
                Plugin.objects.select_for_update()
                .filter(meta__name=name, version=entry["version"], dock_image=entry["image"])
                .first()
            )
            if plugin is not None:
                kept = _unregister(plugin, compute_resource_name, progress=progress)
        progress(f"removing {entry['image']} from localcompute's catalogue")
        _remove_from_catalogue(venv)
        progress(f"removing {venv}")
        shutil.rmtree(venv, ignore_errors=True)
    logger.info("uninstalled %s %s", name, entry["version"])
    return kept


def _unregister(plugin: Plugin, compute_resource_name: str, *, progress: Progress) -> Plugin | None:
    active = plugin.instances.active().count()
    if active:
        raise InstallError(
            f"{plugin.meta.name} {plugin.version} has {active} active instance(s): "
            "wait for them to finish or cancel them first"
        )
    compute_resource = plugin.compute_resources.filter(name=compute_resource_name).first()
    if compute_resource is not None:
        progress(f"unregistering {plugin.meta.name} {plugin.version} from {compute_resource.name}")
        plugin.compute_resources.remove(compute_resource)
    if plugin.compute_resources.exists():
        progress(f"{plugin.meta.name} {plugin.version} stays on its other compute resources")
        return plugin
    if plugin.instances.exists() or plugin.pipings.exists():
        progress(
            f"{plugin.meta.name} {plugin.version} stays in CUBE, without a compute resource: "
            "past instances or pipelines refer to it"
        )
        return plugin
    meta = plugin.meta
    progress(f"deleting {meta.name} {plugin.version} from CUBE")
    plugin.delete()
    if not meta.plugins.exists():
        PluginMeta.objects.filter(pk=meta.pk).delete()
    return None
