"""What the kiosk offers for a batch in each state, and how a refusal reads to the agent."""

from __future__ import annotations

from django.db.models import TextChoices
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from apps.intake.errors import StateError
from apps.payroll.models import BatchStatus as S

# DOMAIN.md "Payroll batch states", the "kiosk actions" column, as written.
KIOSK_ACTIONS: dict[str, tuple[str, ...]] = {
    S.VALIDATING: ("refresh",),
    S.INVALID: ("report",),
    S.AWAITING_CONFIRMATION: ("confirm", "revoke", "report"),
    S.REVOKED: ("report",),
    S.STORING: ("refresh",),
    S.STORED: ("report",),
    S.HELD: ("report",),
    S.REJECTED: ("report",),
    S.PAID: ("report",),
    S.FAILED: ("report",),
    S.RETURNED: ("return_download", "return_view"),
    S.ERROR: ("report",),
}
# The worker is still busy: the page shows progress and refreshes itself.
BUSY_STATUSES = frozenset({S.VALIDATING, S.STORING})


def batch_kiosk_actions(status: str) -> tuple[str, ...]:
    return KIOSK_ACTIONS.get(status, ())


def system_error_message() -> str:
    """系统处理失败, on the kiosk: what happened and what to do."""
    return _("系统处理此文件时多次失败，未入库任何数据。请联系银行柜台；无需重新制作文件。")


def _action_label(action: str) -> str:
    labels = {
        "confirm": _("确认入库"),
        "revoke": _("撤消"),
        "refuse": _("校验"),
        "store": _("入库"),
        "cancel": _("取消"),
    }
    return labels.get(action, action)


def refusal_message(error: Exception, *, statuses: type[TextChoices] = S) -> str:
    """The sentence shown for a refused action: what happened and what to do next.

    Service errors (UploadRefused, PayDateOutOfWindow, KioskClosed …) carry their own zh/en
    sentences; a state conflict is phrased here because the file moved under the agent's feet
    (another kiosk, the worker, bank staff) and a refresh shows how.
    """
    if isinstance(error, StateError):
        # ``statuses``: the state table the error came from (payroll batches or employee files).
        label = statuses(error.actual).label if error.actual in statuses.values else (error.actual or "")
        return _("此文件当前状态为“%(status)s”，不能%(action)s。请点击“刷新”查看最新状态。") % {
            "status": label,
            "action": _action_label(error.action),
        }
    message = getattr(error, "message", None)
    if callable(message):
        return str(message(get_language() or "zh-hans"))
    return _("操作未能完成。请点击“刷新”后重试；如仍不成功，请联系银行柜台。")
