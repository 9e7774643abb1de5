"""Benchmark: a 100,000-row payroll file from upload to stored on PostgreSQL (not a test).

    .venv/bin/python benchmarks/bench_intake.py [--rows 100000]

It creates a scratch PostgreSQL database (dropped at the end, also on error), migrates it with the
test settings, makes the bank keys, a company with its agreement and card, a registry holding half
of the file's accounts (bulk-loaded with COPY) and a signed, encrypted payroll file whose other half
are new employees. Then, with the business clock pinned to a working day at 10:00, it runs the real
services the way the kiosk and the worker do — the on_commit task enqueues are caught and the
services called directly:

    payroll_batch_submit → payroll_batch_prevalidate → payroll_batch_confirm → payroll_batch_store

and prints the time of each phase two ways: inside the service run (the functions each service
calls are wrapped with a timer, no production code changed), and the pure functions run again
on their own on the same bytes. Baseline, same run, same table: a raw psycopg COPY of the same
rows into payroll_payrollrow under a throwaway batch (committed, then deleted). Aim (issue 5): <= 3 s end to
end, storing <= 2x raw COPY. Beside wall time it prints the CPU seconds of this process and of its
PostgreSQL backend, which other work on a shared machine disturbs much less. ``--profile`` runs
the services under cProfile.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from unittest import mock

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SCRATCH_DB = f"payroll_bench_{os.getpid()}"
BUSINESS_NOW = "2026-12-01T10:00:00+08:00"  # Tuesday: a bank working day, inside service hours
AIM_END_TO_END = 3.0
AIM_STORE_RATIO = 2.0

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚建华文玉红梅志海燕晓东春丹宇浩然子涵欣怡梓萱一诺"


def scratch_db_create() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')


def scratch_db_drop() -> None:
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')


def django_setup(private_dir: str) -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{SCRATCH_DB}"
    os.environ["PRIVATE_FILES_DIR"] = private_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["BUSINESS_CLOCK"] = BUSINESS_NOW
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def require(condition: bool, message: str) -> None:
    """A benchmark that silently measured a failure is worse than none."""
    if not condition:
        raise RuntimeError(message)


class CpuMeter:
    """CPU seconds spent by this process and by its PostgreSQL backend (a local server, read from
    /proc): on a machine shared with other work, wall time stretches, CPU time much less."""

    def __init__(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
        self.tick = os.sysconf("SC_CLK_TCK")

    def server(self) -> float:
        try:
            fields = self.stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # another host or container: no server figure
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime

    def read(self) -> tuple[float, float]:
        return time.process_time(), self.server()


class Timeline:
    """Wraps functions a service calls and records when each call started and ended."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, float]] = []

    def wrap(self, label: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.calls.append((label, start, time.perf_counter()))

        return timed

    def total(self, label: str) -> float:
        return sum(end - start for name, start, end in self.calls if name == label)

    def first_start(self, label: str) -> float:
        return min(start for name, start, _end in self.calls if name == label)

    def last_end(self, label: str) -> float:
        return max(end for name, _start, end in self.calls if name == label)


def file_rows(count: int):
    """Rows shaped like a real file: Chinese names, Luhn-valid UnionPay accounts, valid resident
    IDs with varied birth dates, amounts with cents."""
    from payroll_exchange.records import PayrollRow
    from tests.factories import resident_id, unionpay_account

    rows = []
    for seq in range(1, count + 1):
        name = SURNAMES[seq % len(SURNAMES)] + GIVEN[(seq * 7) % len(GIVEN)] + GIVEN[(seq * 13) % len(GIVEN)][: seq % 2]
        birth = f"{1960 + seq % 44}{1 + seq % 12:02d}{1 + seq % 28:02d}"
        amount = Decimal(300000 + (seq * 7919) % 3000000) / 100
        rows.append(PayrollRow(seq=seq, account=unionpay_account(seq), name=name, amount=amount, id_type="0",
                               id_number=resident_id(seq, birth=birth), remark="十二月工资"))
    return rows


def world_make(rows_count: int):
    """Bank keys, one company (agreement, certificate, card), the registry holding every even row's
    account, and the signed payroll file."""
    from django.db import connection

    from apps.agreements.services import bank_identity, bank_keys_files_create, bank_root
    from payroll_exchange import pki
    from tests.factories import COMPANY_A_NAME, KEYS_NOW, USCC_A, party_create, payroll_file_bytes, unionpay_account

    bank_keys_files_create(now=KEYS_NOW)
    identity = pki.cert_issue(issuer=bank_root(), common_name="DF0001", organization=COMPANY_A_NAME,
                              role="enterprise", now=KEYS_NOW)
    party = party_create(name=COMPANY_A_NAME, uscc=USCC_A, number="DF0001", payer_unit_no="U31001",
                         identity=identity, card_number=unionpay_account(900_000_001),
                         settlement_account="310066001800001")
    rows = file_rows(rows_count)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY employees_employee (company_id, account, name, id_type, id_number, added_at, source) FROM STDIN"
        ) as copy:
            for r in rows[::2]:
                copy.write_row((party.company.pk, r.account, r.name, r.id_type, r.id_number, KEYS_NOW, "bench"))
        cursor.execute("ANALYZE")
    sealed = payroll_file_bytes(party=party, rows=rows, bank=bank_identity())
    return party, rows, sealed


