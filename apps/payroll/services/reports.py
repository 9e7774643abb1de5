"""报告文件: the validation report, in text and CSV, built from what pre-validation recorded."""

from __future__ import annotations

from apps.payroll.models import PayrollBatch
from apps.payroll.services.intake import payroll_batch_errors
from payroll_exchange.report import ValidationReport, report_csv, report_text


def payroll_report(*, batch: PayrollBatch) -> ValidationReport:
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
        errors=payroll_batch_errors(batch=batch),
        new_employees=batch.new_employee_count,
    )


def payroll_report_text(*, batch: PayrollBatch, language: str) -> str:
    return report_text(payroll_report(batch=batch), language)


def payroll_report_csv(*, batch: PayrollBatch) -> bytes:
    return report_csv(payroll_report(batch=batch))
