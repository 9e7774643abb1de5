"""Pay-day posting (P4) and the return file (P5), each against its baseline measured in the same run
(issue 15), and the worker's peak RSS for P6. Not a test: timings vary by machine.

Run: .venv/bin/python -m benchmarks.bench_payday --rows N [--json PATH]

The part creates a scratch PostgreSQL database (dropped at the end), migrates it with the test
settings and makes the world with COPY (not through the kiosk: a 1M-row batch in seconds): one
company whose agreement is bound to a fresh enterprise certificate, a funded settlement account,
N employee accounts (1 % frozen, 1 % held under another name) and a stored batch of N rows (1 % to
accounts that do not exist). Then:

- P4 baseline, here: a plain INSERT ... SELECT of the same credits (the rows whose account is open
  and held under the row's name) into an unconstrained copy of the journal (no index, constraint,
  trigger or sequence); best of 3.
- P4 and P5, ours, in a fresh child process doing only the worker's work (benchmarks/payday_worker.py):
  ``payday_batch_post`` (classify every row, credits, settlement and fee legs, balances, the batch
  transition, the commit-time balance check) and ``return_file_produce`` (rows, return_dump, sign,
  encrypt, write, record); best of 2 each. Its VmHWM is extra["worker_peak_rss_mb"].
- P5 baseline, here: the same rows read and written as plain CSV with ``csv``; best of 3.

Figures are CPU seconds (this process or the child, plus its PostgreSQL backend): the machine is
shared, and CPU time moves far less than wall time under others' load; wall times are in extra.
The part raises instead of reporting when a count or a sum is not what the world says it must be,
or when reconciliation finds a difference.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from benchmarks.results import Measurement, part_main
from benchmarks.scratch import BackendCpu, django_setup, require, scratch_db_create, scratch_db_drop

PAY_DATE = date(2026, 12, 1)
NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
PIN = "bench-pin"
BASELINE_REPS = 3
WORKER_REPS = 2
P4_AIM, P5_AIM = 3.0, 1.5


def _row(n: int) -> tuple[str, str, Decimal, bool]:
    """Row n of the batch: account, name, amount, and whether pay day must pay it."""
    account = f"6222{n:012d}" if n % 100 != 13 else f"6299{n:012d}"  # 1 % missing accounts
    name = f"{NAMES[n % 20]}员工{n}" if n % 100 != 21 else "别人"  # 1 % name mismatch
    paid = n % 100 not in (7, 13, 21)  # 7: the account is frozen
    return account, name, Decimal(3000 + n % 5000) + Decimal("0.35"), paid


class World:
    def __init__(self, *, rows: int, batch_id: int, total: Decimal, paid: int, paid_amount: Decimal,
                 signer_p12: Path) -> None:
        self.rows, self.batch_id, self.total = rows, batch_id, total
        self.paid, self.paid_amount, self.signer_p12 = paid, paid_amount, signer_p12


def world_make(rows: int, directory: Path) -> World:
    from django.db import connection

    from apps.ledger.models import AccountKind
    from apps.ledger.services import ledger_fee_income_account
    from apps.payroll.models import BatchStatus
    from payroll_exchange import pki
    from tests.ledger.factories import agreement_make, batch_make, company_make, settlement_account_make

    now = datetime.now(tz=UTC)
    root = pki.root_create(common_name="Bench Root", now=now - timedelta(days=1))
    bank = pki.cert_issue(issuer=root, common_name="Bench Bank", organization="Bench Bank", role="bank", now=now)
    enterprise = pki.cert_issue(issuer=root, common_name="DF2026000001", organization="上海示例科技有限公司",
                                role="enterprise", now=now)
    signer_p12 = directory / "bank.p12"
    signer_p12.write_bytes(pki.pkcs12_dump(identity=bank, pin=PIN))
    agreement = agreement_make(company=company_make(), identity=enterprise, fee_per_payment=Decimal("2.00"))
    ledger_fee_income_account()
    settlement_account_make(agreement=agreement, balance=Decimal("99999999999.00"))
    batch = batch_make(agreement=agreement, rows=[], pay_date=PAY_DATE, status=BatchStatus.STORED)

    total = paid_amount = Decimal(0)
    paid = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper: COPY
        with raw.copy("COPY ledger_ledgeraccount (number, holder_name, kind, status, balance, currency)"
                      " FROM STDIN") as copy:
            for n in range(rows):
                status = "frozen" if n % 100 == 7 else "normal"
                copy.write_row((f"6222{n:012d}", f"{NAMES[n % 20]}员工{n}", AccountKind.EMPLOYEE, status, 0, "CNY"))
        with raw.copy("COPY payroll_payrollrow (batch_id, seq, account, name, amount, id_type, id_number, remark,"
                      " result_code, result_message) FROM STDIN") as copy:
            for n in range(rows):
                account, name, amount, pays = _row(n)
                total += amount
                if pays:
                    paid += 1
                    paid_amount += amount
                copy.write_row((batch.pk, n + 1, account, name, amount, "1", f"P{n:08d}", "", "", ""))
    with connection.cursor() as cursor:
        # What autovacuum does after a bulk load: statistics, hint bits and the visibility map, so
        # neither the baseline nor ours pays for the first reader of freshly copied rows.
        cursor.execute("VACUUM ANALYZE ledger_ledgeraccount, payroll_payrollrow")
        cursor.execute("SELECT count(*), sum(amount) FROM payroll_payrollrow WHERE batch_id = %s", [batch.pk])
        stored, stored_total = cursor.fetchone()
    require(stored == rows and stored_total == total, f"stored {stored} rows / {stored_total}, made {rows} / {total}")
    type(batch).objects.filter(pk=batch.pk).update(record_count=rows, total_amount=total, rows_total=rows,
                                                    rows_done=rows)
    return World(rows=rows, batch_id=batch.pk, total=total, paid=paid, paid_amount=paid_amount,
                 signer_p12=signer_p12)


class Meter(BackendCpu):
    """CPU seconds of this process and of its PostgreSQL backend, and wall time."""

    def best(self, fn, reps: int = BASELINE_REPS) -> dict:
        runs = []
        for _ in range(reps):
            wall, client, backend = time.perf_counter(), time.process_time(), self.backend()
            fn()
            client, backend = time.process_time() - client, self.backend() - backend
            runs.append({"cpu_s": client + backend, "client_cpu_s": client, "backend_cpu_s": backend,
                         "wall_s": time.perf_counter() - wall})
        return best_of(runs)


def best_of(runs: list[dict]) -> dict:
    best = min(runs, key=lambda r: r["cpu_s"])
    statements = next((r["statements"] for r in runs if "statements" in r), None)  # the committed run's
    return {**best, "best_wall_s": min(r["wall_s"] for r in runs), "runs": len(runs), "statements": statements}


def posting_baseline(world: World, meter: Meter) -> dict:
    """The same credit entries, INSERT ... SELECT into a table with no index, constraint or trigger."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_entries (LIKE ledger_journalentry INCLUDING DEFAULTS)")
        cursor.execute("ALTER TABLE bench_entries ALTER COLUMN id DROP DEFAULT")

    def run() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_entries (id, txn_id, account_id, side, kind, amount, batch_id, row_seq, memo,"
                " business_date, created_at, is_reversal) SELECT r.id, gen_random_uuid(), a.id, 'C', 'payroll',"
                " r.amount, r.batch_id, r.seq, 'baseline', %s, now(), false"
                " FROM payroll_payrollrow r JOIN ledger_ledgeraccount a ON a.number = r.account"
                " AND a.kind = 'employee' AND a.status = 'normal' AND a.holder_name = r.name"
                " WHERE r.batch_id = %s",
                [PAY_DATE, world.batch_id],
            )
            require(cursor.rowcount == world.paid, f"baseline credited {cursor.rowcount}, not {world.paid}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT sum(amount) FROM bench_entries")
            require(cursor.fetchone()[0] == world.paid_amount, "baseline credits do not sum to the paid amount")
            cursor.execute("TRUNCATE bench_entries")

    return meter.best(run)


