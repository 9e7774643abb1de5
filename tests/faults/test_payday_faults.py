"""Pay day under faults: two runs at once pay once; a worker killed at each point of posting leaves
nothing of the batch, and the next run pays it exactly once. Real workers, PostgreSQL, a Redis of
the module's own."""

from __future__ import annotations

import signal
import time
from datetime import date
from decimal import Decimal

import pytest

from apps.ledger.models import JournalEntry, PaydayRun
from apps.ledger.services import ledger_fee_income_account
from apps.ledger.tasks import payday_run_task
from apps.payroll.models import BatchStatus, PayrollBatch
from tests.faults.harness import (
    backend_gone,
    backends,
    batch_paid_once,
    blocker_connect,
    reconcile_clean,
    timed_wait,
    wait_for_backend,
)
from tests.ledger.factories import funded_batch_make
from tests.support.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROWS = 2000
PAY_DATE = date(2026, 12, 1)  # the business clock's day


def _status(batch_id: int) -> str:
    return PayrollBatch.objects.values_list("status", flat=True).get(pk=batch_id)


@pytest.fixture
def due_batch(enterprise_a, unique_no):
    """A stored batch due today: ROWS rows, each to an open employee account."""
    rows = [(f"6222{unique_no}{n:07d}", f"员工{n}", Decimal(2000 + n - 1) + Decimal("0.10"))
            for n in range(1, ROWS + 1)]
    world = funded_batch_make(identity=enterprise_a, rows=rows, balance=Decimal("90000000.00"), pay_date=PAY_DATE,
                              number=f"DF20{unique_no}")
    return {"batch": world.batch, "settlement": world.settlement, "accounts": world.accounts}


def test_pay_day_started_twice_at_once_pays_once(due_batch, workers, business_clock) -> None:
    batch = due_batch["batch"]
    workers.start()
    workers.start()
    blocker = blocker_connect()
    try:
        # Both runs wait on the batch row the test holds, then race for it when it lets go.
        blocker.execute("SELECT id FROM payroll_payrollbatch WHERE id = %s FOR UPDATE", [batch.pk])
        payday_run_task.delay()
        payday_run_task.delay()
        pids = wait_for_backend(blocked_by=blocker, query_like='SELECT "payroll_payrollbatch".%', count=2,
                                what="both pay-day runs to wait on the batch row")
    finally:
        blocker.rollback()
        blocker.close()
    wait_until(lambda: _status(batch.pk) == BatchStatus.PAID and not backends(query_like="%payroll_payrollbatch%"),
               timeout=60, what="the batch to be paid and both runs done")
    assert len(set(pids)) == 2
    batch_paid_once(batch_id=batch.pk, paid_rows=ROWS)
    reconcile_clean()


# Each point: what the test holds, and the statement the worker is then seen waiting in.
KILL_POINTS = {
    # The batch row: before anything of the batch is read.
    "batch_lock": ("SELECT id FROM payroll_payrollbatch WHERE id = %(batch)s FOR UPDATE",
                   'SELECT "payroll_payrollbatch".%'),
    # The fee-income account (the posting lock): batch locked, nothing classified.
    "posting_lock": ("SELECT id FROM ledger_ledgeraccount WHERE number = %(fee_income)s FOR UPDATE",
                     'SELECT "ledger_ledgeraccount".%'),
    # The settlement account: rows not yet classified, nothing posted.
    "settlement_lock": ("SELECT id FROM ledger_ledgeraccount WHERE number = %(settlement)s FOR UPDATE",
                        'SELECT "ledger_ledgeraccount".%'),
    # One employee account: every credit inserted, the balance update waits (mid-posting).
    "balances": ("SELECT id FROM ledger_ledgeraccount WHERE number = %(employee)s FOR UPDATE",
                 "%UPDATE ledger_ledgeraccount%"),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_worker_killed_at_each_point_of_pay_day(point, due_batch, workers, business_clock) -> None:
    batch = due_batch["batch"]
    fee_income = ledger_fee_income_account()
    lock_sql, waiting_sql = KILL_POINTS[point]
    params = {"batch": batch.pk, "fee_income": fee_income.number, "settlement": due_batch["settlement"].number,
              "employee": due_batch["accounts"][0][0]}
    doomed = workers.start()
    blocker = blocker_connect()
    try:
        blocker.execute(lock_sql, params)
        payday_run_task.delay()
        (pid,) = wait_for_backend(blocked_by=blocker, query_like=waiting_sql,
                                  what=f"the pay-day run to wait at {point}")
        doomed.stop(sig=signal.SIGKILL)
        killed_at = time.monotonic()
    finally:
        blocker.rollback()
        blocker.close()
    wait_until(lambda: backend_gone(pid), timeout=30, what="PostgreSQL to roll the killed run back")
    assert _status(batch.pk) == BatchStatus.STORED
    assert not JournalEntry.objects.filter(batch_id=batch.pk).exists()

    # Nobody starts pay day by hand: the new worker's recovery sweep at start (and beat's every
    # INTAKE_SWEEP_SECONDS) sees the run unfinished with its advisory lock free and runs it again.
    workers.start()
    timed_wait(lambda: _status(batch.pk) == BatchStatus.PAID, since=killed_at,
               what=f"pay day killed at {point}, paid by the recovered run")
    assert list(PaydayRun.objects.values_list("outcome", flat=True).order_by("id")) == [
        PaydayRun.Outcome.ABANDONED, PaydayRun.Outcome.DONE]
    batch_paid_once(batch_id=batch.pk, paid_rows=ROWS)
    reconcile_clean()
