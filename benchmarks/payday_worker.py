"""The pay-day worker's work and nothing else, in a fresh process, for benchmarks/bench_payday.py.

Run by the part (``python -m benchmarks.payday_worker ARGS.json``) once the world is made, with the
part's DATABASE_URL, PRIVATE_FILES_DIR and DJANGO_SETTINGS_MODULE: Django set up without migrating,
``payday_batch_post`` of the batch, then ``return_file_produce`` for it, as a Celery worker runs
them. Its peak RSS (VmHWM) is therefore the worker's, not the part's (which made a million rows).

Each service runs ``reps`` times: every run but the last inside a transaction that is rolled back
(the posting's commit-time checks forced with SET CONSTRAINTS ALL IMMEDIATE inside the timing, then
VACUUM so the next run finds the tables as the store left them), the last one for real. The figures
are CPU seconds of this process and of its PostgreSQL backend, best of the runs.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

from benchmarks.scratch import BackendCpu, vm_hwm_mb


class CpuMeter(BackendCpu):
    """CPU seconds of this process and of its PostgreSQL backend (a local server, read from /proc):
    on a machine shared with other work wall time stretches, CPU time much less."""

    def run(self, fn) -> tuple[dict, object]:
        wall, client, backend = time.perf_counter(), time.process_time(), self.backend()
        result = fn()
        client = time.process_time() - client
        backend = self.backend() - backend
        return {"cpu_s": client + backend, "client_cpu_s": client, "backend_cpu_s": backend,
                "wall_s": time.perf_counter() - wall}, result


class StatementCpu:
    """Backend CPU per statement of the last (committed) run: where the time goes."""

    def __init__(self, meter: CpuMeter) -> None:
        self.meter, self.seen = meter, []

    def __call__(self, execute, sql, params, many, context):
        start = self.meter.backend()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seen.append((self.meter.backend() - start, " ".join(sql.split())[:60]))

    def top(self, n: int = 5) -> list[tuple[float, str]]:
        return sorted(self.seen, reverse=True)[:n]


def _repeated(meter: CpuMeter, fn, *, reps: int, vacuum: str | None) -> tuple[list[dict], object]:
    from django.db import connection, transaction

    def checked() -> None:
        fn()
        with connection.cursor() as cursor:  # what COMMIT would check, inside the timing
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    runs = []
    for _ in range(reps - 1):
        with transaction.atomic():
            figures, _result = meter.run(checked)
            transaction.set_rollback(True)
        runs.append(figures)
        if vacuum:
            with connection.cursor() as cursor:
                cursor.execute(vacuum)
    statements = StatementCpu(meter)
    with connection.execute_wrapper(statements):
        figures, result = meter.run(fn)  # the last run commits
    runs.append({**figures, "statements": statements.top()})
    return runs, result


def main(args_path: str) -> None:
    args = json.loads(Path(args_path).read_text(encoding="utf-8"))
    import django

    django.setup()
    from apps.ledger.payday import payday_batch_post
    from apps.returns.services import return_file_produce
    from payroll_exchange import pki

    signer = pki.pkcs12_load(data=Path(args["signer_p12"]).read_bytes(), pin=args["pin"])
    pay_date = date.fromisoformat(args["pay_date"])
    return_day = date.fromisoformat(args["return_day"])
    meter = CpuMeter()
    posting, outcome = _repeated(
        meter, lambda: payday_batch_post(batch_id=args["batch_id"], today=pay_date), reps=args["reps"],
        vacuum="VACUUM payroll_payrollrow, ledger_ledgeraccount, ledger_journalentry")
    returns, record = _repeated(
        meter, lambda: return_file_produce(batch_id=args["batch_id"], today=return_day, signer=signer),
        reps=args["reps"], vacuum=None)
    Path(args["out"]).write_text(json.dumps({
        "outcome": outcome, "return_file_id": record.pk if record is not None else None,
        "posting": posting, "return_file": returns, "worker_peak_rss_mb": vm_hwm_mb(),
    }), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
