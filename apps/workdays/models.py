from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Holiday(models.Model):
    """One exception to the Monday–Friday week: the bank's holiday calendar (节假日安排).

    Only exceptions are stored: a weekday off (``off``) or a weekend working day (``workday``).
    Every other day follows the week, so the table stays a few dozen rows a year.
    """

    class Kind(models.TextChoices):
        OFF = "off", _("休息日")
        WORKDAY = "workday", _("调休上班")

    class Source(models.TextChoices):
        CHINESECALENDAR = "chinesecalendar", _("chinesecalendar（国务院通知）")
        HOLIDAYS = "holidays", _("holidays（法定假日推算）")
        STAFF = "staff", _("银行员工")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(
        _("类型"),
        max_length=10,
        choices=Kind.choices,
        # A weekday marked 调休上班 is a working day too: that is how staff cancel a computed
        # holiday without deleting its row (a deleted row would come back with the next seed).
        help_text=_("休息日：停止服务；调休上班：照常服务（周末或周一至周五均可）。"),
    )
    name = models.CharField(_("名称"), max_length=64, blank=True)
    provisional = models.BooleanField(_("推算值"), default=False, help_text=_("尚未按国务院通知核对确认的推算日期。"))
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices, default=Source.STAFF)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}".rstrip()
