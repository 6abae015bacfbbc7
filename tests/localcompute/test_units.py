"""Pure functions of localcompute, tested in-process."""

import hashlib
import json
import os

import pytest

from localcompute import cgroups, staging
from localcompute.app import storage_mode
from localcompute.catalogue import Catalogue, normalize_image
from localcompute.config import (
    CREDENTIAL_VARIABLES,
    MIN_SECRET_LENGTH,
    ConfigError,
    Settings,
)
from localcompute.jobs import InvalidRequest, parse_env
from localcompute.runner import localize_path_args, tail_lines


def test_localize_path_args_replaces_only_values_after_path_flags():
    args = ["--dir", "home/a,home/b", "--prefix", "--dir", "--other", "x"]
    assert localize_path_args(args, ["--dir"], "/in") == [
        "--dir",
        "/in",
        "--prefix",
        "--dir",
        "/in",
        "x",
    ]


def test_localize_path_args_without_flags_is_unchanged():
    assert localize_path_args(["--a", "1"], [], "/in") == ["--a", "1"]


def test_parse_env_keeps_equals_signs_in_values():
    assert parse_env(["A=b=c", "EMPTY="]) == {"A": "b=c", "EMPTY": ""}


@pytest.mark.parametrize("entry", ["novalue", "=x", "A B=1", "HOME=/x", "LD_AUDIT=x"])
def test_parse_env_rejects(entry):
    with pytest.raises(InvalidRequest):
        parse_env([entry])


def test_tail_lines_returns_the_last_lines_of_a_large_file(tmp_path):
    log = tmp_path / "job.log"
    log.write_text("".join(f"line {n}\n" for n in range(200_000)))
    tail = tail_lines(log, 1000).splitlines()
    assert len(tail) == 1000
    assert tail[0] == "line 199000"
    assert tail[-1] == "line 199999"
    assert tail_lines(tmp_path / "missing.log", 10) == ""


def test_tail_lines_is_cut_to_a_byte_budget_keeping_the_end(tmp_path):
    log = tmp_path / "job.log"
    log.write_text("".join(f"{n:04d} " + "x" * 995 + "\n" for n in range(500)))
    tail = tail_lines(log, 1000, max_bytes=10_000)
    assert len(tail.encode()) == 10_000
    assert tail.endswith("x\n")
    assert tail.splitlines()[-1].startswith("0499 ")


MOUNTINFO_V1 = """\
30 24 0:26 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755
33 30 0:29 / /sys/fs/cgroup/memory rw,relatime shared:11 - cgroup cgroup rw,memory
34 30 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
35 30 0:31 / /sys/fs/cgroup/pids rw,relatime shared:13 - cgroup cgroup rw,pids
36 30 0:32 / /sys/fs/cgroup/unified rw,relatime shared:14 - cgroup2 cgroup2 rw
"""
OWN_V1 = "5:pids:/\n4:cpu,cpuacct:/\n3:memory:/jobs/abc\n0::/\n"


def test_cgroup_v1_job_groups_sit_under_our_own_group_in_each_hierarchy(tmp_path):
    mounts = cgroups.read_mounts(MOUNTINFO_V1.replace("/sys/fs/cgroup", str(tmp_path)))
    own = cgroups.read_own_groups(OWN_V1)
    (tmp_path / "memory/jobs/abc").mkdir(parents=True)
    (tmp_path / "cpu,cpuacct").mkdir()
    (tmp_path / "pids").mkdir()
    found = cgroups.plan_v1(mounts, own)
    assert found.version == 1
    assert found.parents == {
        "memory": tmp_path / "memory/jobs/abc",
        "cpu": tmp_path / "cpu,cpuacct",
        "pids": tmp_path / "pids",
    }
    plan = found.for_job("j1", memory_bytes=812 << 20, cpu_millicores=250, max_tasks=64)
    memory = tmp_path / "memory/jobs/abc/localcompute-j1"
    assert plan.dirs == [str(memory), str(tmp_path / "cpu,cpuacct/localcompute-j1"),
                         str(tmp_path / "pids/localcompute-j1")]  # fmt: skip
    assert {path: (value, optional) for path, value, optional in plan.writes} == {
        str(memory / "memory.limit_in_bytes"): (str(812 << 20), False),
        str(memory / "memory.memsw.limit_in_bytes"): (str(812 << 20), True),
        str(tmp_path / "cpu,cpuacct/localcompute-j1/cpu.cfs_period_us"): ("100000", False),
        str(tmp_path / "cpu,cpuacct/localcompute-j1/cpu.cfs_quota_us"): ("25000", False),
        str(tmp_path / "pids/localcompute-j1/pids.max"): ("64", False),
    }
    assert plan.oom_events == [str(memory / "memory.oom_control")]
    assert len(plan.procs) == 3


