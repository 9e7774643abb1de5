from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """Append-only record of who did what to which object (card, staff user or job)."""

    class ActorKind(models.TextChoices):
        CARD = "card", _("服务卡")
        STAFF = "staff", _("银行员工")
        SYSTEM = "system", _("系统任务")
        CERT = "cert", _("企业证书（银企直连）")

    at = models.DateTimeField(_("记录时间"), auto_now_add=True, db_index=True)
    business_at = models.DateTimeField(_("业务时间"))
    actor_kind = models.CharField(_("操作者类型"), max_length=10, choices=ActorKind.choices)
    actor = models.CharField(_("操作者"), max_length=64)
    company_id = models.BigIntegerField(_("企业"), null=True, blank=True, db_index=True)
    action = models.CharField(_("动作"), max_length=64)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象"), max_length=64, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_type}#{self.object_id}"


class WorkerProbe(models.Model):
    """A round trip through the broker and a worker: proves the task pipeline end to end."""

    requested_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("任务探针")
        verbose_name_plural = _("任务探针")

    def __str__(self) -> str:
        return f"probe {self.pk}: {self.answered_by or 'pending'}"
