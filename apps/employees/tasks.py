from __future__ import annotations

from celery import shared_task

from apps.employees.services import employee_file_open, employee_file_store, employee_files_requeue_stuck


@shared_task(name="apps.employees.tasks.employee_file_open", acks_late=True)
def employee_file_open_task(file_id: int) -> None:
    employee_file_open(file_id=file_id)


@shared_task(name="apps.employees.tasks.employee_file_store", acks_late=True)
def employee_file_store_task(file_id: int) -> None:
    employee_file_store(file_id=file_id)


@shared_task(name="apps.employees.tasks.employee_files_sweep")
def employee_files_sweep_task() -> list[int]:
    return employee_files_requeue_stuck()
