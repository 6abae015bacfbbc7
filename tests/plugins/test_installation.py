"""install_plugin and uninstall_plugin: the catalogue, the registration, and their undoing.

pip and the plugin's own tools are replaced by fakes here, except for the check that a
package which is no ChRIS plugin is refused; tests/e2e installs and runs a real one.
"""

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from plugins import installation, local_install
from plugins.installation import InstallError, install_plugin, uninstall_plugin
from plugins.local_install import Package
from plugins.models import ComputeResource, Plugin, PluginInstance, PluginMeta
from plugins.services.instances import create_plugin_instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def plugins_dir(settings, tmp_path) -> Path:
    folder = tmp_path / "plugins"
    settings.CUBE_PLUGINS_DIR = str(folder)
    settings.LOCALCOMPUTE_PLUGINS = str(folder / "catalogue.json")
    return folder


@pytest.fixture
def host(db) -> ComputeResource:
    return ComputeResource.objects.create(name="host", compute_url="http://127.0.0.1:1/api/v1/")


def descriptor_for(venv: Path, *, image: str, name: str | None) -> dict:
    return {
        "name": name or local_install.image_name(image),
        "dock_image": image,
        "public_repo": "https://example.org/pl-fake",
        "type": "fs",
        "parameters": [
            {"name": "greeting", "type": "str", "optional": True, "flag": "--greeting",
             "short_flag": "-g", "action": "store", "help": "what to say", "default": "hi",
             "ui_exposed": True},
        ],
        "title": "A fake plugin", "version": "1.0", "selfpath": str(venv / "bin"),
        "selfexec": "fake", "execshell": str(venv / "bin" / "python"),
        "min_memory_limit": "", "max_memory_limit": "", "min_cpu_limit": "", "max_cpu_limit": "",
    }  # fmt: skip


@pytest.fixture
def fake_pip(monkeypatch, tmp_path) -> list:
    """Building, venvs, pip and describing replaced: a chris_plugin package pl-fake 1.0."""
    calls = []
    package = Package(
        wheel=tmp_path / "pl_fake-1.0-py3-none-any.whl",
        name="pl-fake",
        version="1.0",
        requires=("chris-plugin==0.4.0",),
    )

    def build_wheel(spec, folder, *, python, progress):
        calls.append(("build", spec))
        return package

    def create_venv(venv, *, python):
        calls.append(("venv", venv))
        (venv / "bin").mkdir(parents=True)

    def pip_install(venv, *targets, progress):
        calls.append(("pip", targets))
        (venv / "bin" / "fake").write_text("#!/bin/sh\n")

    def describe(venv, distribution, *, image, name=None, public_repo=None):
        calls.append(("describe", distribution))
        return descriptor_for(venv, image=image, name=name)

    monkeypatch.setattr(local_install, "build_wheel", build_wheel)
    monkeypatch.setattr(local_install, "create_venv", create_venv)
    monkeypatch.setattr(local_install, "pip_install", pip_install)
    monkeypatch.setattr(local_install, "describe", describe)
    return calls


def catalogue(plugins_dir: Path) -> list[dict]:
    return json.loads((plugins_dir / "catalogue.json").read_text())["plugins"]


def test_install_adds_to_the_catalogue_and_registers(plugins_dir, host, fake_pip):
    lines = []
    result = install_plugin("pl-fake==1.0", progress=lines.append)
    venv = plugins_dir / "venvs" / "pl-fake-1.0"
    assert result.created and result.venv == venv
    plugin = result.plugin
    assert (plugin.meta.name, plugin.version, plugin.dock_image) == (
        "pl-fake", "1.0", "local/pl-fake:1.0",
    )  # fmt: skip
    assert list(plugin.compute_resources.values_list("name", flat=True)) == ["host"]
    # CUBE has the paths of the plugin's image; the catalogue has the virtualenv's script.
    assert (plugin.selfpath, plugin.execshell) == ("/usr/local/bin", "/usr/local/bin/python")
    assert plugin.parameters.get().name == "greeting"
    assert catalogue(plugins_dir) == [
        {
            "image": "local/pl-fake:1.0",
            "name": "pl-fake",
            "version": "1.0",
            "selfexec": "fake",
            "executable": str(venv / "bin" / "fake"),
            "installed_by": "install_plugin",
            "venv": str(venv),
        }
    ]
    assert json.loads((venv / "plugin.json").read_text())["dock_image"] == "local/pl-fake:1.0"
    assert any("registering pl-fake 1.0 on host" in line for line in lines)
    # No build folder is left behind.
    assert sorted(path.name for path in plugins_dir.iterdir() if path.is_dir()) == ["venvs"]