def raw_copy_baselines(*, batch_ids: list[int], rows) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """The same rows into the same table with psycopg's COPY, committed, then deleted: (write_row
    per row, one pre-formatted text buffer), each (wall, client CPU, server CPU). Both include
    building the COPY data from the parsed rows. Timed up to and including COMMIT: Django makes
    foreign keys DEFERRABLE INITIALLY DEFERRED, so a rolled-back COPY would skip the 100k foreign
    key checks that storing pays for at its COMMIT."""
    from django.db import connection, transaction

    sql = ("COPY payroll_payrollrow (batch_id, seq, account, name, amount, id_type, id_number, remark,"
           " result_code, result_message) FROM STDIN")
    timings = []
    cpu = CpuMeter()
    # A batch id of its own for each: a second COPY under the first's (deleted, not yet vacuumed)
    # keys would pay for visiting the dead index entries in the (batch, seq) unique check.
    for style, batch_id in zip(("write_row", "buffer"), batch_ids, strict=True):
        cpu_start = cpu.read()
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            if style == "write_row":
                for r in rows:
                    copy.write_row((batch_id, r.seq, r.account, r.name, r.amount, r.id_type, r.id_number,
                                    r.remark, "", ""))
            else:
                # The bench rows hold no tab, newline or backslash: no escaping needed here.
                copy.write("".join([
                    f"{batch_id}\t{r.seq}\t{r.account}\t{r.name}\t{r.amount}\t{r.id_type}\t{r.id_number}\t"
                    f"{r.remark}\t\t\n" for r in rows
                ]))
        elapsed = time.perf_counter() - start
        cpu_end = cpu.read()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM payroll_payrollrow WHERE batch_id = %s", [batch_id])
            deleted = cursor.rowcount
        require(deleted == len(rows), f"baseline stored {deleted} rows")
        timings.append((elapsed, cpu_end[0] - cpu_start[0], cpu_end[1] - cpu_start[1]))
    return timings[0], timings[1]


