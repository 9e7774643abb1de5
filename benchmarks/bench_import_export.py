"""P3 (issue 15): the same payroll rows and the same row checks through django-import-export, against
our own intake, into the same table (not a test).

    .venv/bin/python -m benchmarks.bench_import_export [--rows 100000] [--json PATH]

Ours: the intake part's world (benchmarks/bench_intake.py: bank keys, a company, a registry
holding half the accounts, a signed and encrypted file) through the real services, submit →
pre-validate → confirm → store, as the intake part's worker runs them (benchmarks/intake_worker.py).
That is more work than django-import-export is given here (decrypt, verify the signature, match
the registry, register the new half, audit): the ratio is conservative.

Baseline: django-import-export 4.x with the tuning its documentation names for large imports:
``use_bulk=True``, ``batch_size=1000``, ``skip_diff=True`` (no before/after comparison per row),
``skip_unchanged`` off, ``force_init_instance=True`` (every row is new: no lookup per row), one
transaction. It reads the same rows as a CSV into a tablib Dataset and checks every row in
``before_import_row`` with our pure check functions (payroll_exchange.checks: account, name, ID,
amount, remark, duplicate account), then bulk-creates PayrollRow under a batch of its own. Both
must store the same row count and the same sum, or the part raises instead of reporting.

django-import-export is in the ``bench`` extras only: it becomes an installed app inside this
process (settings configured before django.setup()), never in the project's settings.
"""

from __future__ import annotations

import csv
import importlib
import io
import os
import shutil
import sys
import tempfile
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from benchmarks.results import Measurement, part_main

AIM_FACTOR = 20.0  # ours ≥ 20× faster than django-import-export
CSV_HEADERS = ("seq", "account", "name", "amount", "id_type", "id_number", "remark")


def django_setup(*, database_url: str, private_dir: str, business_now: str) -> None:
    """The test settings plus import_export as an app, for this process only."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["PRIVATE_FILES_DIR"] = private_dir
    os.environ["BUSINESS_CLOCK"] = business_now
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    base = importlib.import_module("config.settings.test")
    from django.conf import settings

    values = {name: getattr(base, name) for name in dir(base) if name.isupper()}
    values["INSTALLED_APPS"] = [*base.INSTALLED_APPS, "import_export"]
    settings.configure(**values)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def rows_csv(rows) -> str:  # noqa: ANN001
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADERS)
    writer.writerows((r.seq, r.account, r.name, r.amount, r.id_type, r.id_number, r.remark) for r in rows)
    return buffer.getvalue()


def resource_class():
    """A ModelResource for PayrollRow whose row checks are ours (imported lazily: needs Django)."""
    from import_export import resources

    from apps.payroll.models import PayrollRow
    from payroll_exchange.checks import account_normalize, account_problem, id_problem, name_problem

    cent = Decimal("0.01")

    class PayrollRowResource(resources.ModelResource):
        class Meta:
            model = PayrollRow
            fields = CSV_HEADERS
            use_bulk = True
            batch_size = 1000
            skip_diff = True
            skip_unchanged = False
            force_init_instance = True  # all rows are new: no SELECT per row to find an existing one
            use_transactions = True

        def __init__(self, *, batch_id: int, today, single_limit: Decimal | None) -> None:  # noqa: ANN001
            super().__init__()
            self.batch_id = batch_id
            self.today = today
            self.limit = single_limit
            self.accounts: dict[str, int] = {}
            self.births: dict[str, bool] = {}

        def before_import_row(self, row, **kwargs) -> None:  # noqa: ANN001
            """The payroll_check row rules, one row at a time, with the same functions."""
            seq = int(row["seq"])
            account = row["account"] = account_normalize(row["account"])
            problems = [account_problem(account, seq), name_problem(row["name"], seq),
                        id_problem(row["id_type"], row["id_number"], seq, self.today, self.births)]
            first = self.accounts.setdefault(account, seq)
            if first != seq:
                problems.append(f"row {seq}: account {account} repeats row {first}")
            try:
                amount = Decimal(row["amount"])
            except InvalidOperation:
                amount = Decimal(0)
            if amount <= 0 or (self.limit is not None and amount > self.limit) or amount % cent:
                problems.append(f"row {seq}: amount {row['amount']!r}")
            remark = row["remark"] or ""
            if len(remark) > 100 or "|" in remark:
                problems.append(f"row {seq}: remark")
            found = [p for p in problems if p is not None]
            if found:
                raise ValueError(found[0] if isinstance(found[0], str) else found[0].en)

        def after_init_instance(self, instance, new, row, **kwargs) -> None:  # noqa: ANN001
            instance.batch_id = self.batch_id  # not a column of the file: no FK widget lookup per row

    return PayrollRowResource


def import_export_run(*, batch_id: int, rows, today, single_limit) -> tuple[float, float, float]:  # noqa: ANN001
    """django-import-export from CSV text to stored rows: (wall, client CPU, server CPU)."""
    import tablib

    from benchmarks.bench_intake import CpuMeter
    from benchmarks.scratch import require

    text = rows_csv(rows)
    resource = resource_class()(batch_id=batch_id, today=today, single_limit=single_limit)
    meter = CpuMeter()
    c0, t0 = meter.read(), time.perf_counter()
    dataset = tablib.Dataset().load(text, format="csv")
    result = resource.import_data(dataset, dry_run=False, raise_errors=True)
    elapsed, c1 = time.perf_counter() - t0, meter.read()
    require(not result.has_errors() and not result.has_validation_errors(), "django-import-export reported errors")
    return elapsed, c1[0] - c0[0], c1[1] - c0[1]


def stored(batch_id: int) -> tuple[int, Decimal]:
    from django.db.models import Count, Sum

    from apps.payroll.models import PayrollRow

    got = PayrollRow.objects.filter(batch_id=batch_id).aggregate(n=Count("id"), total=Sum("amount"))
    return got["n"], got["total"] or Decimal(0)


def _batch_copy(batch_id: int, name: str):  # noqa: ANN202
    """A batch of its own for a baseline's rows: a copy of ours, revoked (frees its number, digest and
    file id), as bench_intake's baseline does."""
    from apps.payroll.models import PayrollBatch

    batch = PayrollBatch.objects.get(pk=batch_id)
    batch.pk = None
    batch.stored_name = name
    batch.status = "revoked"
    batch.save()
    return batch