def test_installing_again_changes_nothing(plugins_dir, host, fake_pip):
    first = install_plugin("pl-fake==1.0")
    fake_pip.clear()
    second = install_plugin("pl-fake==1.0")
    assert not second.created and second.plugin == first.plugin
    assert [call[0] for call in fake_pip] == ["build"]
    assert len(catalogue(plugins_dir)) == 1
    assert Plugin.objects.count() == 1


def test_image_and_name_can_be_given(plugins_dir, host, fake_pip):
    result = install_plugin("pl-fake==1.0", image="fnndsc/pl-other:1.0", name="pl-renamed")
    assert (result.plugin.meta.name, result.plugin.dock_image) == (
        "pl-renamed", "fnndsc/pl-other:1.0",
    )  # fmt: skip
    assert catalogue(plugins_dir)[0]["image"] == "fnndsc/pl-other:1.0"
    with pytest.raises(InstallError, match="invalid image"):
        install_plugin("pl-fake==1.0", image="Not An Image")


def test_a_failed_registration_leaves_nothing_behind(plugins_dir, host, fake_pip, monkeypatch):
    def bad_description(venv, distribution, *, image, name=None, public_repo=None):
        descriptor = descriptor_for(venv, image=image, name=name)
        descriptor["parameters"][0]["type"] = "complex"
        return descriptor

    monkeypatch.setattr(local_install, "describe", bad_description)
    with pytest.raises(InstallError, match="CUBE refused the plugin's description"):
        install_plugin("pl-fake==1.0")
    assert catalogue(plugins_dir) == []
    assert not (plugins_dir / "venvs" / "pl-fake-1.0").exists()
    assert not PluginMeta.objects.exists()


def test_an_image_localcompute_already_runs_is_refused(plugins_dir, host, fake_pip):
    local_install.write_catalogue(
        plugins_dir / "catalogue.json",
        [{"image": "docker.io/local/pl-fake:1.0", "name": "pl-fake", "version": "1.0",
          "selfexec": "fake", "executable": "/elsewhere/fake"}],
    )  # fmt: skip
    with pytest.raises(InstallError, match="localcompute already runs"):
        install_plugin("pl-fake==1.0")
    assert len(catalogue(plugins_dir)) == 1
    assert not (plugins_dir / "venvs" / "pl-fake-1.0").exists()


@pytest.mark.parametrize(
    "running",
    [
        "local/pl-fake:1.0@sha256:" + "0" * 64,
        "docker.io/library/local/pl-fake:1.0",
        "local/pl-fake:1.0",
    ],
)
def test_an_image_localcompute_runs_under_a_digest_or_registry_is_refused(
    plugins_dir, host, fake_pip, running
):
    """localcompute matches a job's image ignoring a digest, so installing must too."""
    local_install.write_catalogue(
        plugins_dir / "catalogue.json",
        [{"image": running, "name": "pl-x", "version": "1.0", "selfexec": "x",
          "executable": "/elsewhere/x"}],
    )  # fmt: skip
    with pytest.raises(InstallError, match="localcompute already runs"):
        install_plugin("pl-fake==1.0", image="local/pl-fake:1.0")
    assert len(catalogue(plugins_dir)) == 1


def test_an_unknown_compute_resource_is_refused(plugins_dir, host, fake_pip):
    with pytest.raises(InstallError, match="no compute resource named 'elsewhere'"):
        install_plugin("pl-fake==1.0", compute_resource_name="elsewhere")
    assert fake_pip == []


