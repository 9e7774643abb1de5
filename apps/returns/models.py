"""Return files (回盘文件): one per paid or failed batch, produced the day after the pay date."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from apps.payroll.models import PayrollBatch


class ReturnFile(models.Model):
    batch = models.OneToOneField(PayrollBatch, verbose_name=_("代发批次"), on_delete=models.PROTECT,
                                 related_name="return_file")
    # The sealed file (signed by the bank, encrypted for the company) under PRIVATE_FILES_DIR/returns/.
    stored_name = models.CharField(max_length=64, unique=True)
    file_id = models.CharField(_("文件标识"), max_length=64, unique=True)
    size = models.PositiveBigIntegerField(_("文件大小"))
    digest = models.CharField(_("文件摘要"), max_length=64)  # SHA-256 of the sealed bytes on disk
    # The bank cannot decrypt what it sent (only the enterprise key can), so it keeps the digest of
    # the plain return content: reconciliation rebuilds that content from the rows and compares.
    plain_digest = models.CharField(_("明文摘要"), max_length=64)
    format_version = models.CharField(max_length=8)
    record_count = models.PositiveIntegerField(_("笔数"))
    success_count = models.PositiveIntegerField(_("成功笔数"))
    success_amount = models.DecimalField(_("成功金额"), max_digits=16, decimal_places=2)
    failure_count = models.PositiveIntegerField(_("失败笔数"))
    failure_amount = models.DecimalField(_("失败金额"), max_digits=16, decimal_places=2)
    fee_charged = models.DecimalField(_("实收手续费"), max_digits=14, decimal_places=2)
    business_date = models.DateField(_("生成业务日期"))
    created_at = models.DateTimeField(_("生成时间"), db_default=Now())

    class Meta:
        verbose_name = _("回盘文件")
        verbose_name_plural = _("回盘文件")
        ordering = ["-business_date", "-id"]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.file_id}"


class Pain001Source(models.Model):
    """A batch that arrived as an ISO 20022 pain.001 (issue 14): what its pain.002 status report
    answers to. Recorded when the file is read, whatever the outcome (a refused file gets its RJCT)."""

    batch = models.OneToOneField(PayrollBatch, verbose_name=_("代发批次"), on_delete=models.CASCADE,
                                 related_name="pain001_source")
    msg_id = models.CharField(_("原报文标识"), max_length=35)
    end_to_end_ids = models.JSONField(_("端到端标识"), default=list)  # per row, in file order

    class Meta:
        verbose_name = _("pain.001 来源")
        verbose_name_plural = _("pain.001 来源")

    def __str__(self) -> str:
        return f"{self.batch_id} {self.msg_id}"
