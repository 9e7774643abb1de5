"""A worker SIGKILLed at five points of storing a 20,000-row batch, each on its own batch: nothing
of the batch is stored, and the pipeline alone (the sweeper beat runs every 15 s, a claim stale 30 s
after its last heartbeat, a sweep when a worker starts) stores every row exactly once within 60 s.

Each worker is pinned at its point by a lock the test holds, found in pg_stat_activity; all five
are killed at once, so the five recoveries share one wait.
"""

from __future__ import annotations

import signal
import time
from datetime import date

import pytest

from apps.employees.models import Employee
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_submit
from tests.factories import CHECK_CODE, payroll_file_bytes, payroll_rows, upload
from tests.faults.harness import (
    backend_gone,
    batch_status,
    batch_stored_once,
    blocker_connect,
    reconcile_clean,
    timed_wait,
    wait_for_backend,
)
from tests.support.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROWS = 20_000
COPY = "COPY payroll_payrollrow%"
ROW_INSERT = (
    "INSERT INTO payroll_payrollrow"
    " (batch_id, seq, account, name, amount, id_type, id_number, remark, result_code, result_message)"
    " VALUES (%(batch)s, %(seq)s, '6222000000000000000', 'x', 1.00, '0', 'x', '', '', '')"
)
# point: (what the test holds before the worker starts, the statement the worker then waits in, seq)
POINTS = {
    # The batch row: the task's claim waits; nothing of the batch was touched.
    "claim": ("SELECT id FROM payroll_payrollbatch WHERE id = %(batch)s FOR UPDATE", "UPDATE%payroll_payrollbatch%", 0),
    # A row (batch, seq) inserted by the test and not committed: the COPY waits at that row
    # (the unique (batch, seq) index), at its first, middle and last row.
    "copy_first_row": (ROW_INSERT, COPY, 1),
    "copy_middle_row": (ROW_INSERT, COPY, ROWS // 2),
    "copy_last_row": (ROW_INSERT, COPY, ROWS),
    # An employee of the batch registered by the test and not committed: every row is copied, the
    # registry INSERT ... ON CONFLICT waits on it.
    "registry": (
        "INSERT INTO employees_employee (company_id, account, name, id_type, id_number, added_at, source)"
        " VALUES (%(company)s, %(account)s, 'x', '0', 'x', now(), 'fault')",
        "%INSERT INTO employees_employee%",
        0,
    ),
}


def test_worker_killed_at_five_points_of_storing_each_batch_stored_once(
    workers, beat, our_agent, platform_keys
) -> None:
    # Pre-validation of five 20,000-row files by one worker, which then stops cleanly.
    validator = workers.start()
    batches: dict[str, PayrollBatch] = {}
    files: dict[str, list] = {}
    for n, point in enumerate(POINTS):
        rows = payroll_rows(ROWS, start=(n + 1) * 100_000)
        files[point] = rows
        data = payroll_file_bytes(party=our_agent, rows=rows, bank=platform_keys["bank"],
                                  batch_no=f"B2026120{n + 1}", pay_date=date(2026, 12, 5))
        batches[point] = payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement,
                                              upload=upload(data))
    for point, batch in batches.items():
        wait_until(lambda b=batch: batch_status(b.pk) != BatchStatus.VALIDATING, timeout=120, interval=0.2,
                   what=f"pre-validation of {point}")
        assert batch_status(batch.pk) == BatchStatus.AWAITING_CONFIRMATION, point
    validator.stop()

    # Confirmed with no worker running: the five storing tasks wait in the broker.
    for batch in batches.values():
        batch.refresh_from_db()
        payroll_batch_confirm(batch=batch, card=our_agent.card, checklist=CHECK_CODE)
    blockers = {}
    try:
        for point, (sql, _waiting, seq) in POINTS.items():
            blocker = blocker_connect()
            blocker.execute(sql, {"batch": batches[point].pk, "seq": seq, "company": our_agent.company.pk,
                                  "account": files[point][0].account})
            blockers[point] = blocker
        doomed = [workers.start() for _ in POINTS]
        pids = {}
        for point, (_sql, waiting, _seq) in POINTS.items():
            (pids[point],) = wait_for_backend(blocked_by=blockers[point], query_like=waiting,
                                              what=f"a worker to wait at {point}")
        for worker in doomed:
            worker.stop(sig=signal.SIGKILL)
        killed_at = time.monotonic()
    finally:
        for blocker in blockers.values():
            blocker.rollback()
            blocker.close()
    for point, pid in pids.items():
        wait_until(lambda p=pid: backend_gone(p), timeout=30, what=f"PostgreSQL to roll back {point}")
    for point, batch in batches.items():
        assert batch_status(batch.pk) == BatchStatus.STORING, point
        assert not PayrollRow.objects.filter(batch_id=batch.pk).exists(), point
    assert not Employee.objects.filter(company=our_agent.company).exists()

    workers.start()  # a replacement; beat's sweeper does the rest
    for point, batch in batches.items():
        timed_wait(lambda b=batch: batch_status(b.pk) == BatchStatus.STORED, since=killed_at,
                   what=f"storing killed at {point}")
    for point, batch in batches.items():
        batch_stored_once(batch_id=batch.pk, rows=ROWS)
        assert PayrollRow.objects.filter(batch_id=batch.pk, account=files[point][-1].account).count() == 1
    assert Employee.objects.filter(company=our_agent.company).count() == ROWS * len(POINTS)
    reconcile_clean()
