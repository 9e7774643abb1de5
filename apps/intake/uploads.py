"""Accepting an upload, for every kind that works in the background: check the hours and the
agreement, keep the file privately, record it, audit it, queue its work once committed.

Once the row is committed the file is never deleted here: a broker that is down only delays the
work (the sweeper queues it), and the agent is told 已收到，系统稍后处理."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models.functions import Now

from apps.agreements.models import Agreement
from apps.cards.models import ServiceCard
from apps.core import clock
from apps.core.files import private_file_save, private_path
from apps.core.services import audit_record
from apps.intake.actors import Actor, actor_of
from apps.intake.errors import NotYourAgreement
from apps.intake.kinds import file_kind
from apps.intake.queue import Enqueued, intake_enqueue, intake_enqueue_on_commit

UPLOADS = "uploads"


def agreement_of_card_require(*, card: ServiceCard | Actor, agreement: Agreement) -> None:
    if agreement.company_id != card.company_id:
        raise NotYourAgreement(
            "agreement_not_yours",
            "所选协议不属于本卡所在企业，请重新选择协议。",
            "The chosen agreement does not belong to this card's company; choose the agreement again.",
        )


def upload_accept(*, kind: str, card: ServiceCard | None = None, agreement: Agreement, upload: UploadedFile,
                  action: str, actor: Actor | None = None) -> models.Model:
    """Record an uploaded file as a new row of ``kind``'s model and queue its work after commit.
    A refusal keeps nothing. The returned record's ``queued`` says whether the broker took the
    work (False: it is kept and the sweeper queues it later)."""
    model = file_kind(kind).model
    actor = actor_of(card=card, actor=actor)
    actor.hours_require()
    agreement_of_card_require(card=actor, agreement=agreement)
    stored_name, size = private_file_save(upload=upload, area=UPLOADS)
    now = clock.now()
    committed: list[bool] = []
    try:
        with transaction.atomic():
            record = model.objects.create(
                company_id=actor.company_id, agreement=agreement, card=actor.card, certificate=actor.certificate,
                uploaded_at=now, upload_date=now.date(),
                original_name=(upload.name or action)[:255], stored_name=stored_name, size=size,
            )
            model.objects.filter(pk=record.pk).update(heartbeat_at=Now())
            audit_record(actor_kind=actor.kind, actor=actor.name, action=action, obj=record,
                         company_id=actor.company_id, detail={"file": record.original_name, "size": size})
            enqueued = Enqueued()

            def after_commit() -> None:
                committed.append(True)  # from here on the row is committed and its file stays
                enqueued.ok = intake_enqueue(kind=kind, pk=record.pk)

            transaction.on_commit(after_commit)
    except BaseException:
        if not committed:
            private_path(UPLOADS, stored_name).unlink(missing_ok=True)
        raise
    record.queued = enqueued.ok
    return record


def work_queue_after_confirm(*, kind: str, pk: int) -> Enqueued:
    """After a confirmation (确认入库) moved the record to its storing state, inside that
    transaction: a fresh heartbeat (the sweeper waits for the normal delivery first) and the
    publish after commit."""
    file_kind(kind).model.objects.filter(pk=pk).update(heartbeat_at=Now(), claim_token="", attempts=0)
    return intake_enqueue_on_commit(kind=kind, pk=pk)
