"""Pay-day posting and return-file benchmark on 100,000 rows (not a test: timings vary by machine).

Run: .venv/bin/python benchmarks/bench_payday.py [rows]

It creates a scratch PostgreSQL database (dropped at the end), migrates it with the test settings,
bulk-loads the employee accounts and the payroll rows with COPY, then times in the same run:
- posting: ``payday_batch_post`` (classify every row, insert the credits and the settlement and fee
  legs, move the balances, the batch transition, the deferred balance check at COMMIT), beside the
  baseline: a plain INSERT ... SELECT of the same credit entries into an unconstrained copy of the
  journal table (no index, no constraint, no trigger);
- the return file: ``return_file_produce`` (read the rows, return_dump, sign and encrypt, write the
  file, record it), beside the baseline: the same rows read and written as plain CSV with ``csv``.
The aim (issue 6): posting 3.0 s or less, the return file 1.5 s or less.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SCRATCH_DB = f"payroll_bench_{os.getpid()}"
PAY_DATE = date(2026, 12, 1)
NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def scratch_db_create() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')


def scratch_db_drop() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')


def django_setup(private_dir: str) -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{SCRATCH_DB}"
    os.environ["PRIVATE_FILES_DIR"] = private_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ.pop("BUSINESS_CLOCK", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def world_make(rows: int):
    """One company, its agreement bound to a fresh enterprise certificate, a funded settlement
    account, ``rows`` employee accounts (1 % frozen, 1 % held under another name) and a stored
    batch paying each of them plus 1 % of rows to accounts that do not exist."""
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
    agreement = agreement_make(company=company_make(), identity=enterprise, fee_per_payment=Decimal("2.00"))
    ledger_fee_income_account()
    settlement_account_make(agreement=agreement, balance=Decimal("9999999999.00"))
    batch = batch_make(agreement=agreement, rows=[], pay_date=PAY_DATE, status=BatchStatus.STORED)

    total = Decimal(0)
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
                account = f"6222{n:012d}" if n % 100 != 13 else f"6299{n:012d}"  # 1 % missing accounts
                name = f"{NAMES[n % 20]}员工{n}" if n % 100 != 21 else "别人"  # 1 % name mismatch
                amount = Decimal(3000 + n % 5000) + Decimal("0.35")
                total += amount
                copy.write_row((batch.pk, n + 1, account, name, amount, "1", f"P{n:08d}", "", "", ""))
        cursor.execute("ANALYZE")
    type(batch).objects.filter(pk=batch.pk).update(record_count=rows, total_amount=total, rows_total=rows,
                                                    rows_done=rows)
    return batch, bank


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    print(f"  {label:<58} {elapsed:7.3f} s")
    return elapsed, result


def posting_baseline(batch_id: int) -> float:
    """The same credit entries, INSERT ... SELECT into a table with no index, constraint or trigger."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_entries (LIKE ledger_journalentry INCLUDING DEFAULTS)")

    def run() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_entries (id, txn_id, account_id, side, kind, amount, batch_id, row_seq, memo,"
                " business_date) SELECT r.id, gen_random_uuid(), a.id, 'C', 'payroll', r.amount, r.batch_id, r.seq,"
                " 'baseline', %s FROM payroll_payrollrow r JOIN ledger_ledgeraccount a"
                " ON a.number = r.account AND a.kind = 'employee' WHERE r.batch_id = %s",
                [PAY_DATE, batch_id],
            )

    elapsed, _ = timed("baseline: INSERT ... SELECT into an unconstrained copy", run)
    return elapsed


def statement_timer():
    """Per-statement times inside the posting, to say where the time goes."""
    times: list[tuple[float, str]] = []

    def wrapper(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            times.append((time.perf_counter() - start, " ".join(sql.split())[:70]))

    return times, wrapper


def return_baseline(batch_id: int, directory: Path) -> float:
    from django.db import connection

    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT seq, account, name, amount, result_code, result_message FROM payroll_payrollrow"
                           " WHERE batch_id = %s ORDER BY seq", [batch_id])
            buffer = io.StringIO()
            csv.writer(buffer, delimiter="|").writerows(cursor.fetchall())
        (directory / "baseline.csv").write_text(buffer.getvalue(), encoding="utf-8")

    elapsed, _ = timed("baseline: the same rows read and written as plain CSV", run)
    return elapsed


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    private_dir = tempfile.mkdtemp(prefix="bench-payday-")
    scratch_db_create()
    try:
        django_setup(private_dir)
        from django.db import connection

        from apps.ledger.models import JournalEntry
        from apps.ledger.payday import payday_batch_post
        from apps.returns.services import return_file_produce

        print(f"setup: {rows:,} rows in scratch database {SCRATCH_DB}")
        _, (batch, bank) = timed("setup (COPY accounts and rows, ANALYZE)", lambda: world_make(rows))

        print("posting")
        baseline = posting_baseline(batch.pk)
        times, wrapper = statement_timer()
        with connection.execute_wrapper(wrapper):
            posting, outcome = timed("payday_batch_post (one transaction, commit included)",
                                     lambda: payday_batch_post(batch_id=batch.pk, today=PAY_DATE))
        if outcome != "paid":
            raise SystemExit(f"the batch was not paid: {outcome}")
        for seconds, sql in sorted(times, reverse=True)[:5]:
            print(f"    {seconds:6.3f} s  {sql}")
        batch.refresh_from_db()
        legs = JournalEntry.objects.filter(batch=batch).count()
        print(f"  paid {batch.success_count:,} rows, failed {batch.failure_count:,}, fee {batch.fee_charged},"
              f" {legs:,} journal legs")
        print(f"  ratio posting / baseline: {posting / baseline:.2f}   aim: posting <= 3.0 s"
              f" {'met' if posting <= 3.0 else 'NOT met'}")

        print("return file")
        rbaseline = return_baseline(batch.pk, Path(private_dir))
        rtime, record = timed("return_file_produce (rows, dump, sign, encrypt, write, record)",
                              lambda: return_file_produce(batch_id=batch.pk, today=PAY_DATE + timedelta(days=1),
                                                          signer=bank))
        print(f"  {record.size:,} bytes sealed; {record.success_count:,} ok / {record.failure_count:,} failed")
        print(f"  ratio return file / baseline: {rtime / rbaseline:.2f}   aim: return file <= 1.5 s"
              f" {'met' if rtime <= 1.5 else 'NOT met'}")
        connection.close()
    finally:
        if not os.environ.get("BENCH_KEEP"):  # keep the scratch database to look at plans
            scratch_db_drop()


if __name__ == "__main__":
    main()