def test_cgroup_v2_needs_the_root_or_a_delegated_parent(tmp_path):
    mounts = cgroups.read_mounts(
        f"40 30 0:40 / {tmp_path} rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
    )
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    # In a group of its own (with processes), localcompute may not delegate controllers.
    assert cgroups.plan_v2(mounts, cgroups.read_own_groups("0::/user.slice/x\n"), "") is None
    found = cgroups.plan_v2(mounts, cgroups.read_own_groups("0::/\n"), "")
    assert found.version == 2 and set(found.parents) == {"memory", "cpu", "pids"}
    plan = found.for_job("j2", memory_bytes=1 << 30, cpu_millicores=2000, max_tasks=100)
    folder = tmp_path / "localcompute-j2"
    assert plan.dirs == [str(folder)]
    assert [(path, value) for path, value, _optional in plan.writes] == [
        (str(folder / "memory.max"), str(1 << 30)),
        (str(folder / "memory.swap.max"), "0"),
        (str(folder / "memory.oom.group"), "1"),
        (str(folder / "cpu.max"), "200000 100000"),
        (str(folder / "pids.max"), "100"),
    ]
    delegated = tmp_path / "delegated"
    delegated.mkdir()
    (delegated / "cgroup.controllers").write_text("memory pids\n")
    found = cgroups.plan_v2(mounts, cgroups.read_own_groups("0::/user.slice/x\n"), str(delegated))
    assert found.parents == {"memory": delegated, "pids": delegated}


def test_a_job_starts_at_a_larger_cpu_quota_then_settles_to_its_own(tmp_path):
    v1 = cgroups.Cgroups(version=1, parents={"cpu": tmp_path / "cpu"})
    plan = v1.for_job(
        "j3", memory_bytes=None, cpu_millicores=50, max_tasks=64,
        start_millicores=1000, start_seconds=0.5,
    )  # fmt: skip
    quota = str(tmp_path / "cpu/localcompute-j3/cpu.cfs_quota_us")
    assert (quota, "100000", False) in plan.writes
    assert plan.settle == [(quota, "5000")]
    assert plan.settle_after == 0.5
    assert plan.spec()["settle"] == [[quota, "5000"]]
    v2 = cgroups.Cgroups(version=2, parents={"memory": tmp_path, "cpu": tmp_path})
    plan = v2.for_job(
        "j4", memory_bytes=None, cpu_millicores=250, max_tasks=64,
        start_millicores=1000, start_seconds=0.5,
    )  # fmt: skip
    cpu_max = str(tmp_path / "localcompute-j4/cpu.max")
    assert (cpu_max, "100000 100000", False) in plan.writes
    assert plan.settle == [(cpu_max, "25000 100000")]
    # A job asking for a core or more, or no start, has one quota throughout.
    for start_millicores, start_seconds in ((1000, 0.0), (2000, 0.5)):
        plan = v1.for_job(
            "j5", memory_bytes=None, cpu_millicores=2000, max_tasks=64,
            start_millicores=start_millicores, start_seconds=start_seconds,
        )  # fmt: skip
        assert plan.settle == [] and plan.settle_after == 0.0
        assert (str(tmp_path / "cpu/localcompute-j5/cpu.cfs_quota_us"), "200000", False) in (
            plan.writes
        )


def test_cgroups_off_means_none():
    assert cgroups.detect("off") is None


def test_cgroups_required_but_unusable_is_an_error(tmp_path):
    with pytest.raises(cgroups.CgroupError, match="LOCALCOMPUTE_CGROUPS=required"):
        cgroups.detect("required", str(tmp_path / "not-a-cgroup"))
    assert cgroups.detect("auto", str(tmp_path / "not-a-cgroup")) is None


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("fnndsc/pl-dircopy:2.1.1", ("fnndsc/pl-dircopy", "2.1.1")),
        ("docker.io/fnndsc/pl-dircopy:2.1.1", ("fnndsc/pl-dircopy", "2.1.1")),
        ("fnndsc/pl-dircopy", ("fnndsc/pl-dircopy", "")),
        ("fnndsc/pl-dircopy:latest", ("fnndsc/pl-dircopy", "")),
        ("localhost:5000/x/pl-a", ("localhost:5000/x/pl-a", "")),
        ("ghcr.io/fnndsc/pl-a:1.0@sha256:abc", ("ghcr.io/fnndsc/pl-a", "1.0")),
        ("fnndsc/pl-a@sha256:abc", ("fnndsc/pl-a", "")),
        ("localhost:5000/pl-a:2@sha256:abc", ("localhost:5000/pl-a", "2")),
    ],
)
def test_normalize_image(image, expected):
    assert normalize_image(image) == expected


