"""用户管理: users, their function ticks, passwords and the login session.

User names are four digits (the manual); the administrator is ``admin`` with first password
``admin`` and must change it before doing anything else. Passwords are hashed with scrypt and
a per-user salt; they are never stored, echoed or logged in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from payroll_client.store import log_write, now_text, store_transaction
from payroll_exchange import clock
from payroll_exchange.errors import ExchangeError

ADMIN = "admin"
FIRST_PASSWORD = "admin"
MIN_PASSWORD = 6

# English code -> the manual's Chinese name, in the manual's order.
FUNCTIONS: dict[str, str] = {
    "encrypt": "文件加密",
    "return": "文件回盘",
    "account_opening": "批量开户",
    "employee_disk": "员工盘片",
    "employee_import": "导入员工",
    "agreement_query": "协议查询",
    "info_query": "信息查询",
}
FUNCTIONS_EN: dict[str, str] = {
    "encrypt": "payroll file encryption",
    "return": "return file decryption",
    "account_opening": "batch account opening",
    "employee_disk": "employee info file by hand",
    "employee_import": "employee import from a sheet",
    "agreement_query": "agreement query",
    "info_query": "information query",
}
ADMIN_FUNCTION = "admin"

# Wrong passwords in a row that lock a user, and for how long (the business clock: a test or a
# demo moves it instead of waiting).
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
# A login expires after this many idle minutes; PAYROLL_CLIENT_IDLE_MINUTES changes it.
IDLE_ENV = "PAYROLL_CLIENT_IDLE_MINUTES"
IDLE_MINUTES = 15

# scrypt at n=2**14, r=8 costs ~40 ms here: slow for a guesser, unnoticed at a login.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 32}
_NAME_RE = re.compile(r"\d{4}")


@dataclass(frozen=True, slots=True)
class User:
    name: str
    is_admin: bool
    active: bool
    must_change: bool
    functions: frozenset[str]

    def may(self, function: str) -> bool:
        if function == ADMIN_FUNCTION:
            return self.is_admin
        return function in self.functions


def password_hash(*, password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)


def _user_from_row(row: sqlite3.Row) -> User:
    return User(
        name=row["name"],
        is_admin=bool(row["is_admin"]),
        active=bool(row["active"]),
        must_change=bool(row["must_change"]),
        functions=frozenset(f for f in row["functions"].split(",") if f),
    )


def users_bootstrap(*, conn: sqlite3.Connection) -> None:
    """A fresh store has one user: admin/admin, forced to change the password."""
    if conn.execute("SELECT 1 FROM users WHERE name = ?", (ADMIN,)).fetchone():
        return
    salt = secrets.token_bytes(16)
    conn.execute(
        "INSERT OR IGNORE INTO users (name, salt, password_hash, is_admin, must_change, created_at) "
        "VALUES (?, ?, ?, 1, 1, ?)",
        (ADMIN, salt, password_hash(password=FIRST_PASSWORD, salt=salt), now_text()),
    )


def user_get(*, conn: sqlite3.Connection, name: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    return None if row is None else _user_from_row(row)


def users_list(*, conn: sqlite3.Connection) -> list[User]:
    return [_user_from_row(r) for r in conn.execute("SELECT * FROM users ORDER BY is_admin DESC, name")]


def functions_parse(*, text: str) -> frozenset[str]:
    """'文件加密,协议查询' or 'encrypt,agreement_query' (mixed is fine) -> codes."""
    by_zh = {zh: code for code, zh in FUNCTIONS.items()}
    codes: set[str] = set()
    for part in re.split(r"[,，;；\s]+", text.strip()):
        if not part:
            continue
        code = part if part in FUNCTIONS else by_zh.get(part)
        if code is None:
            known = ", ".join(f"{zh}({code})" for code, zh in FUNCTIONS.items())
            raise ExchangeError("function_unknown", f"未知功能: {part}。可选: {known}",
                                f"unknown function: {part}. Choose from: {known}")
        codes.add(code)
    return frozenset(codes)


def password_validate(*, name: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ExchangeError("password_short", f"密码至少 {MIN_PASSWORD} 位",
                            f"the password needs at least {MIN_PASSWORD} characters")
    if password in (name, FIRST_PASSWORD):
        raise ExchangeError("password_weak", "密码不能与用户名或初始密码相同",
                            "the password may not equal the user name or the first password")


def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _locked_refusal(until: datetime) -> ExchangeError:
    shown = until.astimezone(clock.BUSINESS_TZ).strftime("%H:%M")
    return ExchangeError("user_locked",
                         f"密码连续输错 {LOCK_AFTER} 次, 该用户已锁定至 {shown} (北京时间); 请稍后再试, "
                         "或请管理员重置密码",
                         f"{LOCK_AFTER} wrong passwords in a row: this user is locked until {shown} (Beijing "
                         "time); try again later, or ask the administrator to reset the password")


def _login_failed(*, conn: sqlite3.Connection, row: sqlite3.Row, now: datetime) -> ExchangeError:
    """Count a wrong password; the fifth in a row locks the user."""
    name = row["name"]
    with store_transaction(conn=conn):
        # Counted in the database, not from the row read before: two windows typing wrong passwords
        # at once both count.
        failed = int(conn.execute("UPDATE users SET failed_logins = failed_logins + 1 WHERE name = ? "
                                  "RETURNING failed_logins", (name,)).fetchone()[0])
        if failed >= LOCK_AFTER:
            until = now + LOCK_FOR
            conn.execute("UPDATE users SET failed_logins = 0, locked_until = ? WHERE name = ?",
                         (until.isoformat(), name))
            conn.execute("DELETE FROM session WHERE user_name = ?", (name,))
            log_write(conn=conn, user_name=name, action="login", outcome="refused",
                      detail=f"wrong name or password ({failed})")
            log_write(conn=conn, user_name=name, action="user_locked", outcome="locked",
                      detail=f"{failed} wrong passwords; locked until {until.isoformat()}")
            return _locked_refusal(until)
        log_write(conn=conn, user_name=name, action="login", outcome="refused",
                  detail=f"wrong name or password ({failed})")
    return ExchangeError("login_failed", "用户名或密码错误", "wrong user name or password")


def user_authenticate(*, conn: sqlite3.Connection, name: str, password: str) -> User:
    """Check a name and password; one message for every failure so names cannot be probed,
    except that a user locked by wrong passwords is told until when."""
    users_bootstrap(conn=conn)
    now = clock.business_now()
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    until = _instant(row["locked_until"]) if row else None
    if row is not None and until is not None and now < until:
        log_write(conn=conn, user_name=name, action="login", outcome="refused", detail="locked")
        raise _locked_refusal(until)
    # Hash even for an unknown name so the timing does not tell which names exist.
    salt = bytes(row["salt"]) if row else b"0" * 16
    ok = hmac.compare_digest(password_hash(password=password, salt=salt),
                             bytes(row["password_hash"]) if row else b"")
    if row is None:
        log_write(conn=conn, user_name=None, action="login", outcome="refused", detail="wrong name or password")
        raise ExchangeError("login_failed", "用户名或密码错误", "wrong user name or password")
    if not ok:
        raise _login_failed(conn=conn, row=row, now=now)
    if row["failed_logins"] or row["locked_until"]:
        conn.execute("UPDATE users SET failed_logins = 0, locked_until = '' WHERE name = ?", (name,))
    user = _user_from_row(row)
    if not user.active:
        log_write(conn=conn, user_name=name, action="login", outcome="refused", detail="disabled")
        raise ExchangeError("user_disabled", "该用户已停用, 请联系管理员",
                            "this user is disabled; ask the administrator")
    return user


def user_password_set(*, conn: sqlite3.Connection, name: str, password: str, must_change: bool,
                      by: str) -> None:
    password_validate(name=name, password=password)
    salt = secrets.token_bytes(16)
    with store_transaction(conn=conn):
        conn.execute("UPDATE users SET salt = ?, password_hash = ?, must_change = ? WHERE name = ?",
                     (salt, password_hash(password=password, salt=salt), int(must_change), name))
        log_write(conn=conn, user_name=by, action="password_set", outcome="ok", detail=f"user {name}")


def user_create(*, conn: sqlite3.Connection, name: str, password: str, functions: frozenset[str],
                by: str) -> User:
    """A new user with a first password the administrator chose: the user must change it at the
    first login, as admin must (the administrator should not know a password in use)."""
    if not _NAME_RE.fullmatch(name):
        raise ExchangeError("user_name", "用户名须为四位数字, 例如 0001",
                            "a user name is four digits, e.g. 0001")
    if user_get(conn=conn, name=name):
        raise ExchangeError("user_exists", f"用户 {name} 已存在", f"user {name} already exists")
    password_validate(name=name, password=password)
    salt = secrets.token_bytes(16)
    with store_transaction(conn=conn):
        conn.execute(
            "INSERT INTO users (name, salt, password_hash, functions, must_change, created_at) "
            "VALUES (?, ?, ?, ?, 1, ?)",
            (name, salt, password_hash(password=password, salt=salt), ",".join(sorted(functions)),
             now_text()),
        )
        log_write(conn=conn, user_name=by, action="user_add", outcome="ok",
                  detail=f"user {name} functions {','.join(sorted(functions))}")
    user = user_get(conn=conn, name=name)
    assert user is not None  # noqa: S101 - just inserted in this transaction
    return user


def _user_require(*, conn: sqlite3.Connection, name: str) -> User:
    user = user_get(conn=conn, name=name)
    if user is None:
        raise ExchangeError("user_unknown", f"没有用户 {name}", f"no user {name}")
    return user


def user_functions_set(*, conn: sqlite3.Connection, name: str, functions: frozenset[str], by: str) -> None:
    if _user_require(conn=conn, name=name).is_admin:
        raise ExchangeError("user_admin", "管理用户只管理用户和日志, 不分配业务功能",
                            "the administrator manages users and the log; it holds no business function")
    with store_transaction(conn=conn):
        conn.execute("UPDATE users SET functions = ? WHERE name = ?", (",".join(sorted(functions)), name))
        log_write(conn=conn, user_name=by, action="user_functions", outcome="ok",
                  detail=f"user {name} functions {','.join(sorted(functions))}")


def user_active_set(*, conn: sqlite3.Connection, name: str, active: bool, by: str) -> None:
    if _user_require(conn=conn, name=name).is_admin:
        raise ExchangeError("user_admin", "不能停用管理用户", "the administrator cannot be disabled")
    with store_transaction(conn=conn):
        conn.execute("UPDATE users SET active = ? WHERE name = ?", (int(active), name))
        if not active:
            conn.execute("DELETE FROM session WHERE user_name = ?", (name,))
        log_write(conn=conn, user_name=by, action="user_enable" if active else "user_disable",
                  outcome="ok", detail=f"user {name}")


def user_reset(*, conn: sqlite3.Connection, name: str, password: str, by: str) -> None:
    """Reset a forgotten password; the user must choose a new one at the next login."""
    _user_require(conn=conn, name=name)
    if len(password) < MIN_PASSWORD:
        raise ExchangeError("password_short", f"密码至少 {MIN_PASSWORD} 位",
                            f"the password needs at least {MIN_PASSWORD} characters")
    salt = secrets.token_bytes(16)
    with store_transaction(conn=conn):
        conn.execute("UPDATE users SET salt = ?, password_hash = ?, must_change = 1, failed_logins = 0, "
                     "locked_until = '' WHERE name = ?",
                     (salt, password_hash(password=password, salt=salt), name))
        conn.execute("DELETE FROM session WHERE user_name = ?", (name,))
        log_write(conn=conn, user_name=by, action="user_reset", outcome="ok", detail=f"user {name}")


def idle_limit() -> timedelta:
    text = os.environ.get(IDLE_ENV, "").strip()
    if not text:
        return timedelta(minutes=IDLE_MINUTES)
    if not text.isdigit() or int(text) < 1:
        raise ExchangeError("idle_setting", f"{IDLE_ENV} 须为正整数 (分钟): {text}",
                            f"{IDLE_ENV} must be a whole number of minutes ≥ 1: {text}")
    return timedelta(minutes=int(text))


def session_start(*, conn: sqlite3.Connection, name: str) -> None:
    """重新登录: one session per data folder; a new login replaces the previous user."""
    now = clock.business_now().isoformat()
    with store_transaction(conn=conn):
        conn.execute("INSERT INTO session (id, user_name, started_at, last_seen) VALUES (1, ?, ?, ?) "
                     "ON CONFLICT(id) DO UPDATE SET user_name = excluded.user_name, "
                     "started_at = excluded.started_at, last_seen = excluded.last_seen", (name, now_text(), now))
        log_write(conn=conn, user_name=name, action="login", outcome="ok")


def session_end(*, conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT user_name FROM session WHERE id = 1").fetchone()
    with store_transaction(conn=conn):
        conn.execute("DELETE FROM session")
        if row:
            log_write(conn=conn, user_name=row["user_name"], action="logout", outcome="ok")
    return row["user_name"] if row else None


def session_user(*, conn: sqlite3.Connection) -> str | None:
    """The user of the stored login, which each use keeps alive; a login idle for longer than
    the limit has expired (it is ended, logged, and the user is asked to log in again)."""
    row = conn.execute("SELECT user_name, last_seen FROM session WHERE id = 1").fetchone()
    if row is None:
        return None
    now = clock.business_now()
    seen = _instant(row["last_seen"])
    limit = idle_limit()
    if seen is not None and now - seen > limit:
        with store_transaction(conn=conn):
            conn.execute("DELETE FROM session WHERE id = 1")
            log_write(conn=conn, user_name=row["user_name"], action="session_expired", outcome="expired",
                      detail=f"idle since {seen.isoformat()}, limit {int(limit.total_seconds() // 60)} min")
        minutes = int(limit.total_seconds() // 60)
        raise ExchangeError("session_expired",
                            f"登录已超时 ({minutes} 分钟未操作), 请重新登录: payroll-client login {row['user_name']}",
                            f"the login expired after {minutes} idle minutes; log in again: "
                            f"payroll-client login {row['user_name']}")
    conn.execute("UPDATE session SET last_seen = ? WHERE id = 1", (now.isoformat(),))
    return row["user_name"]


def function_require(*, conn: sqlite3.Connection, user: User, function: str) -> None:
    """A function the user may not use is refused, and the refusal is logged."""
    if user.must_change:
        raise ExchangeError("password_change_required",
                            "首次登录(或密码被重置)须先修改密码: payroll-client login",
                            "change your password first (first login or reset): payroll-client login")
    if user.may(function):
        return
    log_write(conn=conn, user_name=user.name, action=function, outcome="refused", detail="no permission")
    if function == ADMIN_FUNCTION:
        raise ExchangeError("permission_denied", f"用户 {user.name} 不是管理用户, 无权执行此操作",
                            f"user {user.name} is not the administrator")
    zh = FUNCTIONS.get(function, function)
    raise ExchangeError("permission_denied",
                        f"用户 {user.name} 没有“{zh}”权限, 请管理员在用户管理中勾选",
                        f"user {user.name} may not use {FUNCTIONS_EN.get(function, function)}; "
                        "ask the administrator to tick it")
