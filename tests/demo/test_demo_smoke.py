"""The demo on the embedded default: SQLite and the filesystem broker, no PostgreSQL, no Redis."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import urllib.request

import pytest

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


def test_demo_seeds_serves_and_runs_a_task_through_its_own_worker(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PAYROLL_VAR_DIR": str(tmp_path / "var"),
           "LANG": "C.UTF-8"}
    port = free_port()
    demo = process_start(name="demo", argv=[PYTHON, "manage.py", "demo_run", "--port", str(port)],
                         env=env, log_dir=tmp_path)
    try:
        wait_until(lambda: "Press Ctrl-C" in demo.log() or not demo.alive(), timeout=180, what="the demo to start")
        assert demo.alive(), demo.log()
        assert f"http://127.0.0.1:{port}/" in demo.log()
        wait_until(lambda: _http_ok(f"http://127.0.0.1:{port}/healthz/"), timeout=60, what="the web server")

        clock_file = tmp_path / "var" / "demo" / "clock.txt"
        assert clock_file.exists()
        ping = subprocess.run(
            [PYTHON, "manage.py", "worker_ping", "--timeout", "90"],
            env=env | {"BUSINESS_CLOCK": f"file:{clock_file}"},
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert ping.returncode == 0, ping.stderr + demo.log()
        assert "answered by demo-worker@" in ping.stdout
        assert (tmp_path / "var" / "payroll.sqlite3").exists()

        children = {name: int(pid) for name, pid in re.findall(r"(\w+)=(\d+)", demo.log().split("Processes:")[1])}
        assert set(children) == {"web", "worker", "beat"}
        assert all(_pid_alive(pid) for pid in children.values())
    finally:
        demo.popen.send_signal(signal.SIGINT)  # what Ctrl-C sends
        demo.popen.wait(timeout=60)
    assert demo.popen.returncode == 0, demo.log()
    assert "stopped" in demo.log()
    wait_until(lambda: not any(_pid_alive(pid) for pid in children.values()), timeout=20, what="children to exit")
