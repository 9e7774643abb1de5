"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered."""

import os

from celery import Celery
from celery.signals import worker_process_init

from config.env import env_typed

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("payroll")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The pool processes doing intake, pay day and returns run at a lower CPU priority than the kiosk's
# web server on the same machine: an agent waits for a page, a batch does not notice a few percent.
# benchmarks/bench_kiosk_load.py (P7, 2 cores, 20 agents, a 100k intake running) measured the status
# API's p95 at 3.6 s with the worker at the web's priority, and about a tenth of that at nice 10.
# 0 keeps the priority (a machine that runs only workers).
WORKER_NICE = env_typed("CELERY_WORKER_NICE", int, default=10)


@worker_process_init.connect
def _pool_process_yields_cpu(**_kwargs) -> None:
    if WORKER_NICE:
        os.nice(WORKER_NICE)
