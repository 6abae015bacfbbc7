"""Settings for localcompute, read once from the environment."""

import os
from dataclasses import dataclass
from pathlib import Path

STORAGE_MODES = ("fslink", "zipfile", "swift")

SANDBOX_MODES = ("bwrap", "off")
CGROUP_MODES = ("auto", "off", "required")
# number_of_workers: a job runs once, with the resources of this many workers at most.
MAX_WORKERS = 64
# A longer start would make cpu_limit meaningless for short jobs.
MAX_CPU_START_SECONDS = 5.0
CREDENTIAL_VARIABLES = ("LOCALCOMPUTE_USER", "LOCALCOMPUTE_PASSWORD", "LOCALCOMPUTE_SECRET_KEY")
# A shorter secret would let a forged token or a guessed password through.
MIN_SECRET_LENGTH = 16


class ConfigError(ValueError):
    """The environment describes an unusable configuration."""


def _env_int(environ: dict[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as e:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from e


def _env_float(environ: dict[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as e:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from e


def _env_bool(environ: dict[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be a boolean, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Everything localcompute needs to know; credentials have no default."""

    user: str
    password: str
    secret_key: str
    host: str = "127.0.0.1"
    port: int = 30005
    threads: int = 8
    # "bwrap" runs every plugin in a bubblewrap sandbox; "off" is for development on a
    # machine without namespaces and is logged on every job.
    sandbox: str = "bwrap"
    # Plugin jobs running at once; the rest wait as notStarted.
    max_jobs: int = os.cpu_count() or 1
    storage_env: str = "fslink"
    storebase: Path = Path("var/storage")
    data_dir: Path = Path("var/localcompute")
    plugins_catalogue: Path = Path("var/plugins/catalogue.json")
    max_seconds: int = 7 * 24 * 3600
    kill_grace_seconds: float = 10.0
    # RLIMIT_AS = memory_limit * memory_factor + memory_headroom_mib; 0 factor disables it.
    memory_factor: float = 2.0
    memory_headroom_mib: int = 512
    # 0 means "derive from max_seconds and the job's cpu_limit".
    max_cpu_seconds: int = 0
    # 0 means unlimited.
    max_file_mib: int = 0
    # Per-job control groups (cgroups.py): "auto" uses them where the machine allows,
    # "required" refuses to start without, "off" keeps rlimits only.
    cgroups: str = "auto"
    # cgroup v2: a delegated group without processes, under which job groups are made.
    cgroup_parent: str = ""
    # Processes and threads of one job (cgroup pids controller).
    max_tasks: int = 1024
    # A job's first seconds run at one core per worker when its cpu_limit is less, so that
    # starting an interpreter is not stretched by the quota (cgroups.Cgroups.for_job).
    cpu_start_seconds: float = 0.5
    logs_tail: int = 1000
    # The log tail returned on GET is also cut to this many bytes (its end is kept).
    logs_max_bytes: int = 65536
    hardlink_inputs: bool = True
    # Kill every running plugin job when the server stops (developer stacks); by default
    # jobs outlive a restart.
    stop_jobs_on_exit: bool = False
    swift_auth_url: str = ""
    swift_username: str = ""
    swift_key: str = ""
    swift_container: str = "users"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "state.sqlite3"

    def job_dir(self, jid: str) -> Path:
        return self.data_dir / f"key-{jid}"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if environ is None else environ)
        storage_env = env.get("STORAGE_ENV", "fslink").strip() or "fslink"
        if storage_env not in STORAGE_MODES:
            raise ConfigError(f"STORAGE_ENV must be one of {', '.join(STORAGE_MODES)}")
        missing = [name for name in CREDENTIAL_VARIABLES if not env.get(name)]
        if missing:
            raise ConfigError(
                f"{', '.join(missing)} must be set (the launchers write them to "
                "$CUBE_VAR_DIR/localcompute.env)"
            )
        for name in ("LOCALCOMPUTE_PASSWORD", "LOCALCOMPUTE_SECRET_KEY"):
            if len(env[name]) < MIN_SECRET_LENGTH:
                raise ConfigError(f"{name} must be at least {MIN_SECRET_LENGTH} characters")
        sandbox = env.get("LOCALCOMPUTE_SANDBOX", "").strip() or cls.sandbox
        if sandbox not in SANDBOX_MODES:
            raise ConfigError(f"LOCALCOMPUTE_SANDBOX must be one of {', '.join(SANDBOX_MODES)}")
        cgroups = env.get("LOCALCOMPUTE_CGROUPS", "").strip() or cls.cgroups
        if cgroups not in CGROUP_MODES:
            raise ConfigError(f"LOCALCOMPUTE_CGROUPS must be one of {', '.join(CGROUP_MODES)}")
        settings = cls(
            user=env["LOCALCOMPUTE_USER"],
            password=env["LOCALCOMPUTE_PASSWORD"],
            secret_key=env["LOCALCOMPUTE_SECRET_KEY"],
            host=env.get("LOCALCOMPUTE_HOST", cls.host),
            port=_env_int(env, "LOCALCOMPUTE_PORT", cls.port),
            threads=_env_int(env, "LOCALCOMPUTE_THREADS", cls.threads),
            sandbox=sandbox,
            max_jobs=_env_int(env, "LOCALCOMPUTE_MAX_JOBS", cls.max_jobs),
            storage_env=storage_env,
            storebase=Path(env.get("STOREBASE") or cls.storebase).absolute(),
            data_dir=Path(env.get("LOCALCOMPUTE_DATA_DIR") or cls.data_dir).absolute(),
            plugins_catalogue=Path(
                env.get("LOCALCOMPUTE_PLUGINS") or cls.plugins_catalogue
            ).absolute(),
            max_seconds=_env_int(env, "LOCALCOMPUTE_MAX_SECONDS", cls.max_seconds),
            kill_grace_seconds=_env_float(
                env, "LOCALCOMPUTE_KILL_GRACE_SECONDS", cls.kill_grace_seconds
            ),
            memory_factor=_env_float(env, "LOCALCOMPUTE_MEMORY_FACTOR", cls.memory_factor),
            memory_headroom_mib=_env_int(
                env, "LOCALCOMPUTE_MEMORY_HEADROOM_MIB", cls.memory_headroom_mib
            ),
            max_cpu_seconds=_env_int(env, "LOCALCOMPUTE_MAX_CPU_SECONDS", cls.max_cpu_seconds),
            max_file_mib=_env_int(env, "LOCALCOMPUTE_MAX_FILE_MIB", cls.max_file_mib),
            cgroups=cgroups,
            cgroup_parent=env.get("LOCALCOMPUTE_CGROUP_PARENT", "").strip(),
            max_tasks=_env_int(env, "LOCALCOMPUTE_MAX_TASKS", cls.max_tasks),
            cpu_start_seconds=_env_float(
                env, "LOCALCOMPUTE_CPU_START_SECONDS", cls.cpu_start_seconds
            ),
            logs_tail=_env_int(env, "JOB_LOGS_TAIL", cls.logs_tail),
            logs_max_bytes=_env_int(env, "LOCALCOMPUTE_LOGS_MAX_BYTES", cls.logs_max_bytes),
            hardlink_inputs=_env_bool(env, "LOCALCOMPUTE_HARDLINK_INPUTS", cls.hardlink_inputs),
            stop_jobs_on_exit=_env_bool(
                env, "LOCALCOMPUTE_STOP_JOBS_ON_EXIT", cls.stop_jobs_on_exit
            ),
            swift_auth_url=env.get("SWIFT_AUTH_URL", ""),
            swift_username=env.get("SWIFT_USERNAME", ""),
            swift_key=env.get("SWIFT_KEY", ""),
            swift_container=env.get("SWIFT_CONTAINER_NAME") or cls.swift_container,
        )
        if settings.max_seconds <= 0:
            raise ConfigError("LOCALCOMPUTE_MAX_SECONDS must be positive")
        if settings.max_jobs <= 0:
            raise ConfigError("LOCALCOMPUTE_MAX_JOBS must be positive")
        if settings.max_tasks <= 0:
            raise ConfigError("LOCALCOMPUTE_MAX_TASKS must be positive")
        if not 0 <= settings.cpu_start_seconds <= MAX_CPU_START_SECONDS:
            raise ConfigError(
                f"LOCALCOMPUTE_CPU_START_SECONDS must be between 0 and {MAX_CPU_START_SECONDS}"
            )
        if settings.logs_max_bytes <= 0:
            raise ConfigError("LOCALCOMPUTE_LOGS_MAX_BYTES must be positive")
        if storage_env == "swift" and not (
            settings.swift_auth_url and settings.swift_username and settings.swift_key
        ):
            raise ConfigError("swift mode needs SWIFT_AUTH_URL, SWIFT_USERNAME and SWIFT_KEY")
        return settings
