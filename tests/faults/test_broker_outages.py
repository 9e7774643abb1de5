"""The broker goes away: before an upload, in the middle of a pre-validation, before a confirmation.
Every file is accepted and kept while it is down (nothing is deleted, no error for the agent), and
once it is back the sweeper (beat, every 15 s) sees every batch through, each stored once."""

from __future__ import annotations

import time

import pytest

from apps.core.files import private_path
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_submit
from tests.factories import CHECK_CODE, payroll_file_bytes, payroll_rows, upload
from tests.faults.harness import (
    batch_status,
    batch_stored_once,
    blocker_connect,
    reconcile_clean,
    timed_wait,
    wait_for_backend,
)
from tests.support.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROWS = 2000


def _file(party, keys, n: int) -> bytes:
    return payroll_file_bytes(party=party, rows=payroll_rows(ROWS, start=n * 10_000), bank=keys["bank"],
                              batch_no=f"B2026120{n}")


def _submit(party, data: bytes) -> tuple[PayrollBatch, float]:
    started = time.monotonic()
    batch = payroll_batch_submit(card=party.card, agreement=party.agreement, upload=upload(data))
    return batch, time.monotonic() - started


def test_broker_down_before_upload_mid_prevalidation_and_before_confirmation(
    broker, workers, beat, our_agent, platform_keys
) -> None:
    workers.start()
    # C is validated while the broker is up; it is confirmed while the broker is down.
    confirmed_while_down, _s = _submit(our_agent, _file(our_agent, platform_keys, 3))
    wait_until(lambda: batch_status(confirmed_while_down.pk) == BatchStatus.AWAITING_CONFIRMATION, timeout=60,
               what="pre-validation of C")

    # B: its pre-validation is under way (held at its claim by the test) when the broker stops.
    blocker = blocker_connect()
    try:
        mid_validation, _s = _submit(our_agent, _file(our_agent, platform_keys, 2))
        blocker.execute("SELECT id FROM payroll_payrollbatch WHERE id = %s FOR UPDATE", [mid_validation.pk])
        wait_for_backend(blocked_by=blocker, query_like="UPDATE%payroll_payrollbatch%",
                         what="B's pre-validation to start")
        broker.stop()
    finally:
        blocker.rollback()
        blocker.close()

    # A: uploaded while the broker is down.
    uploaded_while_down, seconds = _submit(our_agent, _file(our_agent, platform_keys, 1))
    print(f"upload accepted with the broker down in {seconds:.2f} s")
    confirmed_while_down.refresh_from_db()
    started = time.monotonic()
    payroll_batch_confirm(batch=confirmed_while_down, card=our_agent.card, checklist=CHECK_CODE)
    print(f"confirmation accepted with the broker down in {time.monotonic() - started:.2f} s")
    uploaded_while_down.refresh_from_db()
    assert uploaded_while_down.status == BatchStatus.VALIDATING
    assert private_path("uploads", uploaded_while_down.stored_name).exists()  # kept, never deleted
    assert batch_status(confirmed_while_down.pk) == BatchStatus.STORING

    # B's worker needs no broker to finish the pre-validation it started.
    wait_until(lambda: batch_status(mid_validation.pk) == BatchStatus.AWAITING_CONFIRMATION, timeout=60,
               what="B's pre-validation to finish with the broker down")

    broker.start()
    back = time.monotonic()
    timed_wait(lambda: batch_status(uploaded_while_down.pk) == BatchStatus.AWAITING_CONFIRMATION, since=back,
               what="A, uploaded while the broker was down, pre-validated")
    timed_wait(lambda: batch_status(confirmed_while_down.pk) == BatchStatus.STORED, since=back,
               what="C, confirmed while the broker was down, stored")
    for batch in (uploaded_while_down, mid_validation):
        batch.refresh_from_db()
        payroll_batch_confirm(batch=batch, card=our_agent.card, checklist=CHECK_CODE)
    for batch in (uploaded_while_down, mid_validation):
        wait_until(lambda b=batch: batch_status(b.pk) == BatchStatus.STORED, timeout=60, what="storing")
    for batch in (uploaded_while_down, mid_validation, confirmed_while_down):
        batch_stored_once(batch_id=batch.pk, rows=ROWS)
    reconcile_clean()
