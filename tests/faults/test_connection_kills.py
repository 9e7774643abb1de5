"""The worker's database connection killed (pg_terminate_backend) in the middle of the storing COPY
and in the middle of a pay-day posting: nothing partial is left, and the batch then completes
exactly once (storing: by the sweeper within 60 s; pay day: by its next run)."""

from __future__ import annotations

import re
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from apps.ledger.models import JournalEntry
from apps.ledger.tasks import payday_run_task
from apps.payroll.models import BatchStatus, PayrollRow
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_submit
from tests.factories import CHECK_CODE, payroll_file_bytes, payroll_rows, upload
from tests.faults.harness import (
    backend_gone,
    batch_paid_once,
    batch_status,
    batch_stored_once,
    blocker_connect,
    reconcile_clean,
    timed_wait,
    wait_for_backend,
)
from tests.ledger.factories import funded_batch_make
from tests.support.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROWS = 5000


def _terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0] is True


def test_connection_killed_mid_copy_stores_nothing_then_everything_once(
    workers, beat, our_agent, platform_keys
) -> None:
    worker = workers.start()
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(ROWS), bank=platform_keys["bank"])
    batch = payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
    wait_until(lambda: batch_status(batch.pk) == BatchStatus.AWAITING_CONFIRMATION, timeout=60,
               what="pre-validation")
    batch.refresh_from_db()
    blocker = blocker_connect()
    try:
        # The COPY waits at the batch's middle row, which the test inserted and has not committed.
        blocker.execute(
            "INSERT INTO payroll_payrollrow (batch_id, seq, account, name, amount, id_type, id_number, remark,"
            " result_code, result_message) VALUES (%s, %s, '6222000000000000000', 'x', 1.00, '0', 'x', '', '', '')",
            [batch.pk, ROWS // 2],
        )
        payroll_batch_confirm(batch=batch, card=our_agent.card, checklist=CHECK_CODE)
        (pid,) = wait_for_backend(blocked_by=blocker, query_like="COPY payroll_payrollrow%", what="the COPY")
        _terminate(pid)
        killed_at = time.monotonic()
    finally:
        blocker.rollback()
        blocker.close()
    wait_until(lambda: backend_gone(pid), timeout=30, what="the terminated backend to go")
    wait_until(lambda: f"payroll {batch.pk} attempt 1" in worker.log() or batch_status(batch.pk) != "storing",
               timeout=30, what="the worker to record the failed attempt")
    assert not PayrollRow.objects.filter(batch_id=batch.pk).exists()  # no partial batch
    timed_wait(lambda: batch_status(batch.pk) == BatchStatus.STORED, since=killed_at,
               what="storing after its connection was killed mid-COPY")
    assert worker.alive()
    batch_stored_once(batch_id=batch.pk, rows=ROWS)
    reconcile_clean()


def test_connection_killed_mid_posting_posts_nothing_then_pays_once(workers, enterprise_a, unique_no) -> None:
    rows = [(f"6222{unique_no}{n:07d}", f"员工{n}", Decimal(3000 + n - 1)) for n in range(1, ROWS + 1)]
    world = funded_batch_make(identity=enterprise_a, rows=rows, balance=Decimal("90000000.00"),
                              pay_date=date(2026, 12, 1), number=f"DF20{unique_no}")
    batch, accounts = world.batch, world.accounts
    worker = workers.start()
    blocker = blocker_connect()
    try:
        # Every credit inserted, the balance update waits on one employee account the test holds.
        blocker.execute("SELECT id FROM ledger_ledgeraccount WHERE number = %s FOR UPDATE", [accounts[0][0]])
        payday_run_task.delay()
        (pid,) = wait_for_backend(blocked_by=blocker, query_like="%UPDATE ledger_ledgeraccount%",
                                  what="the posting's balance update")
        _terminate(pid)
        killed_at = time.monotonic()
    finally:
        blocker.rollback()
        blocker.close()
    ended = re.compile(r"payday_run\[[0-9a-f-]+\] succeeded in .*'errors': \[" + str(batch.pk) + r"\]")
    wait_until(lambda: ended.search(worker.log()) is not None, timeout=30,
               what="the run to end with the batch among its errors")
    assert batch_status(batch.pk) == BatchStatus.STORED
    assert not JournalEntry.objects.filter(batch_id=batch.pk).exists()  # nothing of the posting stays

    payday_run_task.delay()  # the next run (beat, every PAYDAY_INTERVAL_MINUTES)
    timed_wait(lambda: batch_status(batch.pk) == BatchStatus.PAID, since=killed_at,
               what="pay day after its connection was killed mid-posting, paid by the next run")
    assert worker.alive()
    batch_paid_once(batch_id=batch.pk, paid_rows=ROWS)
    reconcile_clean()
