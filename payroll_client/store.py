"""The client's local store: one SQLite file in the data folder (stdlib sqlite3, no server).

Everything the client remembers lives here: users and their function ticks, the action log,
the trusted bank root, the registered USB key (the PKCS#12 bytes, still PIN-protected), the
imported agreement packages, the hand-entered employee draft and the history of files made.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

HOME_ENV = "PAYROLL_CLIENT_HOME"
DB_NAME = "client.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    salt BLOB NOT NULL,
    password_hash BLOB NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    must_change INTEGER NOT NULL DEFAULT 0,
    functions TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS action_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user_name TEXT,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS session (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    user_name TEXT NOT NULL,
    started_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agreements (
    agreement_no TEXT PRIMARY KEY,
    package BLOB NOT NULL,
    payload BLOB NOT NULL,
    company_name TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS employee_draft (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agreement_no TEXT NOT NULL,
    id_type TEXT NOT NULL,
    id_number TEXT NOT NULL,
    name TEXT NOT NULL,
    account TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files_made (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    agreement_no TEXT NOT NULL,
    batch_no TEXT NOT NULL DEFAULT '',
    pay_date TEXT NOT NULL DEFAULT '',
    operation TEXT NOT NULL DEFAULT '',
    record_count INTEGER NOT NULL,
    total_amount TEXT NOT NULL DEFAULT '',
    digest TEXT NOT NULL,
    operator TEXT NOT NULL,
    reviewer TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL,
    made_at TEXT NOT NULL
);
"""


def data_dir_resolve(*, given: str | None) -> Path:
    """--data-dir wins, then PAYROLL_CLIENT_HOME, then a folder in the user's home."""
    if given:
        return Path(given).expanduser()
    env = os.environ.get(HOME_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path.home() / ".payroll-client"


def store_open(*, data_dir: Path) -> sqlite3.Connection:
    # The folder holds password hashes and the USB key file: owner-only.
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    conn = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    # Two terminals (operator and reviewer) may share a data folder: wait, don't fail.
    conn.execute("PRAGMA busy_timeout = 5000")
    # WAL + NORMAL: one fsync per checkpoint instead of several per command; a power cut can lose
    # the last log line at worst, never corrupt the store.
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executescript(SCHEMA)
    return conn


@contextmanager
def store_transaction(*, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def now_text() -> str:
    """Wall-clock time for logs and sessions (not the business clock: a log records when
    something really happened, even when a demo pins the business date)."""
    return datetime.now(tz=UTC).astimezone().isoformat(timespec="seconds")


def setting_get(*, conn: sqlite3.Connection, key: str) -> bytes | None:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return None if row is None else bytes(row["value"])


def setting_put(*, conn: sqlite3.Connection, key: str, value: bytes) -> None:
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (key, value, now_text()),
    )


def log_write(
    *, conn: sqlite3.Connection, user_name: str | None, action: str, outcome: str, detail: str = ""
) -> None:
    conn.execute(
        "INSERT INTO action_log (at, user_name, action, outcome, detail) VALUES (?, ?, ?, ?, ?)",
        (now_text(), user_name, action, outcome, detail),
    )


def log_list(*, conn: sqlite3.Connection, limit: int = 200, user_name: str | None = None) -> list[sqlite3.Row]:
    if user_name:
        rows = conn.execute(
            "SELECT * FROM action_log WHERE user_name = ? ORDER BY id DESC LIMIT ?", (user_name, limit)
        )
    else:
        rows = conn.execute("SELECT * FROM action_log ORDER BY id DESC LIMIT ?", (limit,))
    return list(rows)


def file_made_record(
    *,
    conn: sqlite3.Connection,
    kind: str,
    agreement_no: str,
    record_count: int,
    digest: str,
    operator: str,
    path: str,
    batch_no: str = "",
    pay_date: str = "",
    operation: str = "",
    total_amount: str = "",
    reviewer: str = "",
) -> None:
    conn.execute(
        "INSERT INTO files_made (kind, agreement_no, batch_no, pay_date, operation, record_count, "
        "total_amount, digest, operator, reviewer, path, made_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (kind, agreement_no, batch_no, pay_date, operation, record_count, total_amount, digest,
         operator, reviewer, path, now_text()),
    )


def files_made_list(*, conn: sqlite3.Connection, agreement_no: str | None = None) -> list[sqlite3.Row]:
    if agreement_no:
        return list(conn.execute(
            "SELECT * FROM files_made WHERE agreement_no = ? ORDER BY id", (agreement_no,)))
    return list(conn.execute("SELECT * FROM files_made ORDER BY id"))
