"""Files that must never loop: a poison envelope is refused at once with one clear error and never
requeued; a file whose work raises something other than ExchangeError every time goes to error
(系统处理失败) after the attempts cap and is never run again. Real workers and beat on the
module's own Redis, production intervals."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from apps.ledger.models import JournalEntry
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_submit
from tests.factories import CHECK_CODE, payroll_file_bytes, payroll_rows, upload
from tests.faults.harness import (
    batch_status,
    batch_stored_once,
    log_count,
    reconcile_clean,
    sweeps_sent,
)
from tests.fixtures.pki import envelope_with_certificates, poison_certificates
from tests.support.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _after_another_sweep(beat, worker) -> None:
    """Let the production sweeper (beat every INTAKE_SWEEP_SECONDS) run once more, to the end."""
    sweep = "Task apps.intake.tasks.intake_sweep["
    seen, done = sweeps_sent(beat), log_count(worker, sweep)
    # A sweep's task logs twice (received, succeeded).
    wait_until(lambda: sweeps_sent(beat) > seen and log_count(worker, sweep) >= done + 2,
               timeout=2 * settings.INTAKE_SWEEP_SECONDS + 10, interval=0.5, what="another sweep")


def test_poison_envelope_is_refused_at_once_with_one_error_and_never_requeued(
    workers, beat, our_agent, platform_keys
) -> None:
    worker = workers.start()
    poison = poison_certificates(issuer=platform_keys["root"], template=our_agent.identity)
    data = envelope_with_certificates(
        payload=b"H|1|whatever the rows say, they are never read\n",
        kind="payroll",
        signer=our_agent.identity,
        recipient_cert=platform_keys["bank"].cert,
        certificates=[poison["duplicate_extension"], poison["unknown_version"]],
    )
    batch = payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
    wait_until(lambda: batch_status(batch.pk) != BatchStatus.VALIDATING, timeout=30, what="the refusal")

    batch.refresh_from_db()
    assert batch.status == BatchStatus.INVALID
    assert [e["code"] for e in batch.errors] == ["envelope_certificate"]
    assert batch.error_count == 1
    assert "X.509" in batch.errors[0]["zh"]
    assert (batch.attempts, batch.claim_token, batch.system_error) == (0, "", "")

    _after_another_sweep(beat, worker)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.INVALID
    assert log_count(worker, "Task apps.intake.tasks.intake_work[") == 2  # received, then succeeded: once
    assert "Traceback" not in worker.log()
    assert not PayrollRow.objects.filter(batch_id=batch.pk).exists()
    reconcile_clean()


def test_a_store_that_raises_every_time_goes_to_error_after_three_attempts(
    workers, beat, our_agent, platform_keys
) -> None:
    worker = workers.start()
    rows = payroll_rows(50)
    data = payroll_file_bytes(party=our_agent, rows=rows, bank=platform_keys["bank"])
    batch = payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
    wait_until(lambda: batch_status(batch.pk) == BatchStatus.AWAITING_CONFIRMATION, timeout=60,
               what="pre-validation")
    batch.refresh_from_db()
    # The database refuses this batch's rows: storing raises (not an ExchangeError) every time.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION fault_refuse_rows() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'fault suite: rows of this batch refused'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER fault_refuse_rows BEFORE INSERT ON payroll_payrollrow FOR EACH ROW "
            f"WHEN (NEW.batch_id = {int(batch.pk)}) EXECUTE FUNCTION fault_refuse_rows()"
        )
    try:
        payroll_batch_confirm(batch=batch, card=our_agent.card, checklist=CHECK_CODE)
        wait_until(lambda: batch_status(batch.pk) != BatchStatus.STORING,
                   timeout=settings.INTAKE_MAX_ATTEMPTS * (settings.INTAKE_SWEEP_SECONDS + 10) + 30,
                   interval=0.5, what="the attempts cap")
        batch.refresh_from_db()
        assert batch.status == BatchStatus.ERROR
        assert batch.attempts == settings.INTAKE_MAX_ATTEMPTS
        assert batch.error_from == BatchStatus.STORING
        assert "fault suite: rows of this batch refused" in batch.system_error

        _after_another_sweep(beat, worker)
        batch.refresh_from_db()
        assert (batch.status, batch.attempts) == (BatchStatus.ERROR, settings.INTAKE_MAX_ATTEMPTS)
        assert log_count(worker, f"payroll {batch.pk} attempt") == settings.INTAKE_MAX_ATTEMPTS
        assert log_count(worker, f"payroll {batch.pk} failed") == 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER fault_refuse_rows ON payroll_payrollrow")
            cursor.execute("DROP FUNCTION fault_refuse_rows()")
    # Nothing was stored, nothing posted; the batch number is free again (error frees it like invalid).
    assert not PayrollRow.objects.filter(batch_id=batch.pk).exists()
    assert not JournalEntry.objects.filter(batch_id=batch.pk).exists()
    again = payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(
        payroll_file_bytes(party=our_agent, rows=rows, bank=platform_keys["bank"])))
    wait_until(lambda: batch_status(again.pk) == BatchStatus.AWAITING_CONFIRMATION, timeout=60,
               what="the same batch number accepted again")
    again.refresh_from_db()
    payroll_batch_confirm(batch=again, card=our_agent.card, checklist=CHECK_CODE)
    wait_until(lambda: batch_status(again.pk) == BatchStatus.STORED, timeout=60, what="storing the new file")
    batch_stored_once(batch_id=again.pk, rows=len(rows))
    assert PayrollBatch.objects.filter(agreement=our_agent.agreement, status=BatchStatus.STORED).count() == 1
    reconcile_clean()