def measure(rows: int) -> list[Measurement]:
    from benchmarks import bench_intake as intake
    from benchmarks import scratch
    from benchmarks.intake_worker import services_run

    private_dir = tempfile.mkdtemp(prefix="payroll-bench-")
    database = f"payroll_bench_ie_{os.getpid()}"
    scratch.scratch_db_create(database)
    try:
        django_setup(database_url=f"{scratch.SERVER}/{database}", private_dir=private_dir,
                     business_now=intake.BUSINESS_NOW)
        from apps.core import clock
        party, file_rows, sealed = intake.world_make(rows)
        expected = (len(file_rows), sum((r.amount for r in file_rows), Decimal(0)))
        sealed_path = Path(private_dir) / "bench-upload.p7m"
        sealed_path.write_bytes(sealed)
        del sealed

        # The intake part's own run of the services (it checks the count, sum and registry itself).
        run = services_run(card=party.card, agreement=party.agreement, sealed_path=sealed_path,
                           rows_count=rows, total=expected[1])
        batch_id = run["batch_id"]
        ours, ours_wall = sum(run["cpu"]["end to end"]), run["wall"]["end to end"]
        intake.require(stored(batch_id) == expected, f"ours stored {stored(batch_id)}, the file has {expected}")

        # The baseline's rows go under a batch of their own, a copy of ours (as bench_intake's baseline).
        theirs_batch, *copy_batches = (_batch_copy(batch_id, f"bench-{n}") for n in range(3))
        their_wall, their_client, their_server = import_export_run(
            batch_id=theirs_batch.pk, rows=file_rows, today=clock.now().date(),
            single_limit=party.agreement.single_limit)
        intake.require(stored(theirs_batch.pk) == expected,
                       f"django-import-export stored {stored(theirs_batch.pk)}, the file has {expected}")

        # The floor under any intake: the raw COPY of the same rows (P1's baseline), the cheaper of
        # its two styles. theirs / floor is the most any intake could be faster than theirs here.
        by_row, by_buffer = intake.raw_copy_baselines(batch_ids=[b.pk for b in copy_batches], rows=file_rows,
                                                      total=expected[1])
        floor = min(by_row[1] + by_row[2], by_buffer[1] + by_buffer[2])

        # CPU seconds (client + PostgreSQL backend), as P1: other work on the machine moves them least.
        theirs = their_client + their_server
        speedup = theirs / ours
        return [Measurement(
            key="P3", workload="intake vs django-import-export, same rows+checks (CPU)", rows=rows, ours=ours,
            baseline=theirs, baseline_label="django-import-export 4.x: use_bulk, batch_size 1000, skip_diff, "
            "our row checks in before_import_row (CPU: client + PostgreSQL backend)",
            aim=f"≥ {AIM_FACTOR:g}× faster", met=speedup >= AIM_FACTOR,
            extra={"speedup": round(speedup, 2), "speedup_wall": round(their_wall / ours_wall, 2),
                   "wall_s": round(ours_wall, 3), "baseline_wall_s": round(their_wall, 3),
                   "cpu_s": round(run["cpu"]["end to end"][0], 3),
                   "backend_cpu_s": round(run["cpu"]["end to end"][1], 3),
                   "baseline_cpu_s": round(their_client, 3), "baseline_backend_cpu_s": round(their_server, 3),
                   "raw_copy_cpu_s": round(floor, 3), "raw_copy_speedup": round(theirs / floor, 2),
                   "stored_rows": expected[0], "stored_sum": str(expected[1])},
        )]
    finally:
        scratch.scratch_db_drop(database)
        shutil.rmtree(private_dir, ignore_errors=True)
        conftest = sys.modules.get("tests.conftest")
        if conftest is not None:  # tests.factories made the test session's directory on import
            shutil.rmtree(conftest._SESSION_DIR, ignore_errors=True)


if __name__ == "__main__":
    part_main(measure)
