"""What a batch offers its owner now, whichever door asks: the kiosk's pages, the kiosk's status
poll and the host-to-host API read these, so the three never disagree on when 确认入库 is offered
(the service itself refuses it with pay_date_out_of_window, apps/payroll/services/intake.py)."""

from __future__ import annotations

from datetime import date, timedelta

from apps.payroll.models import BatchStatus as S

# How far ahead a pay date may be: pre-validation checks it, 确认入库 checks it again.
PAY_WINDOW_DAYS = 15

# The worker is still busy with the file: the kiosk page refreshes itself, an ERP keeps polling.
BUSY_STATUSES = frozenset({S.VALIDATING, S.STORING})


def pay_date_outside_window(*, pay_date: date | None, today: date) -> bool:
    """True when 确认入库 would be refused for the pay date today (past it, or too far ahead)."""
    return pay_date is None or not today <= pay_date <= today + timedelta(days=PAY_WINDOW_DAYS)
