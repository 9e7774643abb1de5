"""Workers per stage: one real worker consumes only the pre-validate queue, another only the store
queue (as on two machines), on this module's own Redis. The pre-validating worker never stores;
the store waits in its queue until a store worker starts, and that worker stores it."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.conf import settings

from apps.intake.actors import certificate_actor
from apps.payroll.models import BatchStatus, PayrollRow
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_submit
from config.queues import stage_queue
from tests.factories import payroll_file_bytes, payroll_rows, upload
from tests.faults.harness import batch_status, log_count
from tests.support.processes import PYTHON, Process, process_start, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WORK = "Task apps.intake.tasks.intake_work["


def stage_worker_start(*, workers, env: dict[str, str], stage: str, session_dir) -> Process:
    """``celery worker -Q <prefix>.<stage>``: a worker that consumes that one queue only."""
    node = f"{stage}-{uuid.uuid4().hex[:8]}@%h"
    argv = [PYTHON, "-m", "celery", "-A", "config", "worker", "-n", node,
            "-Q", stage_queue(default=env["CELERY_QUEUE"], stage=stage),
            "--concurrency", "1", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
    proc = process_start(name=f"worker-{stage}", argv=argv, env=env, log_dir=session_dir)
    workers.started.append(proc)  # killed by the fixture at the end, like its own workers

    def ready() -> bool:
        if not proc.alive():
            raise RuntimeError(f"worker exited early:\n{proc.log()}")
        return " ready." in proc.log()

    wait_until(ready, timeout=90, what=f"the {stage} worker to be ready")
    return proc


def test_prevalidate_and_store_run_on_workers_of_their_own_queue(
    workers, fault_env, broker, session_dir, business_clock, our_agent, platform_keys
):
    queue = redis.Redis.from_url(broker.url)
    store_queue = stage_queue(default=settings.CELERY_TASK_DEFAULT_QUEUE, stage="store")
    prevalidating = stage_worker_start(workers=workers, env=fault_env, stage="prevalidate", session_dir=session_dir)

    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(4), bank=platform_keys["bank"])
    batch = payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
    wait_until(lambda: batch_status(batch.pk) != BatchStatus.VALIDATING, timeout=60, what="pre-validation")
    assert batch_status(batch.pk) == BatchStatus.AWAITING_CONFIRMATION

    batch.refresh_from_db()
    # Confirmed over the host-to-host API (its certificate is its proof; the kiosk's checklist step
    # is not what this test is about).
    payroll_batch_confirm(batch=batch, actor=certificate_actor(our_agent.agreement.certificate))
    # Published on commit to the store queue, which the pre-validating worker does not consume.
    assert queue.llen(store_queue) == 1
    assert batch_status(batch.pk) == BatchStatus.STORING
    assert PayrollRow.objects.filter(batch_id=batch.pk).count() == 0

    storing = stage_worker_start(workers=workers, env=fault_env, stage="store", session_dir=session_dir)
    wait_until(lambda: batch_status(batch.pk) == BatchStatus.STORED, timeout=60, what="the store worker")
    assert PayrollRow.objects.filter(batch_id=batch.pk).count() == 4
    assert queue.llen(store_queue) == 0
    # Each worker ran the intake task once (received, succeeded): its own stage.
    assert log_count(prevalidating, WORK) == 2
    assert log_count(storing, WORK) == 2
    assert prevalidating.alive()
    assert storing.alive()
    queue.close()
