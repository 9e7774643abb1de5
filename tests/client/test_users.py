"""用户管理: first login, four-digit names, function ticks, the log, 重新登录."""

from __future__ import annotations

import sqlite3

from tests.client.conftest import ADMIN_PASSWORD, PASSWORDS, Client


def test_first_login_forces_a_new_password_before_anything_else(fresh_client: Client) -> None:
    # Given a new installation, when admin/admin logs in without choosing a new password
    refused = fresh_client.run("login", "admin", user=None, env={"PAYROLL_CLIENT_PASSWORD": "admin"})
    # then the login is refused and no session exists
    assert refused.returncode == 2
    assert "新密码" in refused.stderr
    assert fresh_client.run("users", "list", user=None).returncode == 2
    # and acting as admin/admin directly is refused too
    direct = fresh_client.run("users", "list", user=None,
                              env={"PAYROLL_CLIENT_USER": "admin", "PAYROLL_CLIENT_PASSWORD": "admin"})
    assert direct.returncode == 2
    assert "须先修改密码" in direct.stderr

    # When the new password equals the first one, it is refused
    same = fresh_client.run("login", "admin", user=None, env={
        "PAYROLL_CLIENT_PASSWORD": "admin", "PAYROLL_CLIENT_NEW_PASSWORD": "admin"})
    assert same.returncode == 2

    # When a new password is chosen, the session works and admin/admin no longer opens it
    fresh_client.ok("login", "admin", user=None, env={
        "PAYROLL_CLIENT_PASSWORD": "admin", "PAYROLL_CLIENT_NEW_PASSWORD": ADMIN_PASSWORD})
    assert "管理用户" in fresh_client.ok("users", "list", user=None).stdout
    again = fresh_client.run("login", "admin", user=None, env={"PAYROLL_CLIENT_PASSWORD": "admin"})
    assert again.returncode == 2
    assert "用户名或密码错误" in again.stderr


def test_user_names_are_four_digits(client: Client) -> None:
    for bad in ("12a4", "12345", "abcd", "007"):
        result = client.run("users", "add", bad, "--functions", "协议查询", user="admin",
                            env={"PAYROLL_CLIENT_NEW_PASSWORD": "good-password"})
        assert result.returncode == 2, bad
        assert "四位数字" in result.stderr
    client.ok("users", "add", "0042", "--functions", "协议查询,信息查询", user="admin",
              env={"PAYROLL_CLIENT_NEW_PASSWORD": "good-password"})
    listing = client.ok("users", "list", user="admin").stdout
    assert "0042" in listing
    assert "12a4" not in listing
    assert "协议查询, 信息查询" in listing


def test_function_ticks_are_enforced_and_refusals_logged(client: Client, out_dir) -> None:
    # 0003 holds 协议查询 only
    client.ok("agreement-query", user="0003")
    history = client.run("history", user="0003")
    assert history.returncode == 2
    assert "没有“信息查询”权限" in history.stderr
    assert "information query" in history.stderr
    encrypt = client.run("encrypt", "x.csv", "--pay-date", "2026-12-05", "--batch", "B1", "--out",
                         str(out_dir), user="0003")
    assert encrypt.returncode == 2
    assert "没有“文件加密”权限" in encrypt.stderr
    assert not out_dir.exists()
    # an ordinary user may not manage users or read the log
    assert client.run("users", "list", user="0001").returncode == 2
    assert client.run("log", user="0001").returncode == 2

    # When the administrator ticks 信息查询 for 0003, the function opens
    client.ok("users", "grant", "0003", "--functions", "协议查询,信息查询", user="admin")
    client.ok("history", user="0003")

    log = client.ok("log", user="admin").stdout
    assert "0003" in log
    assert "refused" in log
    assert "user_functions" in log


def test_disabled_user_cannot_log_in_and_reset_forces_a_change(client: Client) -> None:
    client.ok("users", "disable", "0003", user="admin")
    result = client.run("agreement-query", user="0003")
    assert result.returncode == 2
    assert "停用" in result.stderr
    client.ok("users", "enable", "0003", user="admin")
    client.ok("users", "reset", "0003", user="admin", env={"PAYROLL_CLIENT_NEW_PASSWORD": "temp-pass-1"})
    forced = client.run("agreement-query", user="0003", env={"PAYROLL_CLIENT_PASSWORD": "temp-pass-1"})
    assert forced.returncode == 2
    assert "修改密码" in forced.stderr
    client.ok("login", "0003", user=None, env={"PAYROLL_CLIENT_PASSWORD": "temp-pass-1",
                                               "PAYROLL_CLIENT_NEW_PASSWORD": "new-pass-03"})
    client.ok("agreement-query", user=None)