def test_catalogue_matches_tags_aliases_and_picks_the_newest_untagged(tmp_path):
    path = tmp_path / "catalogue.json"
    entries = [
        {"image": "fnndsc/pl-a:1.9.0", "selfexec": "a", "version": "1.9.0", "executable": "old/a"},
        {
            "image": "fnndsc/pl-a:1.10.0",
            "selfexec": "a",
            "version": "1.10.0",
            "executable": "/opt/new/a",
            "aliases": ["ghcr.io/fnndsc/pl-a:1.10.0"],
        },
    ]
    path.write_text(json.dumps({"plugins": entries}))
    catalogue = Catalogue(path)
    assert catalogue.find("fnndsc/pl-a:1.9.0").executable == tmp_path / "old" / "a"
    assert catalogue.find("fnndsc/pl-a").version == "1.10.0"
    assert catalogue.find("ghcr.io/fnndsc/pl-a:1.10.0").version == "1.10.0"
    assert catalogue.find("fnndsc/pl-a:2.0") is None
    assert catalogue.find("fnndsc/pl-b") is None

    path.write_text(json.dumps({"plugins": entries[:1]}))
    os.utime(path, ns=(1, 1))
    assert catalogue.find("fnndsc/pl-a").version == "1.9.0"


def test_missing_catalogue_means_nothing_is_installed(tmp_path):
    assert Catalogue(tmp_path / "nope.json").find("fnndsc/pl-a:1") is None


@pytest.mark.parametrize("raw", ["", "/", "/home/alice", "a/../b", "..", "a/\x00"])
def test_storage_path_rejects(raw):
    with pytest.raises(staging.StagingError):
        staging.storage_path(raw)


def test_storage_path_normalizes_slashes():
    assert staging.storage_path("home//alice/./x/") == "home/alice/x"


def test_filesystem_stager_survives_link_cycles(tmp_path):
    storebase = tmp_path / "store"
    (storebase / "alice" / "a").mkdir(parents=True)
    (storebase / "alice" / "b").mkdir()
    (storebase / "alice" / "a" / "f.txt").write_text("f")
    (storebase / "alice" / "a" / "to_b.chrislink").write_text("alice/b")
    (storebase / "alice" / "b" / "to_a.chrislink").write_text("alice/a")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    stager = staging.FilesystemStager(storebase, hardlink=True, log=lambda line: None)
    assert stager.stage(["alice/a"], incoming, "alice/feed_1/data") == 1
    assert (incoming / "f.txt").exists()
    assert (incoming / "alice_b").is_dir()


def test_filesystem_stager_follows_no_link_into_another_users_tree(tmp_path):
    storebase = tmp_path / "store"
    (storebase / "alice" / "lnk").mkdir(parents=True)
    (storebase / "alice" / "lnk" / "x.chrislink").write_text("bob/uploads")
    (storebase / "bob" / "uploads").mkdir(parents=True)
    (storebase / "bob" / "uploads" / "secret.txt").write_text("bob's")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    lines: list[str] = []
    stager = staging.FilesystemStager(storebase, hardlink=True, log=lines.append)
    assert stager.stage(["alice/lnk"], incoming, "alice/feed_1/data") == 0
    assert list(incoming.rglob("*")) == []
    assert "bob/uploads is not yours" in lines[0]


def test_filesystem_stager_refuses_symlinks_out_of_the_store(tmp_path):
    storebase = tmp_path / "store"
    storebase.mkdir()
    (storebase / "escape").symlink_to("/etc")
    with pytest.raises(staging.StagingError):
        staging.FilesystemStager(storebase, hardlink=True, log=print).stage(
            ["escape"], tmp_path / "in", "out"
        )


CREDENTIALS = {
    "LOCALCOMPUTE_USER": "cube-unit",
    "LOCALCOMPUTE_PASSWORD": "p" * MIN_SECRET_LENGTH,
    "LOCALCOMPUTE_SECRET_KEY": "k" * MIN_SECRET_LENGTH,
}


def test_settings_reject_unknown_storage_modes():
    with pytest.raises(ConfigError, match="STORAGE_ENV"):
        Settings.from_env({**CREDENTIALS, "STORAGE_ENV": "s3"})
    with pytest.raises(ConfigError, match="swift mode needs"):
        Settings.from_env({**CREDENTIALS, "STORAGE_ENV": "swift"})


