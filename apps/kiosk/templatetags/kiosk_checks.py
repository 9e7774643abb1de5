"""The pre-validation result's checks for the agent (issue 13): 变动提示 against the last paid batch
and whether the settlement account covers the batches up to this pay date. Shown, never blocking
(except 疑似重复发放's acknowledgement, which the confirm service enforces)."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from apps.ledger.funding import batch_funding
from apps.payroll.changes import payroll_batch_changes
from apps.payroll.models import BatchStatus, PayrollBatch
from payroll_exchange.changes import Changes, mask_name

register = template.Library()

# Funding is shown while it can still matter: before and after 确认入库, until pay day.
FUNDING_STATUSES = (BatchStatus.AWAITING_CONFIRMATION, BatchStatus.STORED, BatchStatus.HELD)


def _changes_of(batch: PayrollBatch) -> Changes | None:
    """Once per page: the list and the acknowledgement checkbox read the same comparison."""
    if not hasattr(batch, "_kiosk_changes"):
        batch._kiosk_changes = payroll_batch_changes(batch=batch)  # type: ignore[attr-defined]
    return batch._kiosk_changes  # type: ignore[attr-defined]


@register.inclusion_tag("kiosk/_changes.html")
def changes_panel(batch: PayrollBatch) -> dict:
    if batch.status != BatchStatus.AWAITING_CONFIRMATION:
        return {"changes": None}
    changes = _changes_of(batch)
    if changes is None:
        return {"changes": None}
    language = get_language() or "zh-hans"
    groups = [{"kind": g.kind, "count": g.count, "more": g.count - len(g.items),
               "title": g.title(language, threshold=changes.threshold_percent), "items": g.items}
              for g in changes.groups if g.count]
    return {"changes": changes, "groups": groups}


@register.filter
def masked_name(value: object) -> str:
    return mask_name(str(value or ""))


@register.inclusion_tag("kiosk/_funding.html")
def funding_panel(batch: PayrollBatch) -> dict:
    if batch.status not in FUNDING_STATUSES:
        return {"funding": None}
    return {"funding": batch_funding(batch=batch), "batch": batch}


@register.inclusion_tag("kiosk/_duplicate_ack_box.html")
def duplicate_ack(batch: PayrollBatch) -> dict:
    """Inside the 确认入库 form: the checkbox 疑似重复发放 needs."""
    changes = _changes_of(batch) if batch.status == BatchStatus.AWAITING_CONFIRMATION else None
    return {"changes": changes if changes is not None and changes.suspected_duplicate else None}


@register.filter
def signed(value: object) -> str:
    """34.1 → +34.1, -30.7 → -30.7: which way an amount moved reads at a glance."""
    text = str(value)
    return text if text.startswith("-") or text in ("0", "0.0") else f"+{text}"
