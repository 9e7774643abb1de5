"""A real worker killed with SIGKILL in the middle of posting a batch: nothing of the batch stays,
and the next run (by another real worker) posts every row exactly once."""

from __future__ import annotations

import signal
import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum

from apps.ledger.models import AccountStatus, JournalEntry, LedgerAccount
from apps.ledger.services import FEE_INCOME_NUMBER
from apps.ledger.tasks import payday_run_task
from apps.payroll.models import BatchStatus, PayrollBatch
from tests.conftest import worker_env
from tests.faults.harness import blocker_connect
from tests.ledger.factories import funded_batch_make
from tests.support.processes import celery_worker_start, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROWS = 1500
PAY_DATE = date(2026, 12, 1)


@pytest.fixture
def killable_worker(live_worker, session_dir):
    """A second real worker on a queue of its own, so killing it leaves the suite's worker alone."""
    queue = f"payday-kill-{uuid.uuid4().hex[:8]}"
    worker = celery_worker_start(env=worker_env() | {"CELERY_QUEUE": queue}, queue=queue, log_dir=session_dir)
    worker.extra["queue"] = queue
    yield worker
    worker.stop(sig=signal.SIGKILL)


def _posting_underway() -> int | None:
    """The backend of a posting that has inserted its journal rows and now waits for a lock the
    test holds on one employee account (the balance update comes after the credits). It holds
    RowExclusiveLock on the journal, which only an INSERT can have taken (UPDATE and DELETE are
    refused). Returns its pid."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.pid FROM pg_stat_activity AS a
              JOIN pg_locks AS l ON l.pid = a.pid
             WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
               AND a.wait_event_type = 'Lock'
               AND l.relation = 'ledger_journalentry'::regclass AND l.mode = 'RowExclusiveLock' AND l.granted
            """
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


def _balances() -> dict[str, Decimal]:
    return dict(LedgerAccount.objects.values_list("number", "balance"))


def test_worker_killed_mid_posting_leaves_nothing_and_the_rerun_posts_once(
    business_clock, enterprise_a, live_worker, killable_worker
) -> None:
    accounts = [(f"62220000{n:08d}", f"员工{n}", AccountStatus.NORMAL) for n in range(1, ROWS + 1)]
    accounts[-1] = (accounts[-1][0], accounts[-1][1], AccountStatus.FROZEN)  # one row fails: AC06
    rows = [(number, name, Decimal(1000 + n) + Decimal("0.25")) for n, (number, name, _s) in enumerate(accounts)]
    world = funded_batch_make(identity=enterprise_a, rows=rows, accounts=accounts,
                              balance=Decimal("10000000.00"), pay_date=PAY_DATE)
    settlement, batch = world.settlement, world.batch
    before = _balances()

    # A second connection holds one employee account: the posting inserts every credit, then
    # blocks on that row in its balance update, so the test knows it is mid-posting when it kills.
    blocker = blocker_connect()
    try:
        blocker.execute("SELECT id FROM ledger_ledgeraccount WHERE number = %s FOR UPDATE", [accounts[0][0]])
        payday_run_task.apply_async(queue=killable_worker.extra["queue"])
        holder: list[int] = []
        wait_until(lambda: bool(holder.append(_posting_underway() or 0) or holder[-1]), timeout=60,
                   what="the worker's posting transaction to have inserted the credits")
        pid = holder[-1]
        # Underway, yet invisible to everyone else: the batch is still stored and no leg is committed.
        assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.STORED
        assert not JournalEntry.objects.filter(batch=batch).exists()

        killable_worker.stop(sig=signal.SIGKILL)
        assert not killable_worker.alive()
    finally:
        blocker.rollback()
        blocker.close()
    # Its server process runs the statement it waited on, finds no client to answer and rolls back.
    wait_until(lambda: _backend_gone(pid), timeout=30, what="PostgreSQL to roll back the killed worker's transaction")

    batch.refresh_from_db()
    assert batch.status == BatchStatus.STORED
    assert (batch.success_count, batch.fee_charged, batch.paid_at) == (0, Decimal(0), None)
    assert not JournalEntry.objects.filter(batch=batch).exists()
    assert set(batch.rows.values_list("result_code", flat=True)) == {""}
    assert _balances() == before

    # The next run, on the suite's ordinary worker, finishes it.
    payday_run_task.apply_async(queue=live_worker.extra["queue"])
    wait_until(lambda: PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.PAID, timeout=60,
               what="the rerun to pay the batch")
    batch.refresh_from_db()
    paid_amount = sum((amount for _a, _n, amount in rows[:-1]), Decimal(0))
    assert (batch.success_count, batch.success_amount) == (ROWS - 1, paid_amount)
    assert (batch.failure_count, batch.failure_amount) == (1, rows[-1][2])
    assert batch.fee_charged == Decimal(ROWS - 1)

    credits = JournalEntry.objects.filter(batch=batch, kind="payroll", side="C")
    assert credits.count() == ROWS - 1
    assert credits.values("row_seq").distinct().count() == ROWS - 1  # every row posted once
    assert credits.aggregate(s=Sum("amount"))["s"] == paid_amount
    per_side = dict(JournalEntry.objects.values_list("side").annotate(s=Sum("amount")).values_list("side", "s"))
    assert per_side["D"] == per_side["C"]
    assert JournalEntry.objects.filter(batch=batch).values("txn_id").aggregate(n=Count("txn_id", distinct=True)) \
        == {"n": 1}
    after = _balances()
    assert after[settlement.number] == Decimal("10000000.00") - paid_amount - Decimal(ROWS - 1)
    assert after[FEE_INCOME_NUMBER] == Decimal(ROWS - 1)
    assert after[accounts[0][0]] == rows[0][2]
    assert after[accounts[-1][0]] == Decimal(0)
