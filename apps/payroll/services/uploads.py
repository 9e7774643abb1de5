"""What every kiosk upload does first, for payroll and employee files alike: check the hours and
the agreement, keep the file privately, record it, audit it, and start its task once committed."""

from __future__ import annotations

from typing import TypeVar

from celery import Task
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction

from apps.agreements.models import Agreement
from apps.cards.models import ServiceCard
from apps.cards.services import card_actor
from apps.core import clock
from apps.core.files import private_file_save, private_path
from apps.core.hours import service_hours_require
from apps.core.services import audit_record
from apps.payroll.errors import NotYourAgreement

UPLOADS = "uploads"
Upload = TypeVar("Upload", bound=models.Model)


def agreement_of_card_require(*, card: ServiceCard, agreement: Agreement) -> None:
    if agreement.company_id != card.company_id:
        raise NotYourAgreement(
            "agreement_not_yours",
            "所选协议不属于本卡所在企业，请重新选择协议。",
            "The chosen agreement does not belong to this card's company; choose the agreement again.",
        )


def upload_accept(
    *, model: type[Upload], card: ServiceCard, agreement: Agreement, upload: UploadedFile, action: str, task: Task
) -> Upload:
    """Record an uploaded file as a new ``model`` row (company, agreement, card, times, names,
    size) and enqueue ``task`` with its key after commit. A refusal keeps nothing."""
    service_hours_require()
    agreement_of_card_require(card=card, agreement=agreement)
    stored_name, size = private_file_save(upload=upload, area=UPLOADS)
    now = clock.now()
    try:
        with transaction.atomic():
            record = model.objects.create(
                company_id=card.company_id, agreement=agreement, card=card, uploaded_at=now, upload_date=now.date(),
                original_name=(upload.name or action)[:255], stored_name=stored_name, size=size,
            )
            audit_record(actor_kind="card", actor=card_actor(card), action=action, obj=record,
                         company_id=card.company_id, detail={"file": record.original_name, "size": size})
            transaction.on_commit(lambda: task.delay(record.pk))
    except BaseException:
        private_path(UPLOADS, stored_name).unlink(missing_ok=True)
        raise
    return record
