"""Fixtures of the fault suite: a Redis per module that tests may stop, workers and beat on it.

Everything runs with the production intervals (config/settings/base.py): nothing is shortened.
"""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

import pytest

from tests.conftest import worker_env
from tests.faults.harness import RedisServer, beat_start, celery_broker, worker_start


@pytest.fixture(scope="module")
def broker(session_dir: Path):
    """A Redis of this module's own, with this process's Celery app publishing to it."""
    server = RedisServer(log_dir=session_dir)
    server.start()
    with celery_broker(server.url):
        yield server
    server.stop()


@pytest.fixture
def fault_env(broker: RedisServer, business_clock) -> dict[str, str]:
    """What worker and beat processes of one test need: its database, this broker, a queue of
    the test's own (the services publish to settings' default queue: the same name)."""
    from django.conf import settings

    return worker_env() | {"CELERY_BROKER_URL": broker.url, "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE}


@pytest.fixture
def broker_queue_empty(broker: RedisServer):
    """Each test starts with nothing queued (a killed test's leftovers would run in the next)."""
    import redis

    client = redis.Redis.from_url(broker.url)
    client.flushall()
    client.close()


@pytest.fixture
def workers(fault_env: dict[str, str], session_dir: Path, broker_queue_empty):
    """Start real workers with ``workers.start()``; every one still running is killed at the end."""

    class Workers:
        def __init__(self) -> None:
            self.started = []

        def start(self, *, concurrency: int = 1, env: dict[str, str] | None = None):
            proc = worker_start(env=env or fault_env, log_dir=session_dir, concurrency=concurrency)
            self.started.append(proc)
            return proc

    pool = Workers()
    yield pool
    for proc in pool.started:
        proc.stop(sig=signal.SIGKILL)
        # Shown with a failing test's captured output: what each worker did.
        print(f"--- {proc.log_path.name} (last lines)\n" + "\n".join(proc.log().splitlines()[-25:]))


@pytest.fixture
def beat(fault_env: dict[str, str], session_dir: Path, broker_queue_empty):
    """Celery beat with the production schedule (the sweeper every INTAKE_SWEEP_SECONDS)."""
    proc = beat_start(env=fault_env, log_dir=session_dir)
    yield proc
    proc.stop()


@pytest.fixture
def unique_no() -> str:
    return uuid.uuid4().hex[:6].upper()
