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
