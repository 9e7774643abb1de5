"""The payroll batch state machine (DOMAIN.md "Payroll batch states").

Every transition is one function that moves a batch with a conditional UPDATE guarded by the
states it may start from, so two racing callers cannot both succeed and a rerun changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import models
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


def state_transition(
    *, model: type[models.Model], transitions: dict[str, tuple[tuple[str, ...], str]], pk: int, action: str,
    **fields: Any,
) -> None:
    """Move one row of a state machine along ``action`` with one conditional UPDATE; raise
    BatchStateError if it is not in a start state. Payroll batches and employee files share it."""
    allowed_from, to_status = transitions[action]
    updated = model.objects.filter(pk=pk, status__in=allowed_from).update(
        status=to_status, status_changed_at=Now(), **fields
    )
    if updated != 1:
        actual = model.objects.filter(pk=pk).values_list("status", flat=True).first()
        raise BatchStateError(batch_id=pk, action=action, allowed_from=allowed_from, actual=actual)


def batch_transition(*, batch_id: int, action: str, **fields: Any) -> None:
    """Move one batch along ``action`` of the payroll state table."""
    state_transition(model=PayrollBatch, transitions=TRANSITIONS, pk=batch_id, action=action, **fields)


def allowed_actions(status: str) -> list[str]:
    return [action for action, (sources, _target) in TRANSITIONS.items() if status in sources]
