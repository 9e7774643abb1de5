"""Thin Celery edge: read the business day, call one service."""

from __future__ import annotations

from celery import shared_task

from apps.core import clock
from apps.returns.services import return_files_run


# No retry: a batch whose file failed stays paid or failed and the next morning's run makes it.
@shared_task(name="apps.returns.tasks.return_files_run")
def return_files_run_task() -> int:
    return return_files_run(today=clock.today())
