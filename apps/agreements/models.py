"""Companies, the certificates the bank issued to them, and their payroll agreements (代发协议)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Company(models.Model):
    name = models.CharField(_("企业名称"), max_length=200)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Certificate(models.Model):
    """Every certificate the bank root issued: the bank's own and the enterprises' USB keys.
    Revocation here is what the CRL handed to the verifier is made from."""

    class Role(models.TextChoices):
        BANK = "bank", _("银行证书")
        ENTERPRISE = "enterprise", _("企业证书")

    role = models.CharField(_("用途"), max_length=12, choices=Role.choices)
    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.PROTECT, null=True, blank=True,
                                related_name="certificates")
    serial = models.CharField(_("序列号"), max_length=64, unique=True)
    fingerprint = models.CharField(_("SHA-256 指纹"), max_length=64, unique=True)
    subject = models.CharField(_("主题"), max_length=300)
    pem = models.TextField(_("证书 PEM"))
    not_before = models.DateTimeField(_("生效时间"))
    not_after = models.DateTimeField(_("失效时间"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revocation_reason = models.CharField(_("吊销原因"), max_length=200, blank=True)
    # 重新签发: the certificate that took this one's agreements (this one signs files until revoked).
    replaced_by = models.ForeignKey("self", verbose_name=_("已由此证书接替"), on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="replaces")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("证书")
        verbose_name_plural = _("证书")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.subject} ({self.serial})"


class Agreement(models.Model):
    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="agreements")
    number = models.CharField(_("协议编号"), max_length=32, unique=True)
    payer_unit_no = models.CharField(_("发薪单位号"), max_length=32)
    start_date = models.DateField(_("协议起始日"))
    end_date = models.DateField(_("协议到期日"))
    fee_per_payment = models.DecimalField(_("手续费（元/笔）"), max_digits=10, decimal_places=2)
    single_limit = models.DecimalField(_("单笔发放限额（元）"), max_digits=14, decimal_places=2)
    settlement_account = models.CharField(_("结算账号"), max_length=32)
    certificate = models.ForeignKey(Certificate, verbose_name=_("绑定证书"), on_delete=models.PROTECT,
                                    related_name="agreements")
    # 银企直连: staff enable the host-to-host API per agreement (audited, agreement_h2h_set).
    h2h_enabled = models.BooleanField(_("开通银企直连"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("代发协议")
        verbose_name_plural = _("代发协议")
        ordering = ["company__name", "number"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__gte=models.F("start_date")), name="agreement_term"),
            models.CheckConstraint(condition=models.Q(fee_per_payment__gte=0), name="agreement_fee_nonnegative"),
            models.CheckConstraint(condition=models.Q(single_limit__gt=0), name="agreement_limit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.company}"
