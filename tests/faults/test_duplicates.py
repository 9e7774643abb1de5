"""The same task delivered ten times at once to two worker processes of two children each: one
effective run (one claim), the other deliveries return at once without doing the work."""

from __future__ import annotations

import re

import pytest

from apps.core.models import AuditEvent
from apps.intake.tasks import intake_work_task
from apps.payroll.models import BatchStatus
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_submit
from tests.factories import CHECK_CODE, payroll_file_bytes, payroll_rows, upload
from tests.faults.harness import (
    batch_status,
    batch_stored_once,
    blocker_connect,
    reconcile_clean,
    wait_for_backend,
)
from tests.support.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROWS = 5000
DELIVERIES = 10
RESULT = re.compile(r"Task apps\.intake\.tasks\.intake_work\[[0-9a-f-]+\] succeeded in ([0-9.e-]+)s: '(\w+)'")


def _results(procs) -> list[tuple[float, str]]:
    return [(float(seconds), outcome) for proc in procs for seconds, outcome in RESULT.findall(proc.log())]


def test_ten_deliveries_at_once_make_one_run_of_pre_validation_and_of_storing(
    workers, our_agent, platform_keys
) -> None:
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(ROWS), bank=platform_keys["bank"])
    # No worker yet: the upload's own task waits in the broker beside nine copies.
    batch = payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
    blocker = blocker_connect()
    try:
        # Every delivery that starts waits for the batch row in its claim; then they race.
        blocker.execute("SELECT id FROM payroll_payrollbatch WHERE id = %s FOR UPDATE", [batch.pk])
        for _ in range(DELIVERIES - 1):
            intake_work_task.delay("payroll", batch.pk)
        procs = [workers.start(concurrency=2), workers.start(concurrency=2)]
        wait_for_backend(blocked_by=blocker, query_like="UPDATE%payroll_payrollbatch%", count=4,
                         what="four deliveries in two workers to wait for the claim")
    finally:
        blocker.rollback()
        blocker.close()
    wait_until(lambda: len(_results(procs)) == DELIVERIES, timeout=90, what="every pre-validation delivery")
    outcomes = [outcome for _s, outcome in _results(procs)]
    assert batch_status(batch.pk) == BatchStatus.AWAITING_CONFIRMATION
    assert outcomes.count("done") == 1, outcomes
    assert set(outcomes) <= {"done", "duplicate", "nothing"}

    # Storing: the effective run is held inside its COPY (a row the test inserted and has not
    # committed) while the nine copies arrive: they find the claim held and return at once.
    batch.refresh_from_db()
    blocker = blocker_connect()
    try:
        blocker.execute(
            "INSERT INTO payroll_payrollrow (batch_id, seq, account, name, amount, id_type, id_number, remark,"
            " result_code, result_message) VALUES (%s, %s, '6222000000000000000', 'x', 1.00, '0', 'x', '', '', '')",
            [batch.pk, ROWS],
        )
        payroll_batch_confirm(batch=batch, card=our_agent.card, checklist=CHECK_CODE)
        wait_for_backend(blocked_by=blocker, query_like="COPY payroll_payrollrow%", what="the effective run's COPY")
        for _ in range(DELIVERIES - 1):
            intake_work_task.delay("payroll", batch.pk)
        wait_until(lambda: len(_results(procs)) == 2 * DELIVERIES - 1, timeout=90,
                   what="nine storing copies to return while the run is held")
        copies = _results(procs)[DELIVERIES:]
        assert [outcome for _s, outcome in copies] == ["duplicate"] * (DELIVERIES - 1)
        print("duplicate deliveries returned in (s):", sorted(round(s, 3) for s, _o in copies))
        assert batch_status(batch.pk) == BatchStatus.STORING
    finally:
        blocker.rollback()
        blocker.close()
    wait_until(lambda: batch_status(batch.pk) == BatchStatus.STORED, timeout=60, what="the effective run")
    wait_until(lambda: len(_results(procs)) == 2 * DELIVERIES, timeout=30, what="the effective run's result")
    assert [outcome for _s, outcome in _results(procs)].count("done") == 2
    batch_stored_once(batch_id=batch.pk, rows=ROWS)
    assert AuditEvent.objects.filter(object_id=str(batch.pk), action="payroll_stored").count() == 1
    reconcile_clean()
