"""Fixtures shared by the whole suite.

Tests that need the business clock ask for ``business_clock``; the clock lives in a file
named by BUSINESS_CLOCK so worker processes started by the tests read the same instant.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

import pytest

from payroll_exchange.clock import BUSINESS_TZ, ENV_VAR, clock_write

# Tuesday 1 December 2026, 10:00 in Shanghai: a bank working day, inside service hours.
DEFAULT_BUSINESS_NOW = datetime(2026, 12, 1, 10, 0, tzinfo=BUSINESS_TZ)
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="payroll-tests-"))
CLOCK_PATH = _SESSION_DIR / "clock.txt"


class BusinessClock:
    path = CLOCK_PATH

    def set(self, instant: datetime) -> None:
        clock_write(self.path, instant)

    @property
    def env_value(self) -> str:
        return f"file:{self.path}"


@pytest.fixture
def business_clock(monkeypatch: pytest.MonkeyPatch) -> BusinessClock:
    clock = BusinessClock()
    clock.set(DEFAULT_BUSINESS_NOW)
    monkeypatch.setenv(ENV_VAR, clock.env_value)
    return clock


@pytest.fixture(autouse=True)
def _shared_cache_empty():
    """Each test starts with an empty shared cache (the kiosk login limit counts there): only this
    run's keys (its own KEY_PREFIX) are deleted, never another run's."""
    from django.conf import settings

    cache = settings.CACHES["default"]
    if cache["BACKEND"].endswith("RedisCache"):
        import redis

        client = redis.Redis.from_url(cache["LOCATION"])
        keys = list(client.scan_iter(match=f"{cache.get('KEY_PREFIX', '')}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(scope="session")
def session_dir() -> Path:
    return _SESSION_DIR


pytest_plugins = ["tests.fixtures.pki", "tests.factories"]


def worker_env() -> dict[str, str]:
    """What a worker process started by a test needs to share this test run's database,
    broker queue, private files and business clock."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = os.environ.copy()
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_QUEUE=settings.CELERY_TASK_DEFAULT_QUEUE,
        BUSINESS_CLOCK=f"file:{CLOCK_PATH}",
        PRIVATE_FILES_DIR=str(settings.PRIVATE_FILES_DIR),
    )
    if not CLOCK_PATH.exists():
        clock_write(CLOCK_PATH, DEFAULT_BUSINESS_NOW)
    return env


@pytest.fixture(scope="module")
def live_worker(django_db_setup, django_db_blocker, session_dir: Path):
    """A real Celery worker process consuming from Redis and writing to the test database.
    One per test module, so a module may kill its worker without touching another's."""
    from django.conf import settings

    from tests.support.processes import celery_worker_start

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    worker = celery_worker_start(env=worker_env(), queue=queue, log_dir=session_dir)
    worker.extra["queue"] = queue
    yield worker
    worker.stop()
