"""What the kiosk offers for a batch in each state, and how a refusal reads to the agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet, TextChoices
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from apps.intake.errors import StateError
from apps.payroll.availability import BUSY_STATUSES as BUSY_STATUSES  # re-exported to the kiosk's views
from apps.payroll.availability import pay_date_outside_window
from apps.payroll.models import BatchStatus as S
from apps.payroll.models import PayrollBatch
from apps.payroll.services.checklist import checklist_required
from apps.payroll.services.intake import PAY_WINDOW_DAYS  # the window 确认入库 re-checks
from apps.returns.models import Pain001Source

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
    # The report stays downloadable after 已回盘 (the agent may still need to check it).
    S.RETURNED: ("report", "return_download", "return_view"),
    S.ERROR: ("report",),
}


def batch_kiosk_actions(status: str, *, pay_date: date | None = None, today: date | None = None) -> tuple[str, ...]:
    """The actions of the state; 确认入库 / 补充入库 only while the pay date is still in its window
    (the service would refuse it: the screen does not offer what cannot succeed)."""
    actions = KIOSK_ACTIONS.get(status, ())
    if "confirm" in actions and today is not None and pay_date_outside_window(pay_date=pay_date, today=today):
        actions = tuple(a for a in actions if a != "confirm")
    return actions


def batch_kiosk_actions_of(*, batch: PayrollBatch, today: date) -> tuple[tuple[str, ...], bool]:
    """The batch's kiosk actions and whether 确认入库 was withheld for want of a 核对码.

    A file without a 核对码 is confirmed at the kiosk only by its checklist's signed QR, which only a
    pain.001's checklist has; an older client's file gets no 确认入库 (the service refuses it anyway):
    the agent revokes it or asks bank staff. One rule for the file's page and the status API it polls.
    """
    actions = batch_kiosk_actions(batch.status, pay_date=batch.pay_date, today=today)
    if "confirm" not in actions or checklist_required(batch=batch):
        return actions, False
    if Pain001Source.objects.filter(batch_id=batch.pk).exists():
        return actions, False
    return tuple(a for a in actions if a != "confirm"), True


def pay_date_passed_message(*, pay_date: date | None, today: date) -> str:
    """待确认入库 but the pay date left its window: what the agent does instead of 确认入库."""
    values = {"pay_date": pay_date.isoformat() if pay_date else "—", "today": today.isoformat(),
              "days": PAY_WINDOW_DAYS}
    if pay_date is not None and pay_date < today:
        return _("发薪日期 %(pay_date)s 已过（今天是 %(today)s），此文件不能再入库。"
                 "请点击“撤消”，在企业客户端改正发薪日期后重新制作文件，再提交。") % values
    return _("发薪日期 %(pay_date)s 不在今天（%(today)s）起 %(days)s 天之内，此文件不能入库。"
             "请点击“撤消”，在企业客户端改正发薪日期后重新制作文件，再提交。") % values


def revoked_message() -> str:
    """After 撤消, on the action's message and on the file's page alike."""
    return _("文件已撤消，不会入库。同一文件和批次号可以重新提交。")


# 查询工资文件 / 查询员工文件: ten a page; uploads refused at validation apart, collapsed.
QUERY_PAGE_SIZE = 10


@dataclass(frozen=True)
class QueryPages:
    records: Page  # the real batches (or files), newest first
    failed: Page  # uploads refused at validation (校验失败): apart, collapsed


def query_pages(*, queryset: QuerySet, failed_statuses: list[str], page: str | None,
                failed_page: str | None) -> QueryPages:
    return QueryPages(
        records=Paginator(queryset.exclude(status__in=failed_statuses), QUERY_PAGE_SIZE).get_page(page),
        failed=Paginator(queryset.filter(status__in=failed_statuses), QUERY_PAGE_SIZE).get_page(failed_page),
    )


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
