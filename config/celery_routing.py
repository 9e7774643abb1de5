"""Which queue a task goes to (CELERY_TASK_ROUTES): by its name, and for the intake task by the
working state of its record, so pre-validation and storing run on separate queues.

Called by Celery when a task is published, in the publishing process (kiosk, API, sweeper,
beat), with Django set up.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from config.queues import INTAKE_STATE_STAGES, TASK_STAGES, stage_queue

INTAKE_WORK = "apps.intake.tasks.intake_work"


def _queue(stage: str) -> dict[str, str]:
    name = stage_queue(default=settings.CELERY_TASK_DEFAULT_QUEUE, stage=stage)
    return {"queue": name, "routing_key": name}


def task_route(name: str, args: tuple[Any, ...] | None, kwargs: dict[str, Any] | None,
               options: dict[str, Any], task: Any = None, **_: Any) -> dict[str, str] | None:
    """The route of one publish; None leaves the task on the default queue."""
    if name in TASK_STAGES:
        return _queue(TASK_STAGES[name])
    if name == INTAKE_WORK and args:
        return _intake_route(kind=args[0], pk=args[1])
    return None


def _intake_route(*, kind: str, pk: int) -> dict[str, str] | None:
    # One read by primary key per publish: the publisher (upload, 确认入库, retry, sweeper) has
    # just committed the state, so it is the state the worker will find. A record no longer in a
    # working state goes to the default queue, where the task finds nothing to do.
    from apps.intake.kinds import file_kind

    status = file_kind(kind).model.objects.filter(pk=pk).values_list("status", flat=True).first()
    stage = INTAKE_STATE_STAGES.get(status or "")
    return _queue(stage) if stage else None
