"""What every background-worked file record carries for the pipeline (docs/platform-contract.md,
"Intake pipeline"): the claim, its heartbeat, the attempts and the reason kept for staff."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class IntakeWork(models.Model):
    # A task owns the record while claim_token is set and heartbeat_at is fresh (database clock).
    claim_token = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Claims taken in the current state; reset when a step finishes. The cap is INTAKE_MAX_ATTEMPTS.
    attempts = models.PositiveSmallIntegerField(default=0)
    # Exception class and message of the last failed attempt (系统处理失败), for staff.
    system_error = models.CharField(_("系统错误"), max_length=500, blank=True)
    error_from = models.CharField(_("失败时状态"), max_length=24, blank=True)
    # Count per error code over the whole file (the kept list is capped, this is exact).
    error_codes = models.JSONField(_("错误分类计数"), default=dict, blank=True)
    # When the retention job deleted a refused file's upload and report (the audit keeps its digest).
    files_deleted_at = models.DateTimeField(_("文件删除时间"), null=True, blank=True)

    class Meta:
        abstract = True
