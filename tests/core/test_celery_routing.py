"""Which queue each task goes to (config/celery_routing.py), by Celery's own router: no broker.

Given the stage queues of this run (its CELERY_QUEUE as prefix), when a task is published, then it
goes to its stage's queue; the intake task goes by its record's working state."""

from __future__ import annotations

import pytest
from django.conf import settings

from apps.employees.models import EmployeeFile
from apps.employees.services import employee_file_submit
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import payroll_batch_submit
from config.celery import app
from config.queues import queue_names, stage_queue
from tests.factories import employee_file_bytes, employee_rows, payroll_file_bytes, payroll_rows, upload

DEFAULT = settings.CELERY_TASK_DEFAULT_QUEUE


def queue_of(name: str, args: tuple = ()) -> str:
    """The queue Celery would publish ``name`` to (what apply_async does before it sends)."""
    return app.amqp.router.route({}, name, args, {})["queue"].name


@pytest.mark.parametrize(("task", "queue"), [
    ("apps.ledger.tasks.payday_run", f"{DEFAULT}.payday"),
    ("apps.ledger.tasks.payday_recover", f"{DEFAULT}.payday"),
    ("apps.returns.tasks.return_files_run", f"{DEFAULT}.returns"),
    ("apps.intake.tasks.intake_sweep", DEFAULT),
    ("apps.intake.tasks.intake_retention", DEFAULT),
    ("apps.core.tasks.worker_probe_answer", DEFAULT),
])
def test_each_task_goes_to_its_stage_queue(task, queue):
    app.loader.import_default_modules()  # the autodiscovered task modules, as a worker imports them
    assert task in app.tasks  # a real task name, not a typo that would route nothing
    assert queue_of(task) == queue


def test_beat_jobs_go_to_the_queue_of_their_task():
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert queue_of(entry["task"]) in queue_names(default=DEFAULT)
    assert queue_of(settings.CELERY_BEAT_SCHEDULE["ledger-payday"]["task"]) == f"{DEFAULT}.payday"


def test_a_worker_started_without_q_consumes_every_queue():
    # Without -Q a worker consumes the configured queues (task_queues): the default and every stage's.
    # (app.amqp.queues may also hold queues this process published to by name, e.g. in other tests.)
    configured = app.conf.task_queues
    assert [q.name for q in configured] == [DEFAULT, f"{DEFAULT}.prevalidate", f"{DEFAULT}.store",
                                            f"{DEFAULT}.payday", f"{DEFAULT}.returns"]
    for queue in configured:
        assert queue.routing_key == queue.name  # the route's key reaches exactly this queue
        assert app.amqp.queues[queue.name].routing_key == queue.name


def test_stage_names_are_checked():
    with pytest.raises(ValueError, match="unknown stage"):
        stage_queue(default=DEFAULT, stage="pay-day")


@pytest.mark.django_db
def test_payroll_intake_goes_to_prevalidate_then_store_by_its_state(business_clock, our_agent, platform_keys):
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=platform_keys["bank"])
    # The test transaction never commits, so nothing is published: only the router is asked.
    batch = payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
    assert batch.status == BatchStatus.VALIDATING
    assert queue_of("apps.intake.tasks.intake_work", ("payroll", batch.pk)) == f"{DEFAULT}.prevalidate"

    PayrollBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.STORING)
    assert queue_of("apps.intake.tasks.intake_work", ("payroll", batch.pk)) == f"{DEFAULT}.store"

    # Not in a working state (or gone): the default queue, where the task finds nothing to do.
    PayrollBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.STORED)
    assert queue_of("apps.intake.tasks.intake_work", ("payroll", batch.pk)) == DEFAULT
    assert queue_of("apps.intake.tasks.intake_work", ("payroll", batch.pk + 1000)) == DEFAULT


@pytest.mark.django_db
def test_employee_file_goes_to_prevalidate_then_store_by_its_state(business_clock, our_agent, platform_keys):
    data = employee_file_bytes(party=our_agent, rows=employee_rows(2), bank=platform_keys["bank"])
    record = employee_file_submit(card=our_agent.card, agreement=our_agent.agreement,
                                  upload=upload(data, "employees.p7m"))
    assert queue_of("apps.intake.tasks.intake_work", ("employees", record.pk)) == f"{DEFAULT}.prevalidate"

    EmployeeFile.objects.filter(pk=record.pk).update(status=EmployeeFile.Status.STORING)
    assert queue_of("apps.intake.tasks.intake_work", ("employees", record.pk)) == f"{DEFAULT}.store"