def test_a_package_that_is_no_chris_plugin_is_refused(plugins_dir, host, tmp_path):
    source = tmp_path / "not-a-plugin"
    source.mkdir()
    (source / "setup.py").write_text(
        "from setuptools import setup\n"
        "setup(name='not-a-plugin', version='2.0', py_modules=['thing'],\n"
        "      install_requires=['requests'])\n"
    )
    (source / "thing.py").write_text("")
    with pytest.raises(InstallError, match="not-a-plugin 2.0 is not a ChRIS plugin: it requires"):
        install_plugin(str(source))
    assert not (plugins_dir / "venvs").exists()
    assert sorted(path.name for path in source.iterdir()) == ["setup.py", "thing.py"]
    with pytest.raises(InstallError, match="no such file or folder"):
        install_plugin(str(tmp_path / "missing"))


def test_uninstall_waits_for_active_instances_then_keeps_a_used_plugin(
    plugins_dir, host, fake_pip, user
):
    plugin = install_plugin("pl-fake==1.0").plugin
    instance = create_plugin_instance(plugin, owner=user, parameters={})
    PluginInstance.objects.filter(pk=instance.pk).update(status="started")
    with pytest.raises(InstallError, match="1 active instance"):
        uninstall_plugin("pl-fake")
    assert plugin.compute_resources.exists()
    assert len(catalogue(plugins_dir)) == 1

    PluginInstance.objects.filter(pk=instance.pk).update(status="finishedSuccessfully")
    kept = uninstall_plugin("pl-fake")
    assert kept == plugin
    assert not plugin.compute_resources.exists()
    assert catalogue(plugins_dir) == []
    assert not (plugins_dir / "venvs" / "pl-fake-1.0").exists()


def test_uninstall_deletes_an_unused_plugin(plugins_dir, host, fake_pip):
    install_plugin("pl-fake==1.0")
    assert uninstall_plugin("pl-fake", version="1.0") is None
    assert not Plugin.objects.exists() and not PluginMeta.objects.exists()
    with pytest.raises(InstallError, match="was not installed with install_plugin"):
        uninstall_plugin("pl-fake")


def test_commands_report_progress_and_errors(plugins_dir, host, fake_pip, capsys):
    call_command("install_plugin", "pl-fake==1.0")
    output = capsys.readouterr().out
    assert "creating the virtualenv" in output
    assert "installed pl-fake 1.0" in output
    with pytest.raises(CommandError, match="pl-nothing was not installed"):
        call_command("uninstall_plugin", "pl-nothing")
    call_command("uninstall_plugin", "pl-fake", "1.0")
    assert "uninstalled pl-fake" in capsys.readouterr().out


def test_builtin_catalogue_keeps_installed_plugins():
    builtins = [{"image": "fnndsc/pl-dircopy:2.1.1", "name": "pl-dircopy"}]
    entries = [
        {"image": "fnndsc/pl-dircopy:2.1.0", "name": "pl-dircopy"},  # an old built-in
        {"image": "local/pl-a:1.0", "name": "pl-a", "installed_by": "install_plugin"},
        {"image": "fnndsc/pl-dircopy:2.1.1", "name": "x", "installed_by": "install_plugin"},
    ]
    assert local_install.merge_builtin_entries(entries, builtins) == [builtins[0], entries[1]]


def test_builtin_catalogue_drops_an_installed_plugin_shadowed_through_a_digest():
    builtins = [{"image": "fnndsc/pl-dircopy:2.1.1", "name": "pl-dircopy"}]
    digest = "docker.io/fnndsc/pl-dircopy:2.1.1@sha256:" + "a" * 64
    entries = [{"image": digest, "name": "x", "installed_by": "install_plugin"}]
    assert local_install.merge_builtin_entries(entries, builtins) == builtins


def test_plugins_dir_follows_the_settings(plugins_dir):
    assert installation.plugins_dir() == plugins_dir
    assert installation.catalogue_path() == plugins_dir / "catalogue.json"
