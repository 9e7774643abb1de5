"""批量开户 at the counter: a request file the company brought, and the accounts opened from it.

The bank cannot decrypt the result file it sends (only the company's USB key can), so the rows
are kept here: they are the bank's record of who each new account was opened for.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.agreements.models import Agreement, Company
from apps.ledger.models import LedgerAccount


class AccountOpeningRequest(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("已接收")
        OPENED = "opened", _("已开户（结果文件可下载）")
        REFUSED = "refused", _("已拒绝")

    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.PROTECT,
                                related_name="account_opening_requests")
    agreement = models.ForeignKey(Agreement, verbose_name=_("代发协议"), on_delete=models.PROTECT,
                                  related_name="account_opening_requests")
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    original_name = models.CharField(_("文件名"), max_length=255)
    # The sealed upload as received, under PRIVATE_FILES_DIR/account-opening/.
    stored_name = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField(_("文件大小"))
    # Blank when the envelope could not be opened at all.
    file_id = models.CharField(_("文件标识"), max_length=64, blank=True)
    digest = models.CharField(_("文件摘要"), max_length=64, blank=True)  # SHA-256 of the plain request
    record_count = models.PositiveIntegerField(_("申请人数"), default=0)
    opened_count = models.PositiveIntegerField(_("开户成功"), default=0)
    refused_count = models.PositiveIntegerField(_("未开户"), default=0)
    refusal_code = models.CharField(_("拒绝原因代码"), max_length=64, blank=True)
    errors = models.JSONField(_("拒绝原因"), default=list, blank=True)
    # The result: signed by the bank, encrypted for the agreement's certificate.
    result_stored_name = models.CharField(max_length=64, blank=True)
    result_file_id = models.CharField(_("结果文件标识"), max_length=64, blank=True)
    result_digest = models.CharField(_("结果明文摘要"), max_length=64, blank=True)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办员工"), on_delete=models.PROTECT,
                              related_name="+")
    created_at = models.DateTimeField(_("受理时间"))

    class Meta:
        verbose_name = _("批量开户申请")
        verbose_name_plural = _("批量开户申请")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A file, and the same content sealed again, opens accounts once. Refused attempts
            # may repeat (a file refused out of term can be brought again after renewal).
            models.UniqueConstraint(fields=["file_id"], condition=models.Q(status="opened"),
                                    name="account_opening_file_once"),
            models.UniqueConstraint(fields=["agreement", "digest"], condition=models.Q(status="opened"),
                                    name="account_opening_content_once"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement_id} {self.file_id or self.original_name}"


class AccountOpeningRow(models.Model):
    request = models.ForeignKey(AccountOpeningRequest, verbose_name=_("批量开户申请"), on_delete=models.PROTECT,
                                related_name="rows")
    seq = models.PositiveIntegerField(_("序号"))
    # Wider than the rules allow: a refused row is kept as it came (cut to these lengths).
    id_type = models.CharField(_("证件类型"), max_length=8)
    id_number = models.CharField(_("证件号码"), max_length=64)
    name = models.CharField(_("姓名"), max_length=100)
    mobile = models.CharField(_("手机号码"), max_length=32)
    remark = models.CharField(_("备注"), max_length=100, blank=True)
    result_code = models.CharField(_("结果码"), max_length=4)
    account = models.OneToOneField(LedgerAccount, verbose_name=_("新开账户"), on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="opening_row")
    message = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("开户明细")
        verbose_name_plural = _("开户明细")
        ordering = ["request", "seq"]
        constraints = [models.UniqueConstraint(fields=["request", "seq"], name="account_opening_row_seq_once")]
        # Staff look a person up by ID number ("which accounts did we open for this ID?").
        indexes = [models.Index(fields=["id_number"], name="account_opening_id_number_idx")]

    def __str__(self) -> str:
        return f"{self.seq} {self.name}"