def return_baseline(world: World, directory: Path, meter: Meter) -> dict:
    from django.db import connection

    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT seq, account, name, amount, result_code, result_message FROM payroll_payrollrow"
                           " WHERE batch_id = %s ORDER BY seq", [world.batch_id])
            buffer = io.StringIO()
            csv.writer(buffer, delimiter="|").writerows(cursor.fetchall())
        text = buffer.getvalue()
        (directory / "baseline.csv").write_text(text, encoding="utf-8")
        require(text.count("\n") == world.rows, "baseline CSV has the wrong number of lines")

    return meter.best(run)


def worker_run(world: World, directory: Path) -> dict:
    """Pay day and the return file in a fresh process doing only that (its peak RSS is the worker's)."""
    from django.db import connections

    connections.close_all()  # the child takes its own connection; ours must not sit in a transaction
    args, out = directory / "worker-args.json", directory / "worker-out.json"
    args.write_text(json.dumps({
        "batch_id": world.batch_id, "signer_p12": str(world.signer_p12), "pin": PIN, "reps": WORKER_REPS,
        "pay_date": PAY_DATE.isoformat(), "return_day": (PAY_DATE + timedelta(days=1)).isoformat(),
        "out": str(out),
    }), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "benchmarks.payday_worker", str(args)], check=True,  # noqa: S603
                   cwd=Path(__file__).resolve().parent.parent, env=os.environ.copy())
    return json.loads(out.read_text(encoding="utf-8"))


