"""The payroll batch state machine (DOMAIN.md "Payroll batch states").

Every transition is one function that moves a batch with a conditional UPDATE guarded by the
states it may start from, so two racing callers cannot both succeed and a rerun changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models.functions import Now

from apps.payroll.errors import BatchStateError
from apps.payroll.models import BatchStatus as S
from apps.payroll.models import PayrollBatch

# action: (from states, to state)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "refuse": ((S.VALIDATING,), S.INVALID),  # 校验失败
    "await_confirmation": ((S.VALIDATING,), S.AWAITING_CONFIRMATION),  # 待确认入库
    "revoke": ((S.AWAITING_CONFIRMATION,), S.REVOKED),  # 撤消
    "confirm": ((S.AWAITING_CONFIRMATION,), S.STORING),  # 确认入库
    "store": ((S.STORING,), S.STORED),  # 成功
    "hold": ((S.STORED,), S.HELD),  # 暂停 (clerk)
    "release": ((S.HELD,), S.STORED),  # 放行 (supervisor)
    "reject": ((S.STORED, S.HELD), S.REJECTED),  # 拒绝 (supervisor)
    "pay": ((S.STORED,), S.PAID),  # pay-day job
    "fail": ((S.STORED,), S.FAILED),  # pay-day job: settlement account cannot cover it
    "return": ((S.PAID, S.FAILED), S.RETURNED),  # return-file job
}


def batch_transition(*, batch_id: int, action: str, **fields: Any) -> None:
    """Move one batch along ``action``; raise BatchStateError if it is not in a start state."""
    allowed_from, to_status = TRANSITIONS[action]
    updated = PayrollBatch.objects.filter(pk=batch_id, status__in=allowed_from).update(
        status=to_status, status_changed_at=Now(), **fields
    )
    if updated != 1:
        actual = PayrollBatch.objects.filter(pk=batch_id).values_list("status", flat=True).first()
        raise BatchStateError(batch_id=batch_id, action=action, allowed_from=allowed_from, actual=actual)


def allowed_actions(status: str) -> list[str]:
    return [action for action, (sources, _target) in TRANSITIONS.items() if status in sources]