def pure_phases(*, sealed: bytes, rows_count: int, company_id: int, agreement) -> dict[str, float]:
    """The same pure functions the services call, on the same bytes, on their own."""
    from apps.agreements.services import bank_identity, trust_store
    from apps.core import clock
    from apps.employees.selectors import registry_names
    from payroll_exchange.checks import payroll_check
    from payroll_exchange.envelope import envelope_open
    from payroll_exchange.formats import payroll_load

    now = clock.now()
    out = {}
    start = time.perf_counter()
    opened = envelope_open(data=sealed, recipient=bank_identity(), trust=trust_store(now=now), now=now,
                           expected_kind="payroll", expected_signer=agreement.certificate.fingerprint)
    out["open (decrypt + verify)"] = time.perf_counter() - start
    start = time.perf_counter()
    payroll, errors = payroll_load(opened.payload)
    out["parse (payroll_load)"] = time.perf_counter() - start
    start = time.perf_counter()
    errors += payroll_check(payroll=payroll, today=now.date(), single_limit=agreement.single_limit)
    out["check (payroll_check)"] = time.perf_counter() - start
    require(not errors, f"the file has errors: {errors[:3]}")
    require(len(payroll.rows) == rows_count, f"{len(payroll.rows)} rows parsed")
    start = time.perf_counter()
    known = registry_names(company_id=company_id, accounts=(r.account for r in payroll.rows))
    out["registry match (registry_names)"] = time.perf_counter() - start
    require(len(known) == (rows_count + 1) // 2, f"the registry knows {len(known)} accounts")
    return out


def services_run(*, party, sealed: bytes) -> tuple[dict[str, float], dict[str, float], dict, int]:
    """Upload to stored through the real services; phases from the timeline of their calls."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.payroll.models import BatchStatus, PayrollBatch
    from apps.payroll.services import intake, storing

    tl = Timeline()
    enqueued: list[tuple[str, int]] = []
    with ExitStack() as stack:
        # The on_commit enqueues: caught here, the services they would run are called below.
        # The pipeline's one publish (apps/intake/queue.py), by the upload and by 确认入库.
        for target in ("apps.intake.queue.intake_enqueue", "apps.intake.uploads.intake_enqueue"):
            stack.enter_context(mock.patch(target, side_effect=lambda *, kind, pk: enqueued.append((kind, pk)) or True))
        for module, names in ((intake, ("envelope_open", "payroll_load", "payroll_check", "_duplicates",
                                        "registry_names", "_progress", "private_file_write")),
                              (storing, ("payroll_load", "file_digest", "registry_names", "_rows_copy",
                                         "_newcomers_register", "batch_transition", "audit_record"))):
            for name in names:
                if not hasattr(module, name):  # the benchmark also measures older versions of the services
                    continue
                stack.enter_context(mock.patch.object(module, name, tl.wrap(f"{module.__name__}.{name}",
                                                                             getattr(module, name))))
        stack.enter_context(mock.patch.object(storing.Employee.objects, "bulk_create",
                                              tl.wrap("employees.bulk_create", storing.Employee.objects.bulk_create)))

        upload = SimpleUploadedFile("payroll.p7m", sealed, content_type="application/octet-stream")
        meter = CpuMeter()
        c0 = meter.read()
        t0 = time.perf_counter()
        batch = intake.payroll_batch_submit(card=party.card, agreement=party.agreement, upload=upload)
        t1 = time.perf_counter()
        intake.payroll_batch_prevalidate(batch_id=batch.pk)
        t2 = time.perf_counter()
        batch.refresh_from_db()
        require(batch.status == BatchStatus.AWAITING_CONFIRMATION, f"{batch.status}: {batch.errors[:3]}")
        intake.payroll_batch_confirm(batch=batch, card=party.card)
        t3 = time.perf_counter()
        c3 = meter.read()
        stored = storing.payroll_batch_store(batch_id=batch.pk)
        t4 = time.perf_counter()
        c4 = meter.read()
    batch = PayrollBatch.objects.get(pk=batch.pk)
    require(stored, "payroll_batch_store did nothing")
    require(batch.status == BatchStatus.STORED, f"batch is {batch.status}")
    require(batch.rows.count() == batch.record_count, "not every row was stored")
    require(enqueued == [("payroll", batch.pk), ("payroll", batch.pk)], f"{enqueued}")

    i, s = "apps.payroll.services.intake.", "apps.payroll.services.storing."
    # Registry match: from the end of the duplicate check to the verified file being written.
    registry = tl.first_start(i + "private_file_write") - tl.last_end(i + "_duplicates")
    inside = {
        "upload (file save + batch row)": t1 - t0,
        "open (decrypt + verify)": tl.total(i + "envelope_open"),
        "parse + check": tl.total(i + "payroll_load") + tl.total(i + "payroll_check"),
        "registry match (incl. progress)": registry,
        "  of which registry queries": tl.total(i + "registry_names"),
        "  of which progress updates": tl.total(i + "_progress"),
        "prevalidate, rest": 0.0,
        "confirm": t3 - t2,
        "store": t4 - t3,
        "  read + digest + parse": tl.total(s + "file_digest") + tl.total(s + "payroll_load"),
        "  registry lookup": tl.total(s + "registry_names"),
        "  new employees": tl.total(s + "_newcomers_register") or tl.total("employees.bulk_create"),
        "  rows COPY": tl.total(s + "_rows_copy"),
        "  transition + audit": tl.total(s + "batch_transition") + tl.total(s + "audit_record"),
    }
    named = ("open (decrypt + verify)", "parse + check", "registry match (incl. progress)")
    inside["prevalidate, rest"] = (t2 - t1) - sum(inside[k] for k in named)
    totals = {"submit": t1 - t0, "prevalidate": t2 - t1, "confirm": t3 - t2, "store": t4 - t3, "end to end": t4 - t0}
    cpu = {"store": (c4[0] - c3[0], c4[1] - c3[1]), "end to end": (c4[0] - c0[0], c4[1] - c0[1])}
    return inside, totals, cpu, batch.pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the services run, print the top calls")
    args = parser.parse_args()

    private_dir = tempfile.mkdtemp(prefix="payroll-bench-")
    scratch_db_create()
    try:
        django_setup(private_dir)
        started = time.perf_counter()
        party, rows, sealed = world_make(args.rows)
        print(f"payroll file: {args.rows:,} rows, {len(sealed) / 1e6:.2f} MB sealed; registry holds "
              f"{(args.rows + 1) // 2:,} of its accounts (made in {time.perf_counter() - started:.1f} s)")
        print(f"load: {open('/proc/loadavg').read().strip()}")  # noqa: SIM115, PTH123

        # The pure functions first: storing registers the new half, the registry must still hold half.
        pure = pure_phases(sealed=sealed, rows_count=args.rows, company_id=party.company.pk,
                           agreement=party.agreement)
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            inside, totals, cpu, batch_id = profiler.runcall(services_run, party=party, sealed=sealed)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        else:
            inside, totals, cpu, batch_id = services_run(party=party, sealed=sealed)

        from apps.payroll.models import PayrollBatch

        # The throwaway batches for the baseline: copies of the stored batch's row under new ids.
        throwaways = []
        for n in range(2):
            throwaway = PayrollBatch.objects.get(pk=batch_id)
            throwaway.pk = None
            throwaway.stored_name = f"bench-baseline-{n}"
            throwaway.status = "revoked"  # frees the batch number, digest and file id
            throwaway.save()
            throwaways.append(throwaway)
        by_row, by_buffer = raw_copy_baselines(batch_ids=[t.pk for t in throwaways], rows=rows)
        for throwaway in throwaways:
            throwaway.delete()

        print("\nservices end to end (phases timed inside the real run):")
        for label, value in inside.items():
            print(f"  {label:<36} {value:7.3f} s")
        print("  " + "-" * 46)
        for label, value in totals.items():
            print(f"  {label:<36} {value:7.3f} s")
        print("\npure functions on their own, same bytes:")
        for label, value in pure.items():
            print(f"  {label:<36} {value:7.3f} s")
        print("\nbaseline, raw psycopg COPY of the same rows into payroll_payrollrow:")
        print(f"  {'write_row per row':<36} {by_row[0]:7.3f} s")
        print(f"  {'one pre-formatted buffer':<36} {by_buffer[0]:7.3f} s")
        baseline = min(by_row, by_buffer)
        ratio = totals["store"] / baseline[0]
        print(f"\nstore / raw COPY (faster baseline): {ratio:.2f}x   "
              f"(vs write_row: {totals['store'] / by_row[0]:.2f}x)")
        print("CPU seconds (client + PostgreSQL backend), less disturbed by other work on the machine:")
        for label, (client, server) in cpu.items():
            print(f"  {label:<36} {client + server:7.3f} s  (client {client:.3f}, server {server:.3f})")
        base_cpu = baseline[1] + baseline[2]
        print(f"  {'raw COPY (faster baseline)':<36} {base_cpu:7.3f} s  (client {baseline[1]:.3f}, "
              f"server {baseline[2]:.3f})")
        print(f"  store / raw COPY in CPU: {sum(cpu['store']) / base_cpu:.2f}x")
        e2e = totals["end to end"]
        print(f"aim: end to end <= {AIM_END_TO_END} s: {'within' if e2e <= AIM_END_TO_END else 'OVER'} "
              f"({e2e:.3f} s); store <= {AIM_STORE_RATIO}x raw COPY: "
              f"{'within' if ratio <= AIM_STORE_RATIO else 'OVER'} ({ratio:.2f}x)")
        print(f"load at the end: {open('/proc/loadavg').read().strip()}")  # noqa: SIM115, PTH123
    finally:
        scratch_db_drop()
        shutil.rmtree(private_dir, ignore_errors=True)
        conftest = sys.modules.get("tests.conftest")
        if conftest is not None:  # tests.factories made the test session's directory on import
            shutil.rmtree(conftest._SESSION_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
