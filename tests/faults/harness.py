"""The fault suite's harness: a Redis of its own that a test can stop and start, real worker and
beat processes pointed at it, and waits that poll the database with a deadline (never a sleep
as synchronisation).

Every process started here is ended by its pid (its own session: the prefork children too).
"""

from __future__ import annotations

import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from config.queues import queue_names
from tests.support.processes import PYTHON, Process, free_port, process_start, wait_until

# Every fault test ends within this of the fault being cleared (the issue: ≤ 60 s with the
# production intervals: sweep every 15 s, a claim stale 30 s after its last heartbeat).
RECOVERY_LIMIT = 60


@dataclass
class RedisServer:
    """``redis-server`` on a port of its own, without persistence: stopping it loses every queued
    message, as a broker that crashed would."""

    log_dir: Path
    port: int = field(default_factory=free_port)
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = process_start(name="redis", argv=argv, env={}, log_dir=self.log_dir)
        wait_until(self.answers, timeout=20, what=f"redis-server on port {self.port}")

    def answers(self) -> bool:
        if self.process is None or not self.process.alive():
            return False
        try:
            client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(sig=signal.SIGKILL)
            self.process = None


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (what the services publish with) at ``url``."""
    from kombu import pools

    from config.celery import app

    def use(value: str) -> None:
        # broker_write_url and broker_read_url were resolved from broker_url when configured.
        app.conf.update(broker_url=value, broker_write_url=value, broker_read_url=value)
        # The connection and producer pools are made once from the URL: drop them. kombu keeps its
        # pools in a registry keyed by the connection: close *and* forget them (pools.reset), or the
        # closed pool comes back for the same URL and every later publish in this process fails.
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    use(url)
    try:
        yield
    finally:
        use(previous)


def worker_start(*, env: dict[str, str], log_dir: Path, concurrency: int = 1, timeout: float = 90) -> Process:
    """A real Celery worker on the test's queue."""
    node = f"fault-{uuid.uuid4().hex[:8]}@%h"
    # Every queue of the test (the default one and each stage's, config/queues.py).
    argv = [PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(queue_names(default=env["CELERY_QUEUE"])),
            "-n", node,
            "--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
    proc = process_start(name="worker", argv=argv, env=env, log_dir=log_dir)

    def ready() -> bool:
        if not proc.alive():
            raise RuntimeError(f"worker exited early:\n{proc.log()}")
        return " ready." in proc.log()

    wait_until(ready, timeout=timeout, what="the Celery worker to be ready")
    return proc


def beat_start(*, env: dict[str, str], log_dir: Path) -> Process:
    """Celery beat with the production schedule from the code (config/schedule.py), kept in a
    file of its own rather than the test database's tables, which each test empties."""
    schedule = log_dir / f"beat-{uuid.uuid4().hex[:6]}"
    argv = [PYTHON, "-m", "celery", "-A", "config", "beat", "--scheduler", "celery.beat:PersistentScheduler",
            "--schedule", str(schedule), "--pidfile", f"{schedule}.pid", "--loglevel", "INFO"]
    proc = process_start(name="beat", argv=argv, env=env, log_dir=log_dir)
    wait_until(lambda: "beat: Starting" in proc.log() or not proc.alive(), timeout=60, what="beat to start")
    if not proc.alive():
        raise RuntimeError(f"beat exited early:\n{proc.log()}")
    return proc


# -- the database, from the test's side -----------------------------------------------------------


def blocker_connect() -> psycopg.Connection:
    """A connection of the test's own, outside Django's, to hold locks the worker will wait on."""
    db = connection.settings_dict
    return psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])


def backends(*, query_like: str = "%", blocked_by: psycopg.Connection | None = None) -> list[int]:
    """Pids of other sessions on this database running a statement that matches ``query_like``
    (ILIKE; pg_stat_activity keeps only the first 1 kB of it), optionally only those waiting,
    directly or behind another waiter, on a lock that the test's ``blocked_by`` connection holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, pg_blocking_pids(pid), query ILIKE %s FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'",
            [query_like],
        )
        sessions = cursor.fetchall()
    if blocked_by is None:
        return [pid for pid, _blockers, matches in sessions if matches]
    # A second waiter for one row waits on the first waiter's tuple lock, not on the holder.
    behind = {blocked_by.info.backend_pid}
    grew = True
    while grew:
        grew = False
        for pid, blockers, _matches in sessions:
            if pid not in behind and behind.intersection(blockers):
                behind.add(pid)
                grew = True
    return [pid for pid, _blockers, matches in sessions if matches and pid in behind]


def backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


def wait_for_backend(*, blocked_by: psycopg.Connection, query_like: str = "%", count: int = 1,
                     timeout: float = 90, what: str) -> list[int]:
    """Poll pg_stat_activity until ``count`` sessions wait on the test's lock in the statement;
    return their pids."""
    found: list[int] = []

    def seen() -> bool:
        found[:] = backends(query_like=query_like, blocked_by=blocked_by)
        return len(found) >= count

    wait_until(seen, timeout=timeout, interval=0.05, what=what)
    return found


def timed_wait(predicate: Callable[[], bool], *, since: float, limit: float = RECOVERY_LIMIT,
               what: str) -> float:
    """Wait for ``predicate`` (polling the database); return the seconds since ``since``, which
    must stay within ``limit``. Waits a little longer than the limit so a miss reports its time."""
    wait_until(predicate, timeout=limit + 30 - (time.monotonic() - since), interval=0.2, what=what)
    elapsed = time.monotonic() - since
    print(f"recovery: {what}: {elapsed:.1f} s")
    assert elapsed <= limit, f"{what} took {elapsed:.1f} s (limit {limit} s)"
    return elapsed


# -- the checks every fault test ends with --------------------------------------------------------


def reconcile_clean() -> None:
    """``manage.py reconcile`` finds no difference (it raises CommandError on one)."""
    call_command("reconcile")


def batch_stored_once(*, batch_id: int, rows: int) -> None:
    """Exactly once: every row of the file stored, once each; at most one posting."""
    from apps.ledger.models import JournalEntry
    from apps.payroll.models import PayrollBatch, PayrollRow

    batch = PayrollBatch.objects.get(pk=batch_id)
    stored = PayrollRow.objects.filter(batch_id=batch_id)
    assert (batch.record_count, stored.count(), stored.values("seq").distinct().count()) == (rows, rows, rows)
    assert JournalEntry.objects.filter(batch_id=batch_id).values("txn_id").distinct().count() <= 1


def batch_paid_once(*, batch_id: int, paid_rows: int) -> None:
    """One posting: one transaction, one credit per paid row."""
    from apps.ledger.models import JournalEntry

    entries = JournalEntry.objects.filter(batch_id=batch_id)
    assert entries.values("txn_id").distinct().count() == 1
    credits = entries.filter(kind="payroll", side="C")
    assert credits.count() == paid_rows
    assert credits.values("row_seq").annotate(n=Count("id")).filter(n__gt=1).count() == 0


# -- files through the platform -------------------------------------------------------------------


def batch_status(batch_id: int) -> str:
    from apps.payroll.models import PayrollBatch

    return PayrollBatch.objects.values_list("status", flat=True).get(pk=batch_id)


def log_count(proc: Process, text: str) -> int:
    return proc.log().count(text)


def sweeps_sent(beat: Process) -> int:
    """How many times beat has sent the sweeper so far."""
    return log_count(beat, "Sending due task intake-sweep")
