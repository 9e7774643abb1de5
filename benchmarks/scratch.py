"""What every benchmark part needs around its measurement: a scratch database of its own on the
local PostgreSQL, Django set up on it, CPU time of a PostgreSQL backend, a process's peak RSS,
a free port and a wait with a deadline. One copy, so the parts cannot drift in how they measure.

Only the standard library and psycopg at import time: the worker children (payday_worker,
scale_worker) import this before Django is set up.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

import psycopg

SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# One name per process: parts run side by side (and beside the test suite) without meeting.
SCRATCH_DB = f"payroll_bench_{os.getpid()}"


def require(condition: bool, message: str) -> None:
    """A benchmark that silently measured a failure is worse than none."""
    if not condition:
        raise RuntimeError(message)


def scratch_db_create(name: str = SCRATCH_DB) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def scratch_db_drop(name: str = SCRATCH_DB) -> None:
    from django.conf import settings

    if settings.configured:  # this process's own connections first, or FORCE kills them under it
        from django.db import connections

        connections.close_all()
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_setup(private_dir: str, *, business_now: str | None) -> None:
    """The test settings on the scratch database, migrated. ``business_now`` pins the business
    clock (BUSINESS_CLOCK); None runs on the real one."""
    os.environ["DATABASE_URL"] = f"{SERVER}/{SCRATCH_DB}"
    os.environ["PRIVATE_FILES_DIR"] = private_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    if business_now is None:
        os.environ.pop("BUSINESS_CLOCK", None)
    else:
        os.environ["BUSINESS_CLOCK"] = business_now
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def backend_cpu(pid: int) -> float:
    """CPU seconds (utime + stime) of a local PostgreSQL backend, read from /proc: on a machine
    shared with other work wall time stretches, CPU time much less. NaN when the server is on
    another host or in a container, so no figure is made up."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BackendCpu:
    """The CPU seconds of this process's Django connection's backend, read again on every call."""

    def __init__(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.pid = cursor.fetchone()[0]

    def backend(self) -> float:
        return backend_cpu(self.pid)


def vm_hwm_mb(pid: int | str = "self") -> float:
    """Peak resident set (VmHWM) of a process, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], bool], *, what: str, seconds: float) -> None:
    """Poll ``check`` until it holds; a RuntimeError naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not check():
        require(time.monotonic() < deadline, f"{what}: not within {seconds} s")
        time.sleep(0.2)


def employees_copy(*, company_id: int, rows: Iterable, added_at: datetime) -> None:
    """Rows (payroll_exchange records) into the company's 员工名册 in one COPY, then ANALYZE: the
    registry a file is matched against, as a year of use leaves it."""
    from django.db import connection

    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY employees_employee (company_id, account, name, id_type, id_number, added_at, source) FROM STDIN"
        ) as copy:
            for r in rows:
                copy.write_row((company_id, r.account, r.name, r.id_type, r.id_number, added_at, "bench"))
        cursor.execute("ANALYZE")
