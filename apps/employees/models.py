"""The per-company employee registry and the employee info files (员工信息盘片) that change it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.agreements.models import Agreement, Certificate, Company
from apps.cards.models import ServiceCard
from apps.intake.models import IntakeWork

ID_TYPE_CHOICES = [
    ("0", _("居民身份证")),
    ("1", _("护照")),
    ("2", _("军官证")),
    ("3", _("港澳居民来往内地通行证")),
    ("4", _("台湾居民来往大陆通行证")),
    ("5", _("外国人永久居留身份证")),
    ("9", _("其他")),
]


class Employee(models.Model):
    """One registered employee account of a company. Removal keeps the row (removed_at) for history."""

    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="employees")
    account = models.CharField(_("账号"), max_length=20)
    name = models.CharField(_("户名"), max_length=100)
    id_type = models.CharField(_("证件类型"), max_length=1, choices=ID_TYPE_CHOICES)
    id_number = models.CharField(_("证件号码"), max_length=40)
    added_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    removed_at = models.DateTimeField(_("删除时间"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("员工登记")
        verbose_name_plural = _("员工登记")
        constraints = [
            # Registry match looks up (company, account) among current employees.
            models.UniqueConstraint(
                fields=["company", "account"],
                condition=models.Q(removed_at__isnull=True),
                name="employee_current_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.account[-4:]}"


class EmployeeFile(IntakeWork):
    """An uploaded employee info file: validating → invalid | awaiting_confirmation → stored | cancelled,
    and error (系统处理失败) from validating or storing after the attempts cap."""

    class Status(models.TextChoices):
        VALIDATING = "validating", _("校验中")
        INVALID = "invalid", _("校验失败")
        AWAITING_CONFIRMATION = "awaiting_confirmation", _("待确认入库")
        STORING = "storing", _("入库中")
        STORED = "stored", _("成功")
        CANCELLED = "cancelled", _("已取消")
        ERROR = "error", _("系统处理失败")

    class Operation(models.TextChoices):
        ADD = "add", _("新增")
        DELETE = "delete", _("删除")

    company = models.ForeignKey(
        Company, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="employee_files"
    )
    agreement = models.ForeignKey(Agreement, verbose_name=_("协议"), on_delete=models.PROTECT, null=True, blank=True)
    # Who uploaded it: the kiosk's card, or the certificate of a host-to-host upload (银企直连).
    card = models.ForeignKey(ServiceCard, verbose_name=_("服务卡"), on_delete=models.PROTECT, null=True, blank=True)
    certificate = models.ForeignKey(Certificate, verbose_name=_("直连证书"), on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    status = models.CharField(_("状态"), max_length=24, choices=Status.choices, default=Status.VALIDATING)
    uploaded_at = models.DateTimeField(_("上传时间"))
    upload_date = models.DateField(_("上传日期"), db_index=True)
    original_name = models.CharField(_("文件名"), max_length=255)
    stored_name = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField(_("大小"))
    operation = models.CharField(_("操作"), max_length=8, choices=Operation.choices, blank=True)
    # NULL until the envelope is opened, so files still being opened don't collide on "".
    file_id = models.CharField(_("文件标识"), max_length=64, null=True, blank=True)  # noqa: DJ001
    digest = models.CharField(_("文件摘要"), max_length=64, blank=True)
    record_count = models.PositiveIntegerField(_("笔数"), default=0)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    errors = models.JSONField(_("错误明细"), default=list, blank=True)
    refusal_code = models.CharField(max_length=64, blank=True)
    status_changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("员工信息文件")
        verbose_name_plural = _("员工信息文件")
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["company", "upload_date"], name="empfile_company_date")]
        constraints = [
            # A signed file is taken once; a refused or cancelled one may be brought again.
            models.UniqueConstraint(
                fields=["file_id"],
                condition=~models.Q(status__in=["invalid", "cancelled", "error"]),
                name="employee_file_id_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"


class EmployeeFileRow(models.Model):
    file = models.ForeignKey(EmployeeFile, on_delete=models.CASCADE, related_name="rows")
    seq = models.PositiveIntegerField(_("序号"))
    id_type = models.CharField(_("证件类型"), max_length=1, choices=ID_TYPE_CHOICES)
    id_number = models.CharField(_("证件号码"), max_length=40)
    name = models.CharField(_("户名"), max_length=100)
    account = models.CharField(_("账号"), max_length=20)

    class Meta:
        verbose_name = _("员工信息文件明细")
        verbose_name_plural = _("员工信息文件明细")
        ordering = ["file", "seq"]
        constraints = [models.UniqueConstraint(fields=["file", "seq"], name="employee_file_row_once")]

    def __str__(self) -> str:
        return f"{self.file_id}#{self.seq} {self.name}"
