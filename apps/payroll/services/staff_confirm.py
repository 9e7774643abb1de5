"""银行员工确认入库 (issue 13): an agent without the stamped checklist cannot confirm at the kiosk; a
payroll supervisor may confirm in the back office with a written reason, audited, and the batch
says so (confirmed_how = staff_reason, confirm_reason)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from apps.core.services import audit_record
from apps.intake.uploads import work_queue_after_confirm
from apps.payroll.changes import duplicate_acknowledgement_require
from apps.payroll.models import ConfirmedHow, PayrollBatch
from apps.payroll.services.intake import KIND, pay_date_window_require
from apps.payroll.services.review import REASON_MAX, RELEASE_PERMISSION, ReviewRefused
from apps.payroll.services.transitions import batch_transition


def payroll_batch_staff_confirm(*, batch: PayrollBatch, user: AbstractBaseUser, reason: str) -> bool:
    """awaiting confirmation → storing, by a supervisor with a reason; returns whether the broker
    took the storing work (False: kept, the sweeper queues it)."""
    if not user.has_perm(RELEASE_PERMISSION):
        raise ReviewRefused("review_not_permitted", "您没有代替企业确认入库的权限，请由代发主管办理。",
                            "You are not permitted to confirm batches for the company; ask a payroll supervisor.")
    reason = reason.strip()[:REASON_MAX]
    if not reason:
        raise ReviewRefused("confirm_reason_required", "请填写原因（例如核对清单遗失，已电话核实笔数和金额）。",
                            "Give a reason (for example: checklist lost, count and total checked by phone).")
    pay_date_window_require(batch=batch)
    # 疑似重复发放 is not waved through by the back office either: the reason counts as the acknowledgement.
    suspected = duplicate_acknowledgement_require(batch=batch, acknowledged=True)
    username = user.get_username()
    with transaction.atomic():
        batch_transition(batch_id=batch.pk, action="confirm", confirmed_how=ConfirmedHow.STAFF_REASON,
                         confirm_reason=reason)
        audit_record(actor_kind="staff", actor=username, action="payroll_confirm", obj=batch,
                     company_id=batch.company_id,
                     detail={"how": ConfirmedHow.STAFF_REASON, "reason": reason,
                             "new_employees": batch.new_employee_count,
                             **({"suspected_duplicate_acknowledged": True} if suspected else {})})
        enqueued = work_queue_after_confirm(kind=KIND, pk=batch.pk)
    return enqueued.ok
