"""Pay-day runs are recorded and locked; a run whose worker is gone is started again by the
recovery sweep, a run whose worker is alive is left alone (real PostgreSQL, a second connection
standing in for the live worker)."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from django.db import connection

from apps.ledger import payday_recovery
from apps.ledger.models import PaydayRun
from apps.ledger.payday_recovery import _LOCK_CLASS, payday_recover, payday_run_recorded

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def started(monkeypatch):
    """What the sweep asks the broker to start, recorded instead of published."""
    calls = []
    from apps.ledger import tasks

    monkeypatch.setattr(tasks.payday_run_task, "apply_async", lambda **kw: calls.append(kw))
    return calls


def _other_connection() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432,
                           user=settings["USER"], dbname=settings["NAME"], autocommit=True)


def test_a_run_is_recorded_done_and_leaves_no_lock(started):
    payday_run_recorded(today=date(2026, 12, 1))
    (run,) = PaydayRun.objects.all()
    assert run.outcome == PaydayRun.Outcome.DONE
    assert run.finished_at is not None
    with _other_connection() as other:
        assert other.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, run.pk]).fetchone()[0]
    assert payday_recover() == []
    assert started == []


def test_an_unfinished_run_whose_worker_is_gone_is_started_again_once(started):
    run = PaydayRun.objects.create()  # what a SIGKILLed worker leaves: the row, no lock holder
    assert payday_recover() == [run.pk]
    run.refresh_from_db()
    assert run.outcome == PaydayRun.Outcome.ABANDONED
    assert run.finished_at is not None
    assert started == [{"retry": False}]
    # A second sweep finds nothing left to recover and starts nothing more.
    assert payday_recover() == []
    assert started == [{"retry": False}]


def test_a_run_whose_worker_still_holds_the_lock_is_left_alone(started):
    run = PaydayRun.objects.create()
    with _other_connection() as worker:
        worker.execute("SELECT pg_advisory_lock(%s, %s)", [_LOCK_CLASS, run.pk])
        assert payday_recover() == []
        run.refresh_from_db()
        assert run.outcome == PaydayRun.Outcome.RUNNING
        assert run.finished_at is None
        assert started == []
    # The worker's connection ended (as a killed worker's does): now it is recovered.
    assert payday_recover() == [run.pk]


def test_a_run_that_raises_is_still_recorded_as_finished(monkeypatch, started):
    def broken(*, today):
        raise RuntimeError("database went away")

    monkeypatch.setattr(payday_recovery, "payday_run", broken)
    with pytest.raises(RuntimeError):
        payday_run_recorded(today=date(2026, 12, 1))
    (run,) = PaydayRun.objects.all()
    assert run.outcome == PaydayRun.Outcome.DONE
    assert payday_recover() == []
    assert started == []
