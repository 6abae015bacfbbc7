"""Persistent job records in SQLite, one row per job name (``<jid>``, ``<jid>-copy``...)."""

import sqlite3
import threading
from dataclasses import asdict, dataclass, fields
from pathlib import Path


class Status:
    NOT_STARTED = "notStarted"
    STARTED = "started"
    FINISHED_SUCCESSFULLY = "finishedSuccessfully"
    FINISHED_WITH_ERROR = "finishedWithError"
    UNDEFINED = "undefined"

    ACTIVE = (NOT_STARTED, STARTED)
    RETRYABLE = (FINISHED_WITH_ERROR, UNDEFINED)


class Kind:
    COPY = "copy"
    PLUGIN = "plugin"
    UPLOAD = "upload"
    DELETE = "delete"

    SUFFIXES = {COPY: "-copy", PLUGIN: "", UPLOAD: "-upload", DELETE: "-delete"}


def job_name(kind: str, jid: str) -> str:
    return jid + Kind.SUFFIXES[kind]


@dataclass
class JobRecord:
    name: str
    jid: str
    kind: str
    status: str
    image: str = ""
    cmd: str = ""
    message: str = ""
    started_at: str = ""
    finished_at: str = ""
    pid: int | None = None
    pid_start: int | None = None
    stop_reason: str = ""
    output_dir: str = ""
    logs: str = ""
    # A queued plugin job's launcher spec (JSON) until it starts; it holds only the job's
    # own identifiers, never credentials.
    launch_spec: str = ""


_COLUMNS = [field.name for field in fields(JobRecord)]


class JobStore:
    """Thread-safe access to the jobs table."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS jobs ("
            "name TEXT PRIMARY KEY, jid TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,"
            "image TEXT NOT NULL DEFAULT '', cmd TEXT NOT NULL DEFAULT '',"
            "message TEXT NOT NULL DEFAULT '', started_at TEXT NOT NULL DEFAULT '',"
            "finished_at TEXT NOT NULL DEFAULT '', pid INTEGER, pid_start INTEGER,"
            "stop_reason TEXT NOT NULL DEFAULT '', output_dir TEXT NOT NULL DEFAULT '',"
            "logs TEXT NOT NULL DEFAULT '', launch_spec TEXT NOT NULL DEFAULT '')"
        )
        present = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        if "launch_spec" not in present:  # a data dir from before admission control
            self._db.execute("ALTER TABLE jobs ADD COLUMN launch_spec TEXT NOT NULL DEFAULT ''")

    def get(self, name: str) -> JobRecord | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE name = ?", (name,)
            ).fetchone()
        return JobRecord(*row) if row else None

    def put(self, record: JobRecord) -> None:
        values = asdict(record)
        with self._lock:
            self._db.execute(
                f"INSERT OR REPLACE INTO jobs ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in _COLUMNS)})",
                [values[column] for column in _COLUMNS],
            )

    def update(self, name: str, **changes) -> None:
        unknown = set(changes) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown job fields: {unknown}")
        assignments = ", ".join(f"{column} = ?" for column in changes)
        with self._lock:
            self._db.execute(
                f"UPDATE jobs SET {assignments} WHERE name = ?", [*changes.values(), name]
            )

    def delete(self, name: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM jobs WHERE name = ?", (name,))

    def with_status(self, kind: str | None, statuses: tuple[str, ...]) -> list[JobRecord]:
        query = (
            f"SELECT {', '.join(_COLUMNS)} FROM jobs "
            f"WHERE status IN ({', '.join('?' for _ in statuses)})"
        )
        parameters: list[str] = list(statuses)
        if kind is not None:
            query += " AND kind = ?"
            parameters.append(kind)
        query += " ORDER BY rowid"  # submission order: queued jobs start first come, first served
        with self._lock:
            rows = self._db.execute(query, parameters).fetchall()
        return [JobRecord(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
