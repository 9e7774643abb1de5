"""The company's financial service card (金融服务卡): what the agent logs in with at the kiosk.

Besides the cards themselves: the failure counter of card numbers the bank does not know (or no
longer honours), so that they lock exactly as a real card does, and the kiosks the login limit
has made wait, which staff see in the back office.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.agreements.models import Company


class CardStatus(models.TextChoices):
    ACTIVE = "active", _("正常")
    BLOCKED = "blocked", _("已挂失")
    WITHDRAWN = "withdrawn", _("已注销")


class ServiceCard(models.Model):
    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="cards")
    # The card number is looked up by a keyed hash; only its last four digits are kept in clear.
    number_hash = models.CharField(_("卡号摘要"), max_length=64, unique=True)
    last4 = models.CharField(_("卡号后四位"), max_length=4)
    pin_hash = models.CharField(_("密码摘要"), max_length=200)
    failed_attempts = models.PositiveSmallIntegerField(_("连续密码错误次数"), default=0)
    locked_at = models.DateTimeField(_("锁定时间"), null=True, blank=True)
    # 挂失 (blocked) and 注销 (withdrawn) cards answer at the kiosk exactly like unknown numbers.
    status = models.CharField(_("卡状态"), max_length=10, choices=CardStatus.choices, default=CardStatus.ACTIVE)
    status_reason = models.CharField(_("状态原因"), max_length=300, blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    replaces = models.OneToOneField(
        "self", verbose_name=_("补发自"), null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
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


class UnknownCardAttempt(models.Model):
    """Wrong logins with a card number that finds no usable card (unknown, 挂失 or 注销).

    Counted and locked like a real card (three tries, no expiry, as a real lock has none), so the
    lock message proves nothing about whether a number exists. Keyed by the same keyed hash as
    ServiceCard.number_hash; the number itself is never stored. The per-kiosk login limit bounds
    how many rows an attacker can make.
    """

    number_hash = models.CharField(_("卡号摘要"), max_length=64, unique=True)
    failed_attempts = models.PositiveSmallIntegerField(_("连续密码错误次数"), default=0)
    locked_at = models.DateTimeField(_("锁定时间"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("首次尝试"), auto_now_add=True)

    class Meta:
        verbose_name = _("未知卡号尝试")
        verbose_name_plural = _("未知卡号尝试")

    def __str__(self) -> str:
        return f"{self.number_hash[:12]}… ({self.failed_attempts})"


class KioskLockout(models.Model):
    """A kiosk (client address) made to wait after too many failed logins: the staff's alert."""

    address = models.GenericIPAddressField(_("自助终端地址"))
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True, db_index=True)
    until = models.DateTimeField(_("等待至"))
    failures = models.PositiveSmallIntegerField(_("失败登录次数"))

    class Meta:
        verbose_name = _("自助终端登录限制")
        verbose_name_plural = _("自助终端登录限制")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.address} → {self.until:%Y-%m-%d %H:%M}"
