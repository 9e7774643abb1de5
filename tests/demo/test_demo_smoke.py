"""The demo on the embedded default: SQLite and the filesystem broker, no PostgreSQL, no Redis.

The demo is driven as its users would: the enterprise client turns the demo's sample sheet into
an encrypted payroll file, the agent submits it at the kiosk over HTTP until it is 成功, the clock
moves to pay day and the next morning while the demo's own worker runs the two bank jobs, and the
client decrypts the return file the agent downloads.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.support.enterprise import EnterpriseClient, KioskHttp
from tests.support.processes import PYTHON, free_port, process_start, wait_until

pytestmark = pytest.mark.e2e


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  (our own loopback server)
            return response.status == 200
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); read its state to tell.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def _working_day_after(day: date) -> date:
    """The first bank working day after ``day`` (chinesecalendar where it knows the year)."""
    import chinese_calendar

    day += timedelta(days=1)
    while True:
        try:
            if chinese_calendar.is_workday(day):
                return day
        except NotImplementedError:
            if day.weekday() < 5:
                return day
        day += timedelta(days=1)


def _batch_status(var: Path, batch_id: int) -> str:
    # Read-only look at the demo's own database, the way an operator would check it.
    with sqlite3.connect(f"file:{var / 'payroll.sqlite3'}?mode=ro", uri=True) as db:
        return db.execute("SELECT status FROM payroll_payrollbatch WHERE id = ?", [batch_id]).fetchone()[0]


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_demo_runs_the_payroll_from_sheet_to_return_list_on_the_embedded_default(tmp_path):
    var = tmp_path / "var"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PAYROLL_VAR_DIR": str(var), "LANG": "C.UTF-8"}
    port = free_port()
    demo = process_start(name="demo", argv=[PYTHON, "manage.py", "demo_run", "--port", str(port)],
                         env=env, log_dir=tmp_path)
    try:
        wait_until(lambda: "Press Ctrl-C" in demo.log() or not demo.alive(), timeout=180, what="the demo to start")
        assert demo.alive(), demo.log()
        log = demo.log()
        assert f"http://127.0.0.1:{port}/" in log
        card, pin = re.search(r"服务卡: (\d+)\s+PIN 密码: (\d+)", log).groups()
        wait_until(lambda: _http_ok(f"http://127.0.0.1:{port}/healthz/"), timeout=60, what="the web server")

        demo_dir = var / "demo"
        clock = f"file:{demo_dir / 'clock.txt'}"
        # What the README's second terminal exports, and the two logins for the four-eyes review.
        assert f"Business clock 业务时钟: export BUSINESS_CLOCK={clock}" in log
        assert re.search(r"代发复核员.*: demo-clerk   password 密码: \S+", log)
        assert re.search(r"代发主管.*: demo-supervisor   password 密码: \S+", log)
        ping = subprocess.run([PYTHON, "manage.py", "worker_ping", "--timeout", "90"],
                              env=env | {"BUSINESS_CLOCK": clock}, capture_output=True, text=True, timeout=120,
                              check=False)
        assert ping.returncode == 0, ping.stderr + demo.log()
        assert "answered by demo-worker@" in ping.stdout

        # The enterprise PC: trust the bank, register the USB key, import the agreement, encrypt the sheet.
        client = EnterpriseClient(home=tmp_path / "client", usbkey_pin="135790", clock=clock)
        client.set_up(root_pem=demo_dir / "bank-root.pem", usbkey=demo_dir / "usbkey.p12",
                      agreement_package=demo_dir / "agreement-DF2026000001.pkg")
        business_today = date.fromisoformat((demo_dir / "clock.txt").read_text()[:10])
        out = tmp_path / "out"
        pay_date = business_today + timedelta(days=2)
        client.payroll_encrypt(sheet=demo_dir / "payroll.xlsx", pay_date=str(pay_date),
                               batch="DEMO0001", out=out, extra=("--remark-col", "6"))
        [encrypted] = [p for p in out.iterdir() if p.suffix not in {".pdf", ".txt"}]
        [checklist] = out.glob("*_核对清单.txt")
        # The checklist's 核对码 (the agent types it at the kiosk instead of scanning the QR).
        [code] = [line.split(": ", 1)[1] for line in checklist.read_text(encoding="utf-8").splitlines()
                  if line.startswith("核对码 Check code: ")]

        # The kiosk: swipe, PIN, upload, wait for pre-validation, confirm, wait for 成功.
        kiosk = KioskHttp(f"http://127.0.0.1:{port}")
        assert kiosk.login(card=card, pin=pin).endswith("/home/")
        batch_id = kiosk.payroll_upload(filename=encrypted.name, data=encrypted.read_bytes())
        wait_until(lambda: not kiosk.batch_status(batch_id)["busy"], timeout=120, what="pre-validation")
        status = kiosk.batch_status(batch_id)
        assert status["status"] == "awaiting_confirmation", status
        _url, page = kiosk.get(f"/payroll/{batch_id}/")
        assert "何平" in page  # the new hire, listed for confirmation
        kiosk.post(f"/payroll/{batch_id}/checklist/", {"checklist": code})
        kiosk.post(f"/payroll/{batch_id}/confirm/", {})
        wait_until(lambda: kiosk.batch_status(batch_id)["status"] == "stored", timeout=120, what="storing")
        assert kiosk.batch_status(batch_id)["label"] == "成功"

        # Pay day, then the next morning: the clock moves and the demo's worker runs the bank jobs.
        job_env = env | {"BUSINESS_CLOCK": clock}
        celery = [PYTHON, "-m", "celery", "-A", "config", "call"]
        _run([PYTHON, "manage.py", "clock_set", f"{pay_date}T03:00:00+08:00"], job_env)
        _run([*celery, "apps.ledger.tasks.payday_run"], job_env)
        wait_until(lambda: _batch_status(var, batch_id) == "paid", timeout=120, what="the pay-day job")
        _run([PYTHON, "manage.py", "clock_set", f"{pay_date + timedelta(days=1)}T03:00:00+08:00"], job_env)
        _run([*celery, "apps.returns.tasks.return_files_run"], job_env)
        wait_until(lambda: _batch_status(var, batch_id) == "returned", timeout=120, what="the return-file job")
        reconciled = _run([PYTHON, "manage.py", "reconcile"], job_env)
        assert "reconciled: no difference" in reconciled.stdout

        # The agent downloads the return file at the kiosk on the next working day.
        _run([PYTHON, "manage.py", "clock_set", f"{_working_day_after(pay_date)}T10:00:00+08:00"], job_env)
        kiosk = KioskHttp(f"http://127.0.0.1:{port}")
        assert kiosk.login(card=card, pin=pin).endswith("/home/")
        _url, page = kiosk.get("/returns/")
        assert f"/returns/{batch_id}/download/" in page
        with kiosk.opener.open(f"{kiosk.base}/returns/{batch_id}/download/", timeout=30) as response:
            (tmp_path / "return.p7m").write_bytes(response.read())

        # Back at the enterprise PC: 文件回盘. 陈静's account is frozen in the demo ledger (AC06).
        decrypted = client.run("return", str(tmp_path / "return.p7m"), "--out", str(tmp_path / "returns"))
        assert "成功 paid 16 笔" in decrypted.stdout
        assert "失败 failed 1 笔" in decrypted.stdout
        return_list = next((tmp_path / "returns").glob("*_回盘清单.txt")).read_text(encoding="utf-8")
        assert "陈静" in return_list
        assert "AC06" in return_list

        children = {name: int(pid) for name, pid in re.findall(r"(\w+)=(\d+)", log.split("Processes:")[1])}
        assert set(children) == {"web", "worker", "beat"}
        assert all(_pid_alive(pid) for pid in children.values())
    finally:
        demo.popen.send_signal(signal.SIGINT)  # what Ctrl-C sends
        demo.popen.wait(timeout=60)
    assert demo.popen.returncode == 0, demo.log()
    assert "stopped" in demo.log()
    wait_until(lambda: not any(_pid_alive(pid) for pid in children.values()), timeout=20, what="children to exit")
