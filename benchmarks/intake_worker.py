"""The child process of benchmarks/bench_intake.py: only what the kiosk's upload and the worker do.

    python -m benchmarks.intake_worker SPEC.json OUT.json

The parent (bench_intake.measure) made the scratch database, the world and the sealed file; this
fresh process runs the real services on that file, ``repeat`` times, resetting the batch, its rows
and the employees it registered between runs:

    payroll_batch_submit → payroll_batch_prevalidate → payroll_batch_confirm → payroll_batch_store

The upload is read from disk in chunks as Django hands a large upload to the view, so the peak
resident set (VmHWM, read right after the last run, before anything else) is the worker's own:
the figure of issue 15's P6. Then, in the same process, the raw-COPY baseline of the same rows
(bench_intake.raw_copy_baselines). Every run checks what it stored (row count, sum, registry) and
raises if it is wrong: a figure of a failed run is never written.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from unittest import mock

from benchmarks.scratch import vm_hwm_mb


def services_run(*, card, agreement, sealed_path: Path, rows_count: int, total: Decimal) -> dict:
    """Upload to stored through the real services; phases from the timeline of their calls."""
    from django.core.files.uploadedfile import UploadedFile
    from django.db import connection

    from apps.employees.models import Employee
    from apps.intake import steps
    from apps.payroll.models import BatchStatus, PayrollBatch
    from apps.payroll.services import intake, storing
    from benchmarks.bench_intake import CHECK_CODE, CpuMeter, Timeline, require

    tl = Timeline()
    enqueued: list[tuple[str, int]] = []
    with ExitStack() as stack:
        # The on_commit enqueues: caught here, the services they would run are called below.
        for target in ("apps.intake.queue.intake_enqueue", "apps.intake.uploads.intake_enqueue"):
            stack.enter_context(mock.patch(target, side_effect=lambda *, kind, pk: enqueued.append((kind, pk)) or True))
        wrapped = ((steps, ("signed_file_open", "exchange_call")),
                   # _prevalidate_streamed: the chunked pass (a clean file), its check and COPY text
                   # inside private_file_write; _prevalidate_whole: the whole-file pass
                   (intake, ("_prevalidate_streamed", "_prevalidate_whole", "payroll_check", "_duplicates",
                             "registry_names", "payroll_rows_prepare", "private_file_write", "batch_transition")),
                   (storing, ("_rows_copy", "_newcomers_register", "audit_record")))
        for module, names in wrapped:
            for name in names:
                if hasattr(module, name):  # the benchmark also measures older versions of the services
                    stack.enter_context(mock.patch.object(module, name, tl.wrap(name, getattr(module, name))))
        meter = CpuMeter()
        with sealed_path.open("rb") as handle:
            upload = UploadedFile(file=handle, name="payroll.p7m", content_type="application/octet-stream",
                                  size=sealed_path.stat().st_size)
            c0, t0 = meter.read(), time.perf_counter()
            batch = intake.payroll_batch_submit(card=card, agreement=agreement, upload=upload)
        t1 = time.perf_counter()
        intake.payroll_batch_prevalidate(batch_id=batch.pk)
        t2 = time.perf_counter()
        batch.refresh_from_db()
        require(batch.status == BatchStatus.AWAITING_CONFIRMATION, f"{batch.status}: {batch.errors[:3]}")
        intake.payroll_batch_confirm(batch=batch, card=card, checklist=CHECK_CODE)
        c3, t3 = meter.read(), time.perf_counter()
        stored = storing.payroll_batch_store(batch_id=batch.pk)
        c4, t4 = meter.read(), time.perf_counter()
    batch = PayrollBatch.objects.get(pk=batch.pk)
    require(stored, "payroll_batch_store did nothing")
    require(batch.status == BatchStatus.STORED, f"batch is {batch.status}")
    require(enqueued == [("payroll", batch.pk), ("payroll", batch.pk)], f"{enqueued}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(amount) FROM payroll_payrollrow WHERE batch_id = %s", [batch.pk])
        count, amount = cursor.fetchone()
    require(count == rows_count and amount == total, f"stored {count} rows, {amount}; the file has {rows_count}, "
                                                     f"{total}")
    registered = Employee.objects.filter(company_id=batch.company_id, removed_at__isnull=True).count()
    require(registered == rows_count, f"the registry holds {registered} of the file's {rows_count} accounts")
    require(batch.new_employee_count == rows_count // 2, f"{batch.new_employee_count} new employees")
    phases = {name: round(tl.total(name), 4) for name in dict.fromkeys(label for label, _s, _e in tl.calls)}
    return {
        "batch_id": batch.pk, "batch_no": batch.batch_no,
        "wall": {"submit": t1 - t0, "prevalidate": t2 - t1, "confirm": t3 - t2, "store": t4 - t3,
                 "end to end": t4 - t0},
        "cpu": {"store": [c4[0] - c3[0], c4[1] - c3[1]], "end to end": [c4[0] - c0[0], c4[1] - c0[1]]},
        "phases": phases,
    }


def run_reset(*, batch_id: int, batch_no: str) -> None:
    """Undo a run so the next one meets the same world: the rows, the employees it registered, the
    batch (revoked frees its number, digest and file id); then VACUUM, so the next run's unique
    checks meet no dead index entries the first run did not meet either."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM payroll_payrollrow WHERE batch_id = %s", [batch_id])
        cursor.execute("DELETE FROM employees_employee WHERE source = %s", [f"payroll:{batch_no}"])
        cursor.execute("UPDATE payroll_payrollbatch SET status = 'revoked' WHERE id = %s", [batch_id])
        cursor.execute("VACUUM ANALYZE payroll_payrollrow")
        cursor.execute("VACUUM ANALYZE employees_employee")


