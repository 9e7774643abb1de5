"""What the audit log shows staff: an action's name instead of its code (``payroll_hold`` → 暂停代发批次)
and the object it touched as a link into the back office instead of ``card#1``.

The codes stay as recorded (they are stable keys that tests and reports filter on); only the
display translates them. A code missing here is shown as recorded, so a new action is never hidden.
"""

from __future__ import annotations

import re

from django.apps import apps
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    # kiosk: cards and logins
    "card_login": _("服务卡登录"),
    "card_login_failed": _("服务卡密码错误"),
    "card_login_locked": _("已锁定的服务卡尝试登录"),
    "card_login_unknown": _("未知卡号尝试登录"),
    "card_lock": _("服务卡锁定（密码错误次数过多）"),
    "kiosk_lockout": _("自助终端登录暂停（失败次数过多）"),
    # back office: cards
    "card_issue": _("发放服务卡"),
    "card_pin_set": _("设置服务卡密码"),
    "card_unlock": _("服务卡解锁"),
    "card_block": _("服务卡挂失"),
    "card_unblock": _("服务卡解除挂失"),
    "card_withdraw": _("服务卡注销"),
    "card_replace": _("补发服务卡"),
    # agreements and certificates
    "certificate_issue": _("签发企业证书"),
    "certificate_revoke": _("证书已吊销"),
    "agreement_certificate_rebind": _("协议换绑证书"),
    # employee files
    "employee_file_submit": _("提交员工信息文件"),
    "employee_file_confirm": _("员工信息确认入库"),
    "employee_file_cancel": _("员工信息取消"),
    "employee_file_stored": _("员工信息入库成功"),
    "employees_error": _("员工信息文件系统处理失败"),
    "employees_files_deleted": _("员工信息文件到期删除"),
    # payroll
    "payroll_submit": _("提交代发工资文件"),
    "payroll_confirm": _("代发工资确认入库"),
    "payroll_revoke": _("代发工资撤消"),
    "payroll_stored": _("代发工资入库成功"),
    "payroll_report_download": _("下载报告文件"),
    "payroll_hold": _("代发批次已暂停"),
    "payroll_release": _("代发批次已放行"),
    "payroll_reject": _("代发批次已拒绝"),
    "payroll_batch_paid": _("代发批次已发放"),
    "payroll_batch_failed": _("代发批次发放失败"),
    "payroll_error": _("代发工资文件系统处理失败"),
    "payroll_files_deleted": _("代发工资文件到期删除"),
    # return files
    "return_file_made": _("生成回盘文件"),
    "return_file_download": _("下载回盘文件"),
    # batch account opening
    "account_opening_received": _("收到批量开户文件"),
    "account_opening_refused": _("批量开户文件被拒绝"),
    "account_opening_opened": _("批量开户完成"),
    "account_opening_result_download": _("下载批量开户结果"),
    # ledger
    "ledger_account_open": _("开立账户"),
    "ledger_account_status": _("账户状态变更"),
    "staff_posting_post": _("柜面存取记账"),
    "staff_posting_request": _("柜面存取提交复核"),
    "staff_posting_approve": _("柜面存取复核通过"),
    "staff_posting_reject": _("柜面存取复核拒绝"),
    # calendar
    "holiday.save": _("修改节假日"),
    "holiday.confirm": _("确认节假日"),
}

_ACTOR_OBJECT = re.compile(r"^(card)#(\d+)$")
_ACTOR_MODELS = {"card": "cards.servicecard"}


def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def object_admin_link(object_type: str, object_id: str) -> tuple[str, str | None]:
    """(text, admin URL or None) for a recorded ``app_label.model`` and primary key."""
    if not object_type:
        return "", None
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return f"{object_type} #{object_id}", None
    text = f"{model._meta.verbose_name} #{object_id}"
    if model not in admin.site._registry:
        return text, None
    try:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[object_id])
    except NoReverseMatch:
        return text, None
    return text, url


def actor_admin_link(actor: str) -> tuple[str, str | None]:
    """A card actor (``card#1``) as the card's admin link; staff and jobs stay as recorded."""
    match = _ACTOR_OBJECT.match(actor or "")
    if match is None:
        return actor, None
    return object_admin_link(_ACTOR_MODELS[match.group(1)], match.group(2))
