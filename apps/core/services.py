from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.db.models.functions import Now

from apps.core import clock
from apps.core.models import AuditEvent, WorkerProbe


def audit_record(
    *,
    actor_kind: str,
    actor: str,
    action: str,
    obj: models.Model | None = None,
    company_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        business_at=clock.now(),
        actor_kind=actor_kind,
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        company_id=company_id,
        detail=detail or {},
    )


def worker_probe_request() -> WorkerProbe:
    from apps.core.tasks import worker_probe_answer_task

    probe = WorkerProbe.objects.create()
    # The worker must find the row: enqueue only once it is committed.
    transaction.on_commit(lambda: worker_probe_answer_task.delay(probe.pk))
    return probe


def worker_probe_answer(*, probe_id: int, worker: str) -> bool:
    """Answer a probe once; a redelivered message finds it answered and changes nothing."""
    updated = WorkerProbe.objects.filter(pk=probe_id, answered_at__isnull=True).update(
        answered_at=Now(), answered_by=worker[:200]
    )
    return updated == 1
