"""Retention: a refused upload and its report are deleted REFUSED_FILE_DAYS after the refusal
(a scheduled job); the record and the audit keep the digest and the refusal. Files in error are
kept until staff resolve them; accepted files are the bank's record and stay."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models.functions import Now

from apps.core.files import private_path
from apps.core.services import audit_record
from apps.intake.kinds import file_kinds
from apps.intake.reports import error_report_delete
from apps.intake.uploads import UPLOADS


def intake_retention_run() -> int:
    """Delete the files of every record refused more than REFUSED_FILE_DAYS ago (database clock);
    return how many records had their files deleted."""
    cutoff = Now() - timedelta(days=settings.REFUSED_FILE_DAYS)
    done = 0
    for kind in file_kinds():
        refused_status = kind.transitions["refuse"][1]
        due = kind.model.objects.filter(status=refused_status, status_changed_at__lt=cutoff,
                                        files_deleted_at__isnull=True)
        for record in due.only("pk", "stored_name", "company_id", "digest", "refusal_code", "error_count").iterator():
            private_path(UPLOADS, record.stored_name).unlink(missing_ok=True)
            error_report_delete(stored_name=record.stored_name)
            if kind.model.objects.filter(pk=record.pk, files_deleted_at__isnull=True).update(files_deleted_at=Now()):
                audit_record(actor_kind="system", actor="intake_retention", action=f"{kind.name}_files_deleted",
                             obj=record, company_id=record.company_id,
                             detail={"digest": record.digest or "", "refusal_code": record.refusal_code,
                                     "errors": record.error_count, "days": settings.REFUSED_FILE_DAYS})
                done += 1
    return done
