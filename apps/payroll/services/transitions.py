"""The payroll batch state machine (DOMAIN.md "Payroll batch states"), moved by the one guarded
transition of apps/intake/transitions.py."""

from __future__ import annotations

from typing import Any

from apps.intake.transitions import Transitions, pipeline_transitions, state_transition
from apps.payroll.models import BatchStatus as S
from apps.payroll.models import PayrollBatch, PayrollCorrection

TRANSITIONS: Transitions = {
    "refuse": ((S.VALIDATING,), S.INVALID),  # 校验失败
    "await_confirmation": ((S.VALIDATING,), S.AWAITING_CONFIRMATION),  # 待确认入库
    "revoke": ((S.AWAITING_CONFIRMATION,), S.REVOKED),  # 撤消
    "confirm": ((S.AWAITING_CONFIRMATION,), S.STORING),  # 确认入库
    "store": ((S.STORING,), S.STORED),  # 成功
    # A correction whose rows another correction paid first (services/corrections.py): 校验失败.
    "correction_refuse": ((S.STORING,), S.INVALID),
    "hold": ((S.STORED,), S.HELD),  # 暂停 (clerk)
    "release": ((S.HELD,), S.STORED),  # 放行 (supervisor)
    "reject": ((S.STORED, S.HELD), S.REJECTED),  # 拒绝 (supervisor)
    "pay": ((S.STORED,), S.PAID),  # pay-day job
    "fail": ((S.STORED,), S.FAILED),  # pay-day job: settlement account cannot cover it
    "return": ((S.PAID, S.FAILED), S.RETURNED),  # return-file job
    # 系统处理失败 after the attempts cap, and staff's retry.
    **pipeline_transitions(validating=S.VALIDATING, storing=S.STORING, error=S.ERROR),
}


def batch_transition(*, batch_id: int, action: str, **fields: Any) -> None:
    """Move one batch along ``action`` of the payroll state table."""
    state_transition(model=PayrollBatch, transitions=TRANSITIONS, pk=batch_id, action=action, **fields)
    if action == "reject":  # a rejected correction pays nothing: its rows may be corrected again
        PayrollCorrection.objects.filter(correction_batch_id=batch_id, effective=True).update(effective=False)