def test_settings_defaults():
    settings = Settings.from_env(CREDENTIALS)
    assert (settings.host, settings.port, settings.storage_env) == ("127.0.0.1", 30005, "fslink")
    assert (settings.user, settings.password, settings.secret_key) == (
        "cube-unit",
        "p" * MIN_SECRET_LENGTH,
        "k" * MIN_SECRET_LENGTH,
    )


@pytest.mark.parametrize(
    ("storage_env", "innetwork", "copy_job", "upload_job"),
    [("fslink", True, True, False), ("zipfile", False, False, False), ("swift", True, True, True)],
)
def test_each_storage_mode_says_which_jobs_it_needs(
    tmp_path, storage_env, innetwork, copy_job, upload_job
):
    env = {**CREDENTIALS, "STORAGE_ENV": storage_env, "STOREBASE": str(tmp_path)}
    if storage_env == "swift":
        env.update(SWIFT_AUTH_URL="http://127.0.0.1:1/auth/v1.0", SWIFT_USERNAME="u", SWIFT_KEY="k")
    mode = storage_mode(Settings.from_env(env))
    assert mode.name == storage_env
    assert (mode.innetwork, mode.requires_copy_job, mode.requires_upload_job) == (
        innetwork,
        copy_job,
        upload_job,
    )


def test_settings_for_job_limits():
    settings = Settings.from_env(CREDENTIALS)
    assert (settings.cgroups, settings.max_tasks, settings.logs_max_bytes) == ("auto", 1024, 65536)
    settings = Settings.from_env(
        {**CREDENTIALS, "LOCALCOMPUTE_CGROUPS": "required", "LOCALCOMPUTE_MAX_TASKS": "64"}
    )
    assert (settings.cgroups, settings.max_tasks) == ("required", 64)
    with pytest.raises(ConfigError, match="LOCALCOMPUTE_CGROUPS"):
        Settings.from_env({**CREDENTIALS, "LOCALCOMPUTE_CGROUPS": "v3"})
    with pytest.raises(ConfigError, match="LOCALCOMPUTE_MAX_TASKS"):
        Settings.from_env({**CREDENTIALS, "LOCALCOMPUTE_MAX_TASKS": "0"})
    assert Settings.from_env(CREDENTIALS).cpu_start_seconds == 0.5
    settings = Settings.from_env({**CREDENTIALS, "LOCALCOMPUTE_CPU_START_SECONDS": "0"})
    assert settings.cpu_start_seconds == 0
    for value in ("-1", "60"):
        with pytest.raises(ConfigError, match="LOCALCOMPUTE_CPU_START_SECONDS"):
            Settings.from_env({**CREDENTIALS, "LOCALCOMPUTE_CPU_START_SECONDS": value})


@pytest.mark.parametrize("missing", CREDENTIAL_VARIABLES)
def test_settings_refuse_to_start_without_each_credential(missing):
    for absent in (
        {k: v for k, v in CREDENTIALS.items() if k != missing},
        {**CREDENTIALS, missing: ""},
    ):
        with pytest.raises(ConfigError, match=f"{missing} must be set"):
            Settings.from_env(absent)


def test_settings_have_no_built_in_credentials():
    with pytest.raises(ConfigError) as error:
        Settings.from_env({})
    assert str(error.value).startswith(", ".join(CREDENTIAL_VARIABLES) + " must be set")
    # The names localcompute read before (pfcon's own) no longer count.
    with pytest.raises(ConfigError, match="must be set"):
        Settings.from_env(
            {"PFCON_USER": "pfcon", "PFCON_PASSWORD": "pfcon1234" * 2, "SECRET_KEY": "k" * 32}
        )


@pytest.mark.parametrize("name", ["LOCALCOMPUTE_PASSWORD", "LOCALCOMPUTE_SECRET_KEY"])
def test_settings_refuse_short_secrets(name):
    with pytest.raises(ConfigError, match=f"{name} must be at least {MIN_SECRET_LENGTH}"):
        Settings.from_env({**CREDENTIALS, name: "x" * (MIN_SECRET_LENGTH - 1)})
    assert Settings.from_env({**CREDENTIALS, name: "x" * MIN_SECRET_LENGTH})


def test_settings_stop_jobs_on_exit_is_an_opt_in_boolean():
    assert Settings.from_env(CREDENTIALS).stop_jobs_on_exit is False
    assert Settings.from_env(
        {**CREDENTIALS, "LOCALCOMPUTE_STOP_JOBS_ON_EXIT": "true"}
    ).stop_jobs_on_exit
    assert not Settings.from_env(
        {**CREDENTIALS, "LOCALCOMPUTE_STOP_JOBS_ON_EXIT": "0"}
    ).stop_jobs_on_exit
    with pytest.raises(ConfigError):
        Settings.from_env({**CREDENTIALS, "LOCALCOMPUTE_STOP_JOBS_ON_EXIT": "maybe"})


