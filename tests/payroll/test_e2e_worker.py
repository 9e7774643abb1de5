"""提交代发工资 end to end through a real Celery worker on Redis and PostgreSQL, including a worker
killed with SIGKILL during pre-validation and recovered by the sweeper with the production intervals."""

from __future__ import annotations

import signal

import psycopg
import pytest
from django.db import connection

from apps.employees.models import Employee
from apps.intake.sweeper import intake_sweep
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_submit
from tests.conftest import worker_env
from tests.factories import CHECK_CODE, payroll_file_bytes, payroll_rows, upload
from tests.support.processes import celery_worker_start, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def status_of(batch_id: int) -> str:
    return PayrollBatch.objects.values_list("status", flat=True).get(pk=batch_id)


def register(party, rows):
    Employee.objects.bulk_create([Employee(company=party.company, account=r.account, name=r.name, id_type=r.id_type,
                                           id_number=r.id_number) for r in rows])


def test_upload_prevalidate_confirm_store_through_a_real_worker(live_worker, business_clock, our_agent, platform_keys):
    rows = payroll_rows(5)
    register(our_agent, rows[:4])  # one new employee
    data = payroll_file_bytes(party=our_agent, rows=rows, bank=platform_keys["bank"])

    batch = payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
    wait_until(lambda: status_of(batch.pk) != BatchStatus.VALIDATING, timeout=60, what="pre-validation")
    batch.refresh_from_db()
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION, batch.errors
    assert (batch.rows_done, batch.rows_total, batch.new_employee_count) == (5, 5, 1)

    payroll_batch_confirm(batch=batch, card=our_agent.card, checklist=CHECK_CODE)
    wait_until(lambda: status_of(batch.pk) == BatchStatus.STORED, timeout=60, what="storing")
    assert PayrollRow.objects.filter(batch_id=batch.pk).count() == 5
    assert Employee.objects.filter(company=our_agent.company, account=rows[4].account).count() == 1
    assert live_worker.alive()


def _other_backends(*, table: str, waiting: bool) -> int:
    """Other sessions on this database running (or, if ``waiting``, blocked on a lock in) a
    statement that names ``table``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND query ILIKE %s "
            "AND CASE WHEN %s THEN wait_event_type = 'Lock' ELSE state = 'active' END",
            [f"%{table}%", waiting],
        )
        return cursor.fetchone()[0]


def test_worker_killed_during_prevalidation_is_recovered_by_the_sweeper(
    live_worker, business_clock, our_agent, platform_keys, session_dir
):
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(3), bank=platform_keys["bank"])
    db = connection.settings_dict
    # A second connection holds the batch row, so the worker's first write during pre-validation
    # blocks: the test knows the worker is inside the task when it kills it, without timing guesses.
    blocker = psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    try:
        batch = payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
        blocker.execute("SELECT id FROM payroll_payrollbatch WHERE id = %s FOR UPDATE", [batch.pk])
        wait_until(lambda: _other_backends(table="payroll_payrollbatch", waiting=True) > 0, timeout=60,
                   what="the worker to start pre-validating")
        live_worker.stop(sig=signal.SIGKILL)
        assert not live_worker.alive()
    finally:
        blocker.rollback()
        blocker.close()
    # The dead worker's server process finishes the statement it was waiting on, then notices
    # its client is gone; let it settle so the sweeper sees the final row.
    wait_until(lambda: _other_backends(table="payroll_payrollbatch", waiting=False) == 0, timeout=30,
               what="the killed worker's statement to settle")
    assert status_of(batch.pk) == BatchStatus.VALIDATING  # nothing was lost, nothing was decided

    replacement = celery_worker_start(env=worker_env(), queue=live_worker.extra["queue"], log_dir=session_dir)
    try:
        # Production intervals: the dead worker's claim goes stale INTAKE_STALE_SECONDS after its
        # last heartbeat; the sweeper (beat runs it every 15 s) then requeues it.
        wait_until(lambda: ("payroll", batch.pk) in intake_sweep(), timeout=60,
                   what="the sweeper to find the claim stale")
        wait_until(lambda: status_of(batch.pk) != BatchStatus.VALIDATING, timeout=60, what="the requeued task")
        assert status_of(batch.pk) == BatchStatus.AWAITING_CONFIRMATION
        batch.refresh_from_db()
        payroll_batch_confirm(batch=batch, card=our_agent.card, checklist=CHECK_CODE)
        wait_until(lambda: status_of(batch.pk) == BatchStatus.STORED, timeout=60, what="storing")
        assert PayrollRow.objects.filter(batch_id=batch.pk).count() == 3
    finally:
        replacement.stop()
