"""The company's financial service card (金融服务卡): what the agent logs in with at the kiosk."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.agreements.models import Company


class ServiceCard(models.Model):
    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="cards")
    # The card number is looked up by a keyed hash; only its last four digits are kept in clear.
    number_hash = models.CharField(_("卡号摘要"), max_length=64, unique=True)
    last4 = models.CharField(_("卡号后四位"), max_length=4)
    pin_hash = models.CharField(_("密码摘要"), max_length=200)
    failed_attempts = models.PositiveSmallIntegerField(_("连续密码错误次数"), default=0)
    locked_at = models.DateTimeField(_("锁定时间"), null=True, blank=True)
    active = models.BooleanField(_("有效"), default=True)
    issued_at = models.DateTimeField(_("发卡时间"), auto_now_add=True)
    last_login_at = models.DateTimeField(_("最近登录"), null=True, blank=True)

    class Meta:
        verbose_name = _("金融服务卡")
        verbose_name_plural = _("金融服务卡")

    def __str__(self) -> str:
        return f"**** {self.last4} ({self.company})"

    @property
    def masked_number(self) -> str:
        return f"**** **** **** {self.last4}"