def test_relogin_switches_user(client: Client) -> None:
    client.ok("login", "0003", user=None, env={"PAYROLL_CLIENT_PASSWORD": PASSWORDS["0003"]})
    assert client.run("history", user=None).returncode == 2
    client.ok("login", "0001", user=None, env={"PAYROLL_CLIENT_PASSWORD": PASSWORDS["0001"]})
    client.ok("history", user=None)
    client.ok("logout", user=None)
    assert "请先登录" in client.run("history", user=None).stderr


def test_every_action_is_logged_with_user_and_time_and_no_password(client: Client) -> None:
    client.ok("agreement-query", user="0003")
    client.run("history", user="0003")
    log = client.ok("log", user="admin").stdout
    lines = [line for line in log.splitlines() if " 0003 " in line]
    assert any("info_query" in line and "refused" in line for line in lines)
    assert all(line[:4] == "2026" or line[:2] == "20" for line in lines)
    # passwords appear nowhere in the store, hashed or not
    raw = (client.home / "client.sqlite3").read_bytes()
    for password in (*PASSWORDS.values(), ADMIN_PASSWORD):
        assert password.encode() not in raw
    with sqlite3.connect(client.home / "client.sqlite3") as conn:
        details = " ".join(r[0] for r in conn.execute("SELECT detail FROM action_log"))
    assert "pw" not in details


def at(minutes: int) -> dict[str, str]:
    """The business clock, ``minutes`` after the suite's pinned 10:00 (Shanghai)."""
    hour, minute = divmod(minutes, 60)
    return {"BUSINESS_CLOCK": f"2026-12-01T{10 + hour:02d}:{minute:02d}:00+08:00"}


def test_a_user_the_administrator_creates_must_change_the_password_at_first_login(client: Client) -> None:
    client.ok("users", "add", "0042", "--functions", "协议查询", user="admin",
              env={"PAYROLL_CLIENT_NEW_PASSWORD": "given-by-admin"})
    as_new = {"PAYROLL_CLIENT_USER": "0042", "PAYROLL_CLIENT_PASSWORD": "given-by-admin"}
    forced = client.run("agreement-query", user=None, env=as_new)
    assert forced.returncode == 2
    assert "须先修改密码" in forced.stderr
    # the temporary password may not be kept as the new one
    same = client.run("login", "0042", user=None, env={"PAYROLL_CLIENT_PASSWORD": "given-by-admin",
                                                       "PAYROLL_CLIENT_NEW_PASSWORD": "given-by-admin"})
    assert same.returncode == 2
    assert "临时密码" in same.stderr
    client.ok("login", "0042", user=None, env={"PAYROLL_CLIENT_PASSWORD": "given-by-admin",
                                               "PAYROLL_CLIENT_NEW_PASSWORD": "mine-0042"})
    client.ok("agreement-query", user=None)
    assert client.run("agreement-query", user=None, env=as_new).returncode == 2  # the old one is gone


def test_five_wrong_passwords_lock_the_user_for_fifteen_minutes(client: Client) -> None:
    wrong = {"PAYROLL_CLIENT_PASSWORD": "not-my-password"}
    for attempt in range(1, 5):
        result = client.run("agreement-query", user="0003", env={**wrong, **at(attempt)})
        assert result.returncode == 2
        assert "用户名或密码错误" in result.stderr, attempt
    fifth = client.run("agreement-query", user="0003", env={**wrong, **at(5)})
    assert fifth.returncode == 2
    assert "已锁定至 10:20" in fifth.stderr
    # locked: even the right password is refused until 10:20, then it opens again
    locked = client.run("agreement-query", user="0003", env=at(19))
    assert locked.returncode == 2
    assert "user_locked" in locked.stderr
    client.ok("agreement-query", user="0003", env=at(21))
    log = client.ok("log", user="admin").stdout
    assert "user_locked" in log
    assert "locked until 2026-12-01T10:20:00+08:00" in log
    assert "wrong name or password (4)" in log


def test_a_right_password_resets_the_count_and_other_users_are_not_locked(client: Client) -> None:
    wrong = {"PAYROLL_CLIENT_PASSWORD": "not-my-password"}
    for attempt in range(4):
        assert client.run("agreement-query", user="0003", env={**wrong, **at(attempt)}).returncode == 2
    client.ok("agreement-query", user="0003", env=at(4))
    for _ in range(4):  # four more: still not locked, the count started again
        assert "用户名或密码错误" in client.run("agreement-query", user="0003", env={**wrong, **at(5)}).stderr
    client.ok("agreement-query", user="0001", env=at(5))


