"""Bank staff and files in error (系统处理失败): retry, audited, after the checks that may have
changed meanwhile (the pay-date window, the certificate's revocation)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Now

from apps.core.errors import ServiceError
from apps.core.services import audit_record
from apps.intake.kinds import FileKind, file_kinds
from apps.intake.queue import intake_enqueue_on_commit


class RetryRefused(ServiceError):
    pass


def certificate_not_revoked_require(*, record: models.Model) -> None:
    certificate = record.agreement.certificate
    if certificate.revoked_at is not None:
        raise RetryRefused(
            "retry_certificate_revoked",
            f"签名证书 {certificate.serial} 已于 {certificate.revoked_at:%Y-%m-%d %H:%M} 吊销，不能重试；"
            "请通知企业用新证书重新制作文件。",
            f"The signing certificate {certificate.serial} was revoked on {certificate.revoked_at:%Y-%m-%d %H:%M}; "
            "the file cannot be retried. Ask the company to make it again with its new certificate.",
        )


def intake_error_retry(*, kind: FileKind, pk: int, user: AbstractBaseUser,
                       checks: Callable[[models.Model], None] | None = None) -> None:
    """重试: error → the state it failed in, attempts reset, queued after commit. ``checks`` (the
    kind's own, e.g. the pay-date window) and the certificate run first; a refusal changes nothing."""
    record = kind.model.objects.select_related("agreement__certificate").get(pk=pk)
    if record.status == kind.error_status:
        certificate_not_revoked_require(record=record)
        if checks is not None:
            checks(record)
    action = f"retry_{record.error_from}"
    if action not in kind.transitions:
        action = "retry_validating"
    try:
        with transaction.atomic():
            kind.transition(pk=pk, action=action, attempts=0, claim_token="", system_error="", heartbeat_at=Now())
            audit_record(actor_kind="staff", actor=user.get_username(), action=f"{kind.name}_retry", obj=record,
                         company_id=record.company_id,
                         detail={"to": record.error_from or "validating", "reason": record.system_error})
            intake_enqueue_on_commit(kind=kind.name, pk=pk)
    except IntegrityError as exc:
        raise RetryRefused(
            "retry_taken",
            "此文件的批次号或文件已被后来提交的文件使用，不能重试；请让企业确认后重新制作文件。",
            "Its batch number or file has since been used by another upload; it cannot be retried. "
            "Ask the company to confirm and make the file again.",
        ) from exc


def intake_error_counts() -> list[tuple[FileKind, int]]:
    """How many files of each kind are in error (系统处理失败), for the admin index."""
    return [(kind, kind.model.objects.filter(status=kind.error_status).count()) for kind in file_kinds()]
