"""One worker does the work; nothing loops: claim, attempts cap, error (系统处理失败), sweeper."""

from __future__ import annotations

import logging
import threading

import pytest
from django.db import connection
from django.db.models.functions import Now

from apps.core.models import AuditEvent
from apps.intake import work as intake_work
from apps.intake.kinds import file_kind
from apps.intake.sweeper import intake_sweep
from apps.intake.work import DONE, DUPLICATE, FAILED, GAVE_UP, NOTHING, intake_work_run
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import payroll_batch_prevalidate, payroll_prevalidate_step
from payroll_exchange.errors import ExchangeError
from tests.factories import payroll_rows

pytestmark = pytest.mark.django_db

PAYROLL = file_kind("payroll")


def state(batch: PayrollBatch) -> tuple:
    return PayrollBatch.objects.values_list("status", "attempts", "claim_token", "system_error").get(pk=batch.pk)


@pytest.fixture
def failing_step(monkeypatch):
    """The validating step raises something other than ExchangeError, every time."""
    runs = []

    def step(work):
        runs.append(work.token)
        raise RuntimeError("prepared file vanished")

    monkeypatch.setitem(PAYROLL.steps, BatchStatus.VALIDATING, step)
    return runs


def stale(batch: PayrollBatch, seconds: int = 31) -> None:
    """The heartbeat as it is ``seconds`` after the last beat: what a dead worker leaves."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE payroll_payrollbatch SET heartbeat_at = now() - make_interval(secs => %s)"
                       " WHERE id = %s", [seconds, batch.pk])


def test_a_claimed_batch_is_not_worked_twice(submitted, monkeypatch):
    batch = submitted()
    PayrollBatch.objects.filter(pk=batch.pk).update(claim_token="x" * 32, heartbeat_at=Now(), attempts=1)
    before = PayrollBatch.objects.filter(pk=batch.pk).values().get()

    assert intake_work_run(kind="payroll", pk=batch.pk) == DUPLICATE

    assert PayrollBatch.objects.filter(pk=batch.pk).values().get() == before  # returned at once, nothing touched


def test_a_finished_step_releases_the_claim_and_resets_the_attempts(submitted):
    batch = submitted()
    assert payroll_batch_prevalidate(batch_id=batch.pk) is True
    assert state(batch) == (BatchStatus.AWAITING_CONFIRMATION, 0, "", "")
    assert intake_work_run(kind="payroll", pk=batch.pk) == NOTHING  # not a working state any more


def test_any_other_exception_is_an_attempt_and_after_three_the_batch_is_error(submitted, failing_step, caplog):
    batch = submitted()
    for attempt in (1, 2):
        assert intake_work_run(kind="payroll", pk=batch.pk) == FAILED
        assert state(batch) == (BatchStatus.VALIDATING, attempt, "", "RuntimeError: prepared file vanished")
        # Released with a stale heartbeat: the next sweep requeues it, no waiting for the stale timeout.
        assert intake_sweep() == [("payroll", batch.pk)]

    with caplog.at_level(logging.ERROR, logger="apps.intake.work"):
        assert intake_work_run(kind="payroll", pk=batch.pk) == GAVE_UP

    batch.refresh_from_db()
    assert (batch.status, batch.attempts, batch.error_from, batch.system_error) == (
        BatchStatus.ERROR, 3, BatchStatus.VALIDATING, "RuntimeError: prepared file vanished")
    assert len(failing_step) == 3
    assert [r.levelname for r in caplog.records if "now error" in r.getMessage()] == ["ERROR"]
    assert AuditEvent.objects.get(action="payroll_error").detail == {
        "from": "validating", "attempts": 3, "reason": "RuntimeError: prepared file vanished"}
    # Terminal: no further runs, the sweeper leaves it alone.
    assert intake_work_run(kind="payroll", pk=batch.pk) == NOTHING
    assert intake_sweep() == []
    assert len(failing_step) == 3


def test_an_exchange_error_makes_the_file_invalid_at_once(submitted, monkeypatch):
    batch = submitted()

    def step(work):
        raise ExchangeError("envelope_unreadable", "文件无法打开。", "The file cannot be opened.")

    monkeypatch.setitem(PAYROLL.steps, BatchStatus.VALIDATING, step)
    assert intake_work_run(kind="payroll", pk=batch.pk) == DONE
    batch.refresh_from_db()
    assert (batch.status, batch.refusal_code, batch.error_count, batch.attempts) == (
        BatchStatus.INVALID, "envelope_unreadable", 1, 0)
    assert intake_sweep() == []  # never requeued


def test_a_stale_claim_counts_as_an_attempt_and_the_third_makes_error(submitted):
    batch = submitted()
    # A worker claimed it three times and died each time (SIGKILL, OOM, lost connection).
    PayrollBatch.objects.filter(pk=batch.pk).update(claim_token="d" * 32, attempts=3)
    stale(batch, seconds=29)
    assert intake_sweep() == []  # 29 s without a heartbeat: still its worker's
    stale(batch, seconds=31)
    assert intake_sweep() == []
    batch.refresh_from_db()
    assert (batch.status, batch.error_from) == (BatchStatus.ERROR, BatchStatus.VALIDATING)
    assert batch.system_error.startswith("ClaimStale: no heartbeat for 30 s")


def test_a_stale_claim_with_attempts_left_is_requeued_and_taken_over(submitted):
    batch = submitted()
    PayrollBatch.objects.filter(pk=batch.pk).update(claim_token="d" * 32, attempts=1)
    stale(batch)
    assert intake_sweep() == [("payroll", batch.pk)]
    assert intake_sweep() == []  # requeued once per round: the sweep renewed the heartbeat
    assert payroll_batch_prevalidate(batch_id=batch.pk) is True
    assert state(batch) == (BatchStatus.AWAITING_CONFIRMATION, 0, "", "")


def test_the_sweeper_waits_for_the_normal_delivery_first(submitted):
    batch = submitted()  # heartbeat set at upload
    assert intake_sweep() == []
    stale(batch)  # the task never arrived (broker lost it, or was down)
    assert intake_sweep() == [("payroll", batch.pk)]


def test_error_frees_the_batch_number_and_the_file(submitted, failing_step, monkeypatch):
    batch = submitted()
    PayrollBatch.objects.filter(pk=batch.pk).update(attempts=2)
    assert intake_work_run(kind="payroll", pk=batch.pk) == GAVE_UP
    monkeypatch.setitem(PAYROLL.steps, BatchStatus.VALIDATING, payroll_prevalidate_step)  # the real step again
    again = submitted()  # the same file, the same batch number
    assert payroll_batch_prevalidate(batch_id=again.pk) is True
    again.refresh_from_db()
    assert again.status == BatchStatus.AWAITING_CONFIRMATION


@pytest.mark.django_db(transaction=True)
def test_ten_deliveries_at_once_do_the_work_once(submitted, monkeypatch):
    batch = submitted(rows=payroll_rows(50))
    started = threading.Barrier(10)
    inside = threading.Event()
    release = threading.Event()
    steps = []
    real_step = PAYROLL.steps[BatchStatus.VALIDATING]

    def step(work):
        steps.append(work.token)
        inside.set()
        assert release.wait(30)  # held inside the step until every other delivery has returned
        return real_step(work)

    monkeypatch.setitem(PAYROLL.steps, BatchStatus.VALIDATING, step)
    outcomes = []

    def deliver():
        try:
            started.wait(10)
            outcomes.append(intake_work_run(kind="payroll", pk=batch.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for t in threads:
        t.start()
    assert inside.wait(30)
    # Nine deliveries return at once while the first is still inside its step.
    deadline = threading.Event()
    for _ in range(300):
        if len(outcomes) == 9:
            break
        deadline.wait(0.1)
    assert sorted(outcomes) == [DUPLICATE] * 9
    release.set()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == sorted([DONE] + [DUPLICATE] * 9)
    assert len(steps) == 1
    assert state(batch) == (BatchStatus.AWAITING_CONFIRMATION, 0, "", "")


def test_the_reason_kept_is_class_and_message_only(submitted, monkeypatch):
    batch = submitted()

    def step(work):
        raise KeyError("x" * 900)

    monkeypatch.setitem(PAYROLL.steps, BatchStatus.VALIDATING, step)
    intake_work_run(kind="payroll", pk=batch.pk)
    reason = PayrollBatch.objects.values_list("system_error", flat=True).get(pk=batch.pk)
    assert reason.startswith("KeyError: 'xxx")
    assert len(reason) == 500
    assert "Traceback" not in reason


def test_stale_after_is_the_production_interval(settings):
    assert (settings.INTAKE_SWEEP_SECONDS, settings.INTAKE_STALE_SECONDS, settings.INTAKE_MAX_ATTEMPTS) == (15, 30, 3)
    assert intake_work.stale_after().total_seconds() == 30
    assert settings.CELERY_BEAT_SCHEDULE["intake-sweep"]["schedule"] == 15


def test_a_raw_exception_while_opening_the_envelope_is_recorded_never_a_loop(submitted, monkeypatch):
    """What a certificate cryptography refuses with its own exception type did before the core
    mapped it: here any such escape is an attempt, and the third makes error."""
    from cryptography import x509

    from apps.intake import opening

    def poison(**kwargs):
        raise x509.DuplicateExtension("duplicate extension", x509.ObjectIdentifier("2.5.29.19"))

    monkeypatch.setattr(opening, "envelope_open", poison)
    batch = submitted()
    outcomes = [intake_work_run(kind="payroll", pk=batch.pk) for _ in range(4)]
    assert outcomes == [FAILED, FAILED, GAVE_UP, NOTHING]
    batch.refresh_from_db()
    assert (batch.status, batch.system_error) == (BatchStatus.ERROR, "DuplicateExtension: duplicate extension")


def test_a_worker_that_starts_sweeps(monkeypatch):
    from apps.intake import signals, tasks

    sent = []
    monkeypatch.setattr(tasks.intake_sweep_task, "apply_async", lambda **kwargs: sent.append(kwargs))
    signals.sweep_on_worker_start(sender=None)
    assert sent == [{"retry": False}]