def test_admin_reset_unlocks(client: Client) -> None:
    wrong = {"PAYROLL_CLIENT_PASSWORD": "not-my-password"}
    for _ in range(5):
        client.run("agreement-query", user="0003", env=wrong)
    assert "user_locked" in client.run("agreement-query", user="0003").stderr
    client.ok("users", "reset", "0003", user="admin", env={"PAYROLL_CLIENT_NEW_PASSWORD": "temp-pass-3"})
    client.ok("login", "0003", user=None, env={"PAYROLL_CLIENT_PASSWORD": "temp-pass-3",
                                               "PAYROLL_CLIENT_NEW_PASSWORD": "new-pass-03"})


def test_a_login_expires_after_fifteen_idle_minutes(client: Client) -> None:
    client.ok("login", "0001", user=None, env={"PAYROLL_CLIENT_PASSWORD": PASSWORDS["0001"], **at(0)})
    client.ok("history", user=None, env=at(14))
    client.ok("history", user=None, env=at(28))  # each use keeps it alive
    expired = client.run("history", user=None, env=at(44))
    assert expired.returncode == 2
    assert "登录已超时 (15 分钟未操作)" in expired.stderr
    assert "请先登录" in client.run("history", user=None, env=at(45)).stderr
    assert "session_expired" in client.ok("log", user="admin").stdout


def test_idle_limit_is_configurable(client: Client) -> None:
    five = {"PAYROLL_CLIENT_IDLE_MINUTES": "5"}
    client.ok("login", "0001", user=None, env={"PAYROLL_CLIENT_PASSWORD": PASSWORDS["0001"], **at(0), **five})
    client.ok("history", user=None, env={**at(5), **five})
    assert "5 分钟未操作" in client.run("history", user=None, env={**at(11), **five}).stderr
    client.ok("login", "0001", user=None, env={"PAYROLL_CLIENT_PASSWORD": PASSWORDS["0001"]})
    bad = client.run("history", user=None, env={"PAYROLL_CLIENT_IDLE_MINUTES": "0"})
    assert bad.returncode == 2
    assert "PAYROLL_CLIENT_IDLE_MINUTES" in bad.stderr


def test_a_store_written_by_the_previous_client_is_migrated_in_place(tmp_path) -> None:
    from payroll_client import store

    home = tmp_path / "old"
    home.mkdir()
    with sqlite3.connect(home / store.DB_NAME) as old:
        old.executescript(store.SCHEMA)  # the first release's tables, user_version 0
        old.execute("INSERT INTO files_made (kind, agreement_no, record_count, digest, operator, path, made_at) "
                    "VALUES ('payroll', 'DF1', 3, 'ab', '0001', '/x', '2026-11-30T10:00:00+08:00')")
        old.execute("INSERT INTO session (id, user_name, started_at) VALUES (1, '0001', 'x')")
    old.close()

    conn = store.store_open(data_dir=home)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS)
    [row] = store.files_made_list(conn=conn)
    assert (row["agreement_no"], row["record_count"], row["sheet_name"], row["hidden_rows"]) == ("DF1", 3, "", "")
    assert conn.execute("SELECT user_name, last_seen FROM session").fetchone()[:] == ("0001", "")
    user_columns = {r["name"] for r in conn.execute("PRAGMA table_info(users)")}
    assert {"failed_logins", "locked_until"} <= user_columns
    conn.close()
    store.store_open(data_dir=home).close()  # opening again changes nothing


def test_a_reviewer_who_never_logged_in_is_told_to_change_the_password_first(client: Client, tmp_path) -> None:
    from tests.client.sheets_make import csv_bytes, payroll_rows
    from tests.client.test_payroll import encrypt

    client.ok("users", "add", "0005", "--functions", "文件加密", user="admin",
              env={"PAYROLL_CLIENT_NEW_PASSWORD": "given-by-admin"})
    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(2)))
    result = encrypt(client, sheet, tmp_path / "out", env={"PAYROLL_CLIENT_REVIEWER": "0005",
                                                           "PAYROLL_CLIENT_REVIEWER_PASSWORD": "given-by-admin"})
    assert result.returncode == 2
    assert "review_password_change" in result.stderr
    assert "payroll-client login 0005" in result.stderr
    assert not (tmp_path / "out").exists()
