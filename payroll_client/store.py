"""The client's local store: one SQLite file in the data folder (stdlib sqlite3, no server).

Everything the client remembers lives here: users and their function ticks, the action log,
the trusted bank root, the registered USB key (the PKCS#12 bytes, still PIN-protected), the
imported agreement packages, the hand-entered employee draft and the history of files made.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from payroll_exchange.records import PayrollRow

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
-- The rows of each payroll file made here: 变动提示 compares the next file with the last paid one.
CREATE TABLE IF NOT EXISTS payroll_rows_made (
    file_id INTEGER NOT NULL REFERENCES files_made(id),
    seq INTEGER NOT NULL,
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    amount TEXT NOT NULL,
    id_type TEXT NOT NULL,
    id_number TEXT NOT NULL,
    PRIMARY KEY (file_id, seq)
);
"""

# Columns added after the first release. A store written by an older client is brought up to
# date when opened: PRAGMA user_version says how far it is, and each step adds only the columns
# that are missing, inside one transaction, so a second window opening the store at the same
# time waits (busy_timeout) and then finds the work done.
MIGRATIONS: list[list[tuple[str, str, str]]] = [
    # 1: 5 wrong passwords lock a user; a login expires when idle (business clock instants).
    [("users", "failed_logins", "INTEGER NOT NULL DEFAULT 0"),
     ("users", "locked_until", "TEXT NOT NULL DEFAULT ''"),
     ("session", "last_seen", "TEXT NOT NULL DEFAULT ''")],
    # 2: which sheet was read and how, kept in 信息查询.
    [("files_made", "sheet_name", "TEXT NOT NULL DEFAULT ''"),
     ("files_made", "sheet_kind", "TEXT NOT NULL DEFAULT ''"),
     ("files_made", "sheet_encoding", "TEXT NOT NULL DEFAULT ''"),
     ("files_made", "hidden_rows", "TEXT NOT NULL DEFAULT ''"),
     ("files_made", "source_file", "TEXT NOT NULL DEFAULT ''")],
]


def store_migrate(*, conn: sqlite3.Connection) -> int:
    """Bring the store to the latest version; returns the version."""
    latest = len(MIGRATIONS)
    if conn.execute("PRAGMA user_version").fetchone()[0] >= latest:
        return latest
    with store_transaction(conn=conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for step in MIGRATIONS[version:]:
            for table, column, declaration in step:
                present = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
        conn.execute(f"PRAGMA user_version = {latest}")
    return latest


@dataclass(frozen=True, slots=True)
class SheetFacts:
    """How the input sheet was read, as 信息查询 keeps it: the worksheet, the kind of file (e.g.
    制表符分隔的文本文件), the text encoding, the hidden-row decision with the rows concerned."""

    sheet_name: str = ""
    kind: str = ""
    encoding: str = ""
    hidden_rows: str = ""
    source_file: str = ""


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
    store_migrate(conn=conn)
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
    sheet: SheetFacts | None = None,
) -> int:
    """Returns the new row's id."""
    facts = sheet or SheetFacts()
    cursor = conn.execute(
        "INSERT INTO files_made (kind, agreement_no, batch_no, pay_date, operation, record_count, "
        "total_amount, digest, operator, reviewer, path, made_at, sheet_name, sheet_kind, sheet_encoding, "
        "hidden_rows, source_file) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (kind, agreement_no, batch_no, pay_date, operation, record_count, total_amount, digest,
         operator, reviewer, path, now_text(), facts.sheet_name, facts.kind, facts.encoding, facts.hidden_rows,
         facts.source_file),
    )
    return int(cursor.lastrowid or 0)


def payroll_rows_record(*, conn: sqlite3.Connection, file_id: int, rows: Iterable[PayrollRow]) -> None:
    conn.executemany(
        "INSERT INTO payroll_rows_made (file_id, seq, account, name, amount, id_type, id_number) "
        "VALUES (?,?,?,?,?,?,?)",
        ((file_id, r.seq, r.account, r.name, str(r.amount), r.id_type, r.id_number) for r in rows))


def payroll_last_paid(*, conn: sqlite3.Connection, agreement_no: str,
                      batch_no: str) -> tuple[sqlite3.Row, list[PayrollRow]] | None:
    """The last payroll file made here for the agreement (another batch number) that its return file,
    decrypted here (文件回盘), shows as paid: its record and rows. None when there is none."""
    made = conn.execute(
        "SELECT f.* FROM files_made f WHERE f.kind = 'payroll' AND f.agreement_no = ? AND f.batch_no <> ? "
        "AND EXISTS (SELECT 1 FROM files_made r WHERE r.kind = 'return' AND r.agreement_no = f.agreement_no "
        "AND r.batch_no = f.batch_no AND r.total_amount NOT IN ('', '0', '0.00')) "
        "AND EXISTS (SELECT 1 FROM payroll_rows_made p WHERE p.file_id = f.id) "
        "ORDER BY f.pay_date DESC, f.id DESC LIMIT 1", (agreement_no, batch_no)).fetchone()
    if made is None:
        return None
    rows = [PayrollRow(seq=r["seq"], account=r["account"], name=r["name"], amount=Decimal(r["amount"]),
                       id_type=r["id_type"], id_number=r["id_number"], remark="")
            for r in conn.execute("SELECT * FROM payroll_rows_made WHERE file_id = ? ORDER BY seq", (made["id"],))]
    return made, rows


def batch_used(*, conn: sqlite3.Connection, agreement_no: str, batch_no: str) -> sqlite3.Row | None:
    """The last payroll file this client made with this batch number for this agreement."""
    return conn.execute(
        "SELECT * FROM files_made WHERE kind = 'payroll' AND agreement_no = ? AND batch_no = ? "
        "ORDER BY id DESC LIMIT 1", (agreement_no, batch_no)).fetchone()


def files_made_list(*, conn: sqlite3.Connection, agreement_no: str | None = None) -> list[sqlite3.Row]:
    if agreement_no:
        return list(conn.execute(
            "SELECT * FROM files_made WHERE agreement_no = ? ORDER BY id", (agreement_no,)))
    return list(conn.execute("SELECT * FROM files_made ORDER BY id"))
