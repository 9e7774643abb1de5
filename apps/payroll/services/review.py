"""Bank staff review of stored batches: hold (clerks), release and reject (supervisors).

Roles are Django permissions on PayrollBatch, given to two groups by migration 0002:
``payroll.hold_payrollbatch`` (代发复核员 clerk and 代发主管 supervisor) and
``payroll.release_payrollbatch`` (supervisor; it also covers reject). Four eyes: whoever held a
batch may not release or reject it, superusers included; ``held_by`` keeps the holder's username.

Each service checks the permission first and raises ReviewRefused without touching anything;
the state move itself is the guarded transition of ``transitions.batch_transition``, so a hold
racing the pay-day job (which posts in one transaction holding the batch's row lock) waits for
it and then fails with StateError instead of holding a batch that is being paid.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from apps.core.errors import ServiceError
from apps.core.services import audit_record
from apps.payroll.models import PayrollBatch
from apps.payroll.services.transitions import batch_transition

HOLD_PERMISSION = "payroll.hold_payrollbatch"
RELEASE_PERMISSION = "payroll.release_payrollbatch"
CLERK_GROUP = "代发复核员 clerk"
SUPERVISOR_GROUP = "代发主管 supervisor"
# What each group may do; migration 0002 writes the same table (migrations cannot import this).
GROUP_PERMISSIONS: dict[str, tuple[str, ...]] = {
    CLERK_GROUP: ("view_payrollbatch", "view_payrollrow", "hold_payrollbatch"),
    SUPERVISOR_GROUP: ("view_payrollbatch", "view_payrollrow", "hold_payrollbatch", "release_payrollbatch"),
}
REASON_MAX = 300  # PayrollBatch.rejected_reason


class ReviewRefused(ServiceError):
    """A review action this staff user may not take; nothing was changed."""


def _not_permitted(*, action_zh: str, action_en: str) -> ReviewRefused:
    return ReviewRefused(
        "review_not_permitted",
        f"您没有{action_zh}代发批次的权限，请由代发主管办理。",
        f"You are not permitted to {action_en} payroll batches; ask a payroll supervisor.",
    )


def _own_hold(*, action_zh: str, action_en: str) -> ReviewRefused:
    return ReviewRefused(
        "review_own_hold",
        f"此批次由您本人暂停，不能由您{action_zh}；请由另一位代发主管复核。",
        f"You held this batch yourself, so you cannot {action_en} it; another supervisor must review it.",
    )


def _refresh(batch: PayrollBatch) -> None:
    batch.refresh_from_db(fields=["status", "held_by", "rejected_reason", "status_changed_at"])


def payroll_batch_hold(*, batch: PayrollBatch, user: AbstractBaseUser, reason: str = "") -> None:
    """暂停: stored → held, until the pay-day job claims the batch."""
    if not user.has_perm(HOLD_PERMISSION):
        raise _not_permitted(action_zh="暂停", action_en="hold")
    username = user.get_username()
    reason = reason.strip()
    with transaction.atomic():
        batch_transition(batch_id=batch.pk, action="hold", held_by=username)
        audit_record(actor_kind="staff", actor=username, action="payroll_hold", obj=batch,
                     company_id=batch.company_id, detail={"reason": reason} if reason else {})
    _refresh(batch)


def _lock_not_own_hold(*, batch: PayrollBatch, username: str, action_zh: str, action_en: str) -> str:
    """The batch's holder, read under the row lock so a hold placed by this same user (another
    tab) between our check and our UPDATE cannot slip through. Caller holds the transaction."""
    held_by = PayrollBatch.objects.select_for_update().filter(pk=batch.pk).values_list("held_by", flat=True).first()
    if held_by and held_by == username:
        raise _own_hold(action_zh=action_zh, action_en=action_en)
    return held_by or ""


def payroll_batch_release(*, batch: PayrollBatch, user: AbstractBaseUser) -> None:
    """放行: held → stored; paid at the next pay-day run (even if its pay date has passed)."""
    if not user.has_perm(RELEASE_PERMISSION):
        raise _not_permitted(action_zh="放行", action_en="release")
    username = user.get_username()
    with transaction.atomic():
        held_by = _lock_not_own_hold(batch=batch, username=username, action_zh="放行", action_en="release")
        # held_by is cleared: a released batch is stored again and anyone may hold it afresh.
        batch_transition(batch_id=batch.pk, action="release", held_by="")
        audit_record(actor_kind="staff", actor=username, action="payroll_release", obj=batch,
                     company_id=batch.company_id, detail={"held_by": held_by})
    _refresh(batch)


def payroll_batch_reject(*, batch: PayrollBatch, user: AbstractBaseUser, reason: str) -> None:
    """拒绝: stored or held → rejected, with the reason the agent will see."""
    if not user.has_perm(RELEASE_PERMISSION):
        raise _not_permitted(action_zh="拒绝", action_en="reject")
    reason = (reason or "").strip()
    if not reason:
        raise ReviewRefused(
            "reject_reason_required",
            "拒绝代发批次必须填写原因。",
            "A reason is required to reject a payroll batch.",
        )
    username = user.get_username()
    with transaction.atomic():
        _lock_not_own_hold(batch=batch, username=username, action_zh="拒绝", action_en="reject")
        batch_transition(batch_id=batch.pk, action="reject", rejected_reason=reason[:REASON_MAX])
        audit_record(actor_kind="staff", actor=username, action="payroll_reject", obj=batch,
                     company_id=batch.company_id, detail={"reason": reason})
    _refresh(batch)


def payroll_review_roles_ensure() -> None:
    """Create the review permissions and the two staff groups if missing (idempotent).

    Migration 0002 does this on migrate; a test database flushed by a transactional test loses
    groups (not permissions), so tests and ``manage.py shell`` can call this to restore them.
    """
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from apps.payroll.models import PayrollRow

    batch_type = ContentType.objects.get_for_model(PayrollBatch)
    row_type = ContentType.objects.get_for_model(PayrollRow)
    names = {
        "hold_payrollbatch": "Can hold payroll batch (暂停代发批次)",
        "release_payrollbatch": "Can release or reject payroll batch (放行/拒绝代发批次)",
        "view_payrollbatch": "Can view 代发工资批次",
        "view_payrollrow": "Can view 代发明细",
    }
    for group_name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for codename in codenames:
            content_type = row_type if codename.endswith("payrollrow") else batch_type
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": names[codename]}
            )
            group.permissions.add(permission)
