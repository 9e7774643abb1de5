"""Payroll batches (代发工资文件) and their stored rows. The state table is DOMAIN.md's, as written."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.agreements.models import Agreement, Certificate, Company
from apps.cards.models import ServiceCard
from apps.intake.models import IntakeWork


class BatchStatus(models.TextChoices):
    VALIDATING = "validating", _("入库中（预校验）")
    INVALID = "invalid", _("校验失败")
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("待确认入库")
    REVOKED = "revoked", _("已撤消")
    STORING = "storing", _("入库中")
    STORED = "stored", _("成功")
    HELD = "held", _("已暂停")
    REJECTED = "rejected", _("已拒绝")
    PAID = "paid", _("已发放")
    FAILED = "failed", _("发放失败")
    RETURNED = "returned", _("已回盘")
    ERROR = "error", _("系统处理失败")


# A batch number, a file digest and a file id are taken once per agreement by every batch except
# those that freed them (DOMAIN.md "Rules": an invalid or revoked batch frees them; so does error,
# 系统处理失败, until staff retry it).
FREEING_STATUSES = [BatchStatus.INVALID, BatchStatus.REVOKED, BatchStatus.ERROR]


class ConfirmedHow(models.TextChoices):
    """How 确认入库 was proven (issue 13): the back office shows it for every stored batch."""

    CHECKLIST_SCANNED = "checklist_scanned", _("扫描核对清单二维码")
    CODE_TYPED = "code_typed", _("输入核对码")
    STAFF_REASON = "staff_reason", _("银行员工确认（附原因）")
    API_CERTIFICATE = "api_certificate", _("银企直连证书")
    # Historic only: kiosk confirmations of files without a 核对码 made before the kiosk refused them
    # (apps/payroll/services/checklist.py). No path writes it now; it stays so those rows still read.
    NO_CODE = "no_code", _("文件无核对码（旧版客户端）")


class PayrollBatch(IntakeWork):
    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="batches")
    agreement = models.ForeignKey(Agreement, verbose_name=_("协议"), on_delete=models.PROTECT, related_name="batches")
    # Who uploaded it: the kiosk's card, or the certificate of a host-to-host upload (银企直连).
    card = models.ForeignKey(ServiceCard, verbose_name=_("服务卡"), on_delete=models.PROTECT, related_name="batches",
                             null=True, blank=True)
    certificate = models.ForeignKey(Certificate, verbose_name=_("直连证书"), on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    status = models.CharField(_("状态"), max_length=24, choices=BatchStatus.choices, default=BatchStatus.VALIDATING)
    uploaded_at = models.DateTimeField(_("上传时间"))
    upload_date = models.DateField(_("上传日期"))
    original_name = models.CharField(_("文件名"), max_length=255)
    stored_name = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField(_("文件大小"))

    # Known once the envelope is opened. NULL until then, not "": the unique constraints below
    # must not see every batch still being opened as the same empty value.
    file_id = models.CharField(_("文件标识"), max_length=64, null=True, blank=True)  # noqa: DJ001
    digest = models.CharField(_("文件摘要"), max_length=64, null=True, blank=True)  # noqa: DJ001
    batch_no = models.CharField(_("批次号"), max_length=32, null=True, blank=True)  # noqa: DJ001
    pay_date = models.DateField(_("发薪日期"), null=True, blank=True)
    purpose = models.CharField(_("用途"), max_length=40, blank=True)
    record_count = models.PositiveIntegerField(_("笔数"), default=0)
    total_amount = models.DecimalField(_("总金额"), max_digits=16, decimal_places=2, default=0)
    expected_fee = models.DecimalField(_("预计手续费"), max_digits=14, decimal_places=2, default=0)

    # Pre-validation progress and findings.
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    rows_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    errors = models.JSONField(_("错误明细"), default=list, blank=True)
    refusal_code = models.CharField(max_length=64, blank=True)
    new_employee_count = models.PositiveIntegerField(_("新增员工数"), default=0)
    new_employees = models.JSONField(_("新增员工"), default=list, blank=True)
    # SHA-256 of the rows prepared for storing at pre-validation; storing checks it before use.
    rows_digest = models.CharField(max_length=64, blank=True)
    # 核对码 of the file as an HMAC keyed by the server's secret, never the code itself: whoever
    # reads the database (staff, a backup) cannot learn it, so only the stamped checklist's holder
    # can prove it at the kiosk. Empty: the file carries no code (made by a client before issue 13).
    check_code_hash = models.CharField(max_length=64, blank=True)
    confirmed_how = models.CharField(_("确认方式"), max_length=24, choices=ConfirmedHow.choices, blank=True)
    confirm_reason = models.CharField(_("确认原因"), max_length=300, blank=True)

    # A correction (更正, payroll format version 2): the batch whose failed rows it pays again; the
    # rows are linked one by one in PayrollCorrection.
    corrects = models.ForeignKey("self", verbose_name=_("更正的原批次"), on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="corrections")

    # Back office and pay day.
    held_by = models.CharField(_("暂停人"), max_length=150, blank=True)
    rejected_reason = models.CharField(_("拒绝原因"), max_length=300, blank=True)
    failure_reason = models.CharField(_("失败原因"), max_length=300, blank=True)
    success_count = models.PositiveIntegerField(_("成功笔数"), default=0)
    success_amount = models.DecimalField(_("成功金额"), max_digits=16, decimal_places=2, default=0)
    failure_count = models.PositiveIntegerField(_("失败笔数"), default=0)
    failure_amount = models.DecimalField(_("失败金额"), max_digits=16, decimal_places=2, default=0)
    fee_charged = models.DecimalField(_("实收手续费"), max_digits=14, decimal_places=2, default=0)
    paid_at = models.DateTimeField(_("发放时间"), null=True, blank=True)

    # Technical: the database clock, so a pinned business clock never freezes the sweeper.
    status_changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("代发工资批次")
        verbose_name_plural = _("代发工资批次")
        ordering = ["-uploaded_at", "-id"]
        indexes = [
            # The kiosk's 查询代发工资 lists a company's batches by upload date.
            models.Index(fields=["company", "upload_date"], name="batch_company_date"),
            # The pay-day job and the sweeper look for batches by status and date.
            models.Index(fields=["status", "pay_date"], name="batch_status_paydate"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "batch_no"], condition=~models.Q(status__in=FREEING_STATUSES),
                name="batch_no_once_per_agreement",
            ),
            models.UniqueConstraint(
                fields=["agreement", "digest"], condition=~models.Q(status__in=FREEING_STATUSES),
                name="batch_digest_once_per_agreement",
            ),
            models.UniqueConstraint(
                fields=["file_id"], condition=~models.Q(status__in=FREEING_STATUSES), name="batch_file_id_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_no or self.original_name} ({self.get_status_display()})"


class PayrollRow(models.Model):
    """A stored payment. Written in bulk (COPY) by the storing task; never edited by hand."""

    # No index of its own: the unique (batch, seq) index below starts with batch_id and serves
    # every lookup by batch; a second index would only slow the 100k-row COPY.
    batch = models.ForeignKey(PayrollBatch, on_delete=models.PROTECT, related_name="rows", db_index=False)
    seq = models.PositiveIntegerField(_("序号"))
    account = models.CharField(_("账号"), max_length=20)
    name = models.CharField(_("户名"), max_length=100)
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2)
    id_type = models.CharField(_("证件类型"), max_length=1)
    id_number = models.CharField(_("证件号码"), max_length=40)
    remark = models.CharField(_("备注"), max_length=100, blank=True)
    result_code = models.CharField(_("结果码"), max_length=8, blank=True)
    result_message = models.CharField(_("结果说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("代发明细")
        verbose_name_plural = _("代发明细")
        ordering = ["batch", "seq"]
        constraints = [
            # A rerun of the storing task cannot store a row twice.
            models.UniqueConstraint(fields=["batch", "seq"], name="payroll_row_once"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payroll_row_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.seq} {self.name} {self.amount}"


class PayrollCorrection(models.Model):
    """One row of a correction batch paying again one failed row of its original batch (issue 13).

    Written when the correction passes pre-validation (not yet effective) and made effective inside
    the storing transaction; the partial unique index then allows one effective correction per
    original row, so two corrections racing for the same failed row cannot both be stored. A
    rejected correction stops being effective, which frees its rows for another correction.
    """

    original_batch = models.ForeignKey(PayrollBatch, verbose_name=_("原批次"), on_delete=models.PROTECT,
                                       related_name="corrected_rows")
    original_row = models.ForeignKey(PayrollRow, verbose_name=_("原明细"), on_delete=models.PROTECT, related_name="+")
    original_seq = models.PositiveIntegerField(_("原序号"))
    # The original row's result when the link was written (INSERT ... SELECT from the row itself):
    # the check constraint refuses a link to a row that was paid (0000) or not paid yet ("").
    original_result_code = models.CharField(_("原结果码"), max_length=8)
    correction_batch = models.ForeignKey(PayrollBatch, verbose_name=_("更正批次"), on_delete=models.PROTECT,
                                         related_name="correction_links", db_index=False)
    correction_seq = models.PositiveIntegerField(_("更正序号"))
    effective = models.BooleanField(_("有效"), default=False)

    class Meta:
        verbose_name = _("更正明细")
        verbose_name_plural = _("更正明细")
        ordering = ["correction_batch", "correction_seq"]
        constraints = [
            # The guarantee against double pay: one effective correction per original row.
            models.UniqueConstraint(fields=["original_row"], condition=models.Q(effective=True),
                                    name="correction_once_per_original_row"),
            models.CheckConstraint(condition=~models.Q(original_result_code__in=["", "0000"]),
                                   name="correction_of_failed_row_only"),
            # Starts with correction_batch_id: serves activating and freeing a correction's links.
            models.UniqueConstraint(fields=["correction_batch", "correction_seq"], name="correction_row_once"),
        ]

    def __str__(self) -> str:
        return f"{self.correction_batch_id}#{self.correction_seq} → {self.original_batch_id}#{self.original_seq}"
