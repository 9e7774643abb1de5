from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from apps.agreements.models import Company
from apps.payroll.models import PayrollBatch


def payroll_batches_for_company(*, company: Company, upload_date: date | None = None) -> QuerySet[PayrollBatch]:
    batches = PayrollBatch.objects.filter(company=company).select_related("agreement").defer(
        "errors", "new_employees"
    )
    if upload_date is not None:
        batches = batches.filter(upload_date=upload_date)
    return batches.order_by("-uploaded_at", "-id")


def payroll_batch_get(*, company: Company, pk: int) -> PayrollBatch:
    """One batch of this company; another company's batch does not exist as far as the caller knows."""
    return PayrollBatch.objects.select_related("agreement", "company").get(company=company, pk=pk)
