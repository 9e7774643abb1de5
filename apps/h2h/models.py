"""Idempotency keys of the host-to-host API: one row per (certificate, key), written in the same
transaction as the effect it records, so a retried POST replays its first answer."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.agreements.models import Certificate


class IdempotencyKey(models.Model):
    certificate = models.ForeignKey(Certificate, verbose_name=_("证书"), on_delete=models.PROTECT, related_name="+")
    key = models.CharField(_("幂等键"), max_length=255)
    # SHA-256 of what the request asked (method, path, parameters, file bytes): the same key with
    # another request is refused (422), never replayed.
    request_digest = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints = [models.UniqueConstraint(fields=["certificate", "key"], name="h2h_idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.certificate_id}:{self.key}"
