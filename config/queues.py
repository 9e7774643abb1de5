"""The Celery queues, one per stage of the pipeline, so each stage can have workers of its own,
on machines of its own (docs/scaling.md, "Queues per stage").

No Django import: config/settings/base.py imports this while settings are still being built,
and the test harnesses import it to start workers on every queue of their run.

Every queue name starts with the default queue's name (CELERY_QUEUE), so a test run (its own
CELERY_QUEUE) never shares a queue with another run or with a demo on the same Redis.
"""

from __future__ import annotations

# 预校验, 入库, 发放, 回盘: the four stages whose work is heavy enough to scale apart.
STAGES = ("prevalidate", "store", "payday", "returns")

# The working state of an intake record (payroll batch, employee file) → the stage that works it.
# One task (apps.intake.tasks.intake_work) works whatever state its record is in; the router
# reads that state when the task is published (config/celery_routing.py).
INTAKE_STATE_STAGES = {"validating": "prevalidate", "storing": "store"}

# Task name → stage; a task not named here (sweepers, retention, the worker probe) goes to the
# default queue. Beat's jobs publish through the same routes.
TASK_STAGES = {
    "apps.ledger.tasks.payday_run": "payday",
    "apps.ledger.tasks.payday_recover": "payday",
    "apps.returns.tasks.return_files_run": "returns",
}


def stage_queue(*, default: str, stage: str) -> str:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; the stages are {', '.join(STAGES)}")
    return f"{default}.{stage}"


def queue_names(*, default: str) -> list[str]:
    """Every queue of one deployment (or test run): the default queue first, then the stages'.
    A worker started without -Q consumes all of them (settings' CELERY_TASK_QUEUES)."""
    return [default, *(stage_queue(default=default, stage=stage) for stage in STAGES)]