def baseline_rows(*, sealed: bytes, agreement):
    """The rows of the file as the services parse them, for the raw-COPY baseline."""
    from apps.agreements.services import bank_identity, trust_store
    from apps.core import clock
    from payroll_exchange.envelope import envelope_open
    from payroll_exchange.formats import payroll_load

    now = clock.now()
    opened = envelope_open(data=sealed, recipient=bank_identity(), trust=trust_store(now=now), now=now,
                           expected_kind="payroll", expected_signer=agreement.certificate.fingerprint)
    payroll, errors = payroll_load(opened.payload)
    if errors:
        raise RuntimeError(f"the file has errors: {errors[:3]}")
    return payroll.rows


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    os.environ.update(spec["env"])
    import django

    django.setup()
    from apps.agreements.models import Agreement
    from apps.cards.models import ServiceCard
    from apps.payroll.models import PayrollBatch
    from benchmarks.bench_intake import raw_copy_baselines

    card = ServiceCard.objects.get(pk=spec["card_id"])
    agreement = Agreement.objects.select_related("certificate").get(pk=spec["agreement_id"])
    sealed_path = Path(spec["sealed_path"])
    total = Decimal(spec["total"])
    runs = []
    for n in range(spec["repeat"]):
        if spec.get("profile") and n == 0:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            run = profiler.runcall(services_run, card=card, agreement=agreement, sealed_path=sealed_path,
                                   rows_count=spec["rows"], total=total)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
        else:
            run = services_run(card=card, agreement=agreement, sealed_path=sealed_path, rows_count=spec["rows"],
                               total=total)
        runs.append(run)
        if n < spec["repeat"] - 1:
            run_reset(batch_id=run["batch_id"], batch_no=run["batch_no"])
    worker_peak = vm_hwm_mb()  # before the baseline parses the file again

    rows = baseline_rows(sealed=sealed_path.read_bytes(), agreement=agreement)
    baselines = []
    for n in range(spec["repeat"]):
        # Throwaway batches for the baseline: copies of the stored batch's row under new ids.
        throwaways = []
        for style in range(2):
            throwaway = PayrollBatch.objects.get(pk=runs[-1]["batch_id"])
            throwaway.pk = None
            throwaway.stored_name = f"bench-baseline-{n}-{style}"
            throwaway.status = "revoked"  # frees the batch number, digest and file id
            throwaway.save()
            throwaways.append(throwaway)
        by_row, by_buffer = raw_copy_baselines(batch_ids=[t.pk for t in throwaways], rows=rows, total=total)
        for throwaway in throwaways:
            throwaway.delete()
        baselines.append({"write_row": by_row, "buffer": by_buffer})
    Path(sys.argv[2]).write_text(json.dumps({"runs": runs, "baselines": baselines, "worker_peak_rss_mb": worker_peak,
                                             "child_peak_rss_mb": vm_hwm_mb()}), encoding="utf-8")


if __name__ == "__main__":
    main()
