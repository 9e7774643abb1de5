"""报告文件: the validation report, in text and CSV, built from what pre-validation recorded."""

from __future__ import annotations

from collections.abc import Iterator

from apps.cards.models import ServiceCard
from apps.core.services import audit_record
from apps.intake.actors import Actor, actor_of
from apps.intake.reports import error_report_load
from apps.payroll.models import FREEING_STATUSES, PayrollBatch
from payroll_exchange.report import ValidationReport, report_csv, report_text


def payroll_report(*, batch: PayrollBatch) -> ValidationReport:
    found = error_report_load(stored_name=batch.stored_name)
    return ValidationReport(
        file_name=batch.original_name,
        kind="payroll",
        agreement_no=batch.agreement.number,
        batch_no=batch.batch_no,
        pay_date=batch.pay_date,
        record_count=batch.record_count,
        total_amount=batch.total_amount,
        fee_per_payment=batch.agreement.fee_per_payment,
        expected_fee=batch.expected_fee,
        digest=batch.digest or "",
        errors=found.kept,
        new_employees=batch.new_employee_count,
        # Listed while they are (or were) to be registered; a refused or revoked file registers nobody.
        new_employee_rows=[] if batch.status in FREEING_STATUSES else [
            (e["seq"], e["name"], e["account"]) for e in batch.new_employees or []],
        error_total=found.total,
        error_codes=found.by_code,
    )


def payroll_report_text(*, batch: PayrollBatch, language: str) -> str:
    return report_text(payroll_report(batch=batch), language)


def payroll_report_csv(*, batch: PayrollBatch) -> bytes:
    return report_csv(payroll_report(batch=batch))


def payroll_report_download(*, batch: PayrollBatch, card: ServiceCard | None = None, fmt: str,
                            language: str, actor: Actor | None = None) -> tuple[Iterator[bytes], str]:
    """报告文件下载 at the kiosk: the report in chunks (the view streams them) and a file name; the
    download is audited. Bounded: the report holds at most INTAKE_ERRORS_KEPT errors."""
    actor = actor_of(card=card, actor=actor)
    if batch.company_id != actor.company_id:
        raise PayrollBatch.DoesNotExist
    name = f"report-{batch.batch_no or batch.pk}.{'csv' if fmt == 'csv' else 'txt'}"
    data = payroll_report_csv(batch=batch) if fmt == "csv" else payroll_report_text(
        batch=batch, language=language).encode("utf-8")
    audit_record(actor_kind=actor.kind, actor=actor.name, action="payroll_report_download", obj=batch,
                 company_id=actor.company_id, detail={"format": fmt})
    return _chunks(data), name


def _chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
