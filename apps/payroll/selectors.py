from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet

from apps.agreements.models import Company
from apps.payroll.models import PayrollBatch
from apps.payroll.services.transitions import allowed_actions

# What the agent may do at the kiosk in each state (the state table's "kiosk actions").
KIOSK_ACTIONS = {"confirm": "确认入库", "revoke": "撤消"}


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


def payroll_batch_progress(*, batch: PayrollBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "status": batch.status,
        "label": str(batch.get_status_display()),
        "rows_done": batch.rows_done,
        "rows_total": batch.rows_total,
        "finished": batch.status not in ("validating", "storing"),
        "actions": [a for a in allowed_actions(batch.status) if a in KIOSK_ACTIONS],
    }