class MemoryObjects:
    """Object storage in a dict, with Swift's conditional copy (the ETag is the MD5)."""

    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self.puts: list[str] = []
        self.copies: list[tuple[str, str]] = []

    def ls(self, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k == prefix or k.startswith(f"{prefix}/"))

    def open(self, key: str):
        data = self.objects[key]
        return iter([data[:1000], data[1000:]])

    def put(self, key: str, stream, *, length=None) -> int:
        self.objects[key] = stream.read()
        self.puts.append(key)
        return len(self.objects[key])

    def copy_if_match(self, source: str, destination: str, etag: str) -> bool:
        data = self.objects.get(source)
        if data is None or hashlib.md5(data).hexdigest() != etag:
            return False
        self.objects[destination] = data
        self.copies.append((source, destination))
        return True


def _stage(storage, tmp_path, input_dirs, output_dir="home/alice/out"):
    record = tmp_path / "staged.json"
    stager = staging.ObjectStorageStager(storage, log=lambda line: None, record=record)
    count = stager.stage(input_dirs, tmp_path / "incoming", output_dir)
    return count, staging.read_staged(record)


def test_swift_staging_downloads_in_parallel_and_records_what_it_got(tmp_path):
    storage = MemoryObjects()
    for index in range(20):
        storage.objects[f"home/alice/in/{index:02d}.dcm"] = os.urandom(3000)
    storage.objects["home/alice/in/sub/deep.txt"] = b"deep"
    count, staged = _stage(storage, tmp_path, ["home/alice/in"])
    assert count == 21
    for key, data in storage.objects.items():
        assert (tmp_path / "incoming" / key.removeprefix("home/alice/in/")).read_bytes() == data
    assert {item["key"]: item for item in staged}["home/alice/in/sub/deep.txt"] == {
        "key": "home/alice/in/sub/deep.txt",
        "size": 4,
        "sha256": hashlib.sha256(b"deep").hexdigest(),
        "md5": hashlib.md5(b"deep").hexdigest(),
    }
    assert not list((tmp_path / "incoming").rglob("*.partial"))


def test_outputs_identical_to_an_input_are_copied_inside_storage(tmp_path):
    storage = MemoryObjects()
    big, other = os.urandom(staging.COPY_MIN_BYTES), os.urandom(staging.COPY_MIN_BYTES)
    storage.objects["home/alice/in/big.dcm"] = big
    storage.objects["home/alice/in/small.txt"] = b"small"
    _count, staged = _stage(storage, tmp_path, ["home/alice/in"])
    outgoing = tmp_path / "outgoing"
    (outgoing / "sub").mkdir(parents=True)
    (outgoing / "copy.dcm").write_bytes(big)
    (outgoing / "sub" / "again.dcm").write_bytes(big)
    # Same size as the input, other bytes: the plugin changed it.
    (outgoing / "changed.dcm").write_bytes(other)
    (outgoing / "small.txt").write_bytes(b"small")

    count, copied = staging.upload_outputs(storage, outgoing, "home/alice/out", staged=staged)

    assert (count, copied) == (4, 2)
    assert sorted(storage.copies) == [
        ("home/alice/in/big.dcm", "home/alice/out/copy.dcm"),
        ("home/alice/in/big.dcm", "home/alice/out/sub/again.dcm"),
    ]
    assert sorted(storage.puts) == ["home/alice/out/changed.dcm", "home/alice/out/small.txt"]
    assert storage.objects["home/alice/out/changed.dcm"] == other
    assert storage.objects["home/alice/out/sub/again.dcm"] == big


def test_an_output_whose_source_changed_since_staging_is_uploaded(tmp_path):
    storage = MemoryObjects()
    big = os.urandom(staging.COPY_MIN_BYTES)
    storage.objects["home/alice/in/big.dcm"] = big
    _count, staged = _stage(storage, tmp_path, ["home/alice/in"])
    storage.objects["home/alice/in/big.dcm"] = b"replaced by its owner"
    outgoing = tmp_path / "outgoing"
    outgoing.mkdir()
    (outgoing / "big.dcm").write_bytes(big)

    assert staging.upload_outputs(storage, outgoing, "home/alice/out", staged=staged) == (1, 0)
    assert storage.objects["home/alice/out/big.dcm"] == big
    # Without the copy job's record nothing is copied either.
    assert staging.upload_outputs(storage, outgoing, "home/alice/out2") == (1, 0)