def results_check(world: World, worker: dict) -> None:
    """What pay day and the return file must have done, from the world's own counts and sums."""
    from django.db import connection

    from apps.ledger.models import EntryKind, EntrySide, JournalEntry
    from apps.ledger.reconciliation import reconciliation_run
    from apps.payroll.models import BatchStatus, PayrollBatch
    from apps.returns.models import ReturnFile

    require(worker["outcome"] == "paid", f"pay day did not pay the batch: {worker['outcome']}")
    batch = PayrollBatch.objects.get(pk=world.batch_id)
    require(batch.status == BatchStatus.RETURNED, f"the batch is {batch.status}, not returned")
    require((batch.success_count, batch.success_amount) == (world.paid, world.paid_amount),
            f"paid {batch.success_count} / {batch.success_amount}, expected {world.paid} / {world.paid_amount}")
    require((batch.failure_count, batch.failure_amount) == (world.rows - world.paid, world.total - world.paid_amount),
            "failed rows or amount differ from the world's")
    credits = JournalEntry.objects.filter(batch_id=batch.pk, kind=EntryKind.PAYROLL, side=EntrySide.CREDIT)
    require(credits.count() == world.paid, "the journal does not hold one credit per paid row")
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(amount) FILTER (WHERE side = 'D'), sum(amount) FILTER (WHERE side = 'C')"
                       " FROM ledger_journalentry")
        debits, credit_sum = cursor.fetchone()
        cursor.execute("SELECT sum(balance) FROM ledger_ledgeraccount WHERE kind = 'employee'")
        employee_balances = cursor.fetchone()[0]
    require(debits == credit_sum, f"debits {debits} <> credits {credit_sum}")
    require(employee_balances == world.paid_amount, f"employee balances {employee_balances} <> {world.paid_amount}")
    record = ReturnFile.objects.get(pk=worker["return_file_id"])
    require((record.record_count, record.success_count, record.success_amount)
            == (world.rows, world.paid, world.paid_amount), "the return file's totals differ from the world's")
    differences = reconciliation_run(pay_date=PAY_DATE)
    require(not differences, f"reconciliation found {len(differences)} difference(s): {differences[:3]}")


def hot_updates() -> dict:
    """Of each table pay day updates, how many row updates were HOT (no index entry written): the
    classify and balance UPDATEs are cheap only when the page has room for the new row version."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables"
                       " WHERE relname IN ('ledger_ledgeraccount', 'payroll_payrollrow') ORDER BY relname")
        return {name: f"{hot:,} of {updated:,} HOT" for name, updated, hot in cursor.fetchall()}


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3])


def measure(rows: int) -> list[Measurement]:
    directory = Path(tempfile.mkdtemp(prefix="bench-payday-"))
    scratch_db_create()
    try:
        django_setup(str(directory), business_now=None)
        load_before = _load()
        started = time.perf_counter()
        world = world_make(rows, directory)
        print(f"bench_payday: world of {rows:,} rows made in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        meter = Meter()
        posting_base = posting_baseline(world, meter)
        worker = worker_run(world, directory)
        meter = Meter()  # a new connection after the child
        results_check(world, worker)
        hot = hot_updates()
        return_base = return_baseline(world, directory, meter)
        load_after = _load()
    finally:
        from django.db import connections

        connections.close_all()
        if not os.environ.get("BENCH_KEEP"):  # keep the scratch database to look at plans
            scratch_db_drop()
        shutil.rmtree(directory, ignore_errors=True)

    posting, returned = best_of(worker["posting"]), best_of(worker["return_file"])
    common = {"worker_peak_rss_mb": round(worker["worker_peak_rss_mb"], 1), "load_before": load_before,
              "load_after": load_after, "hot_updates": hot}

    def extra(ours: dict, base: dict) -> dict:
        return {**common, "wall_s": round(ours["best_wall_s"], 3), "baseline_wall_s": round(base["best_wall_s"], 3),
                "client_cpu_s": round(ours["client_cpu_s"], 3), "backend_cpu_s": round(ours["backend_cpu_s"], 3),
                "baseline_backend_cpu_s": round(base["backend_cpu_s"], 3), "runs": ours["runs"],
                "top_statements_backend_cpu": ours.get("statements") or []}

    return [
        Measurement(key="P4", workload="pay-day posting (CPU, worker + PostgreSQL)", rows=rows,
                    ours=posting["cpu_s"], baseline=posting_base["cpu_s"],
                    baseline_label="plain INSERT ... SELECT of the same credits into an unconstrained table",
                    aim=f"≤ {P4_AIM:g}×", met=posting["cpu_s"] <= P4_AIM * posting_base["cpu_s"],
                    extra=extra(posting, posting_base)),
        Measurement(key="P5", workload="return file, signed and encrypted (CPU)", rows=rows,
                    ours=returned["cpu_s"], baseline=return_base["cpu_s"],
                    baseline_label="the same rows read and written as plain CSV",
                    aim=f"≤ {P5_AIM:g}×", met=returned["cpu_s"] <= P5_AIM * return_base["cpu_s"],
                    extra=extra(returned, return_base)),
    ]


if __name__ == "__main__":
    part_main(measure)
