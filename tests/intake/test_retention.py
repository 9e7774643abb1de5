"""Retention: refused uploads and their reports go after REFUSED_FILE_DAYS; the audit keeps the
digest and the refusal; files in error and accepted files stay."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.core.files import private_path
from apps.core.models import AuditEvent
from apps.intake.reports import REPORTS
from apps.intake.retention import intake_retention_run
from apps.intake.uploads import UPLOADS
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import payroll_batch_prevalidate
from tests.factories import payroll_rows

pytestmark = pytest.mark.django_db


def refused(submitted, batch_no: str) -> PayrollBatch:
    batch = submitted(rows=payroll_rows(2), batch_no=batch_no, record_count=5)  # header count is wrong
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.INVALID
    return batch


def days_ago(batch: PayrollBatch, days: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE payroll_payrollbatch SET status_changed_at = now() - make_interval(days => %s)"
                       " WHERE id = %s", [days, batch.pk])


def files_of(batch: PayrollBatch) -> tuple[bool, bool]:
    return (private_path(UPLOADS, batch.stored_name).exists(),
            private_path(REPORTS, f"{batch.stored_name}.errors.json").exists())


def test_refused_files_go_after_30_days_and_the_audit_keeps_the_digest(submitted, settings):
    assert settings.REFUSED_FILE_DAYS == 30
    old, recent = refused(submitted, "B1"), refused(submitted, "B2")
    in_error = submitted(batch_no="B3")
    PayrollBatch.objects.filter(pk=in_error.pk).update(status=BatchStatus.ERROR, error_from=BatchStatus.VALIDATING)
    for batch in (old, in_error):
        days_ago(batch, 31)
    days_ago(recent, 29)

    assert intake_retention_run() == 1

    assert files_of(old) == (False, False)
    assert files_of(recent) == (True, True)
    assert private_path(UPLOADS, in_error.stored_name).exists()  # kept until staff resolve it
    old.refresh_from_db()
    assert old.files_deleted_at is not None
    assert (old.status, old.refusal_code, old.digest) == (BatchStatus.INVALID, "record_count_mismatch", old.digest)
    event = AuditEvent.objects.get(action="payroll_files_deleted")
    assert event.detail == {"digest": old.digest, "refusal_code": "record_count_mismatch", "errors": old.error_count,
                            "days": 30}
    assert intake_retention_run() == 0  # once
