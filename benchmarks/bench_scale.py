"""Benchmark part for issue 15's "past one machine" (keys S1–S3, not in the P-table aims).

    .venv/bin/python -m benchmarks.bench_scale [--rows 100000] [--json PATH] [--detail]

In one scratch PostgreSQL database (dropped at the end, also on error):

S1  four companies' batches of rows/4 each (every company its own settlement account, all four
    sharing the bank's one fee-income account) paid by two worker processes at once (two batches
    each) against one worker paying all four one after another; wall time, best of the rounds.
    A side connection samples pg_stat_activity every few milliseconds while they run: how long
    the workers' backends waited on locks, and on what (the hot row: the fee-income account).
S2  one intake (submit → pre-validate → confirm → store, benchmarks/intake_worker.py, rows/4,
    half new employees) with every statement through PgBouncer in transaction mode (Debian's
    pgbouncer on a loopback port, tests/support/pgbouncer.py) against the same straight to
    PostgreSQL; wall time, best of two each, alternated.
S3  one pay day (payday_run_recorded, beat's task: the run's session advisory lock goes over the
    direct connection, DATABASE_POOLER) through PgBouncer against direct; wall, best of two.

Every worker checks its batches came out paid and the parent checks the journal (credit count and
sum per batch); a wrong figure raises instead of being reported. docs/scaling.md reads the figures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_intake import django_setup  # noqa: E402 — after the path insert
from benchmarks.results import Measurement, part_main  # noqa: E402
from benchmarks.scratch import SCRATCH_DB, SERVER, require, scratch_db_create, scratch_db_drop  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
COMPANIES = 4
FIRST_PAY_DATE = date(2026, 12, 1)
AIM_PARALLEL = 0.75  # S1: two workers on two cores, if nothing serialized them, ~0.5× plus start-up
AIM_POOLER = 1.2  # S2, S3: the pooler's extra hop on loopback


def world_make(*, per_batch: int, rounds: int) -> tuple[list, list[list[int]]]:
    """Four companies with their agreements, settlement accounts and ``per_batch`` employee
    accounts each; for every round, one stored batch per company paying each of its employees,
    the round's pay date one day after the last. Returns (agreements, batch ids per round)."""
    from django.db import connection

    from apps.ledger.models import AccountKind
    from apps.ledger.services import ledger_fee_income_account
    from apps.payroll.models import BatchStatus, PayrollBatch
    from payroll_exchange import pki
    from tests.ledger.factories import agreement_make, batch_make, company_make, settlement_account_make

    now = datetime.now(tz=UTC)
    root = pki.root_create(common_name="Scale Root", now=now - timedelta(days=1))
    ledger_fee_income_account()
    agreements = []
    for k in range(COMPANIES):
        identity = pki.cert_issue(issuer=root, common_name=f"DF20260000{k + 1:02d}", organization=f"示例{k}公司",
                                  role="enterprise", now=now)
        agreement = agreement_make(company=company_make(name=f"上海示例{k}有限公司"), identity=identity,
                                   number=f"DF20260000{k + 1:02d}", fee_per_payment=Decimal("2.00"))
        settlement_account_make(agreement=agreement, balance=Decimal("99999999999.00"))
        agreements.append(agreement)
    rounds_ids: list[list[int]] = []
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy("COPY ledger_ledgeraccount (number, holder_name, kind, status, balance, currency)"
                      " FROM STDIN") as copy:
            for n in range(COMPANIES * per_batch):
                status = "frozen" if n % 100 == 7 else "normal"  # 1 % frozen: those rows fail, the batch pays
                copy.write_row((f"6222{n:012d}", f"{NAMES[n % 20]}员工{n}", AccountKind.EMPLOYEE, status, 0, "CNY"))
        for r in range(rounds):
            ids = []
            for k, agreement in enumerate(agreements):
                batch = batch_make(agreement=agreement, rows=[], pay_date=FIRST_PAY_DATE + timedelta(days=r),
                                   status=BatchStatus.STORED)
                total = Decimal(0)
                with raw.copy("COPY payroll_payrollrow (batch_id, seq, account, name, amount, id_type, id_number,"
                              " remark, result_code, result_message) FROM STDIN") as copy:
                    for i in range(per_batch):
                        n = k * per_batch + i
                        amount = Decimal(3000 + (n + r) % 5000) + Decimal("0.35")
                        total += amount
                        copy.write_row((batch.pk, i + 1, f"6222{n:012d}", f"{NAMES[n % 20]}员工{n}", amount, "1",
                                        f"P{n:08d}", "", "", ""))
                PayrollBatch.objects.filter(pk=batch.pk).update(record_count=per_batch, total_amount=total,
                                                                rows_total=per_batch, rows_done=per_batch)
                ids.append(batch.pk)
            rounds_ids.append(ids)
        cursor.execute("ANALYZE")
    return agreements, rounds_ids


class LockSampler:
    """Polls pg_stat_activity from a side connection while workers run: for each sample, which of
    the workers' backends wait on a lock, and in which statement. Wait seconds are the sum over
    samples of (waiting backends × time since the previous sample)."""

    def __init__(self, *, dsn: str, pids: list[int]) -> None:
        self.dsn, self.pids = dsn, pids
        self.wait_s: Counter[str] = Counter()
        self.samples = 0
        self.max_waiting = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def what(query: str, wait_event: str) -> str:
        q = " ".join(query.split()).lower()
        if "ledger_ledgeraccount" in q and "for update" in q:
            return f"row lock on the fee-income account (ledger_posting_lock), {wait_event}"
        if "ledger_ledgeraccount" in q:
            return f"account rows (balance update), {wait_event}"
        return f"{q[:60]}…, {wait_event}"

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            last = time.perf_counter()
            while not self._stop.is_set():
                rows = conn.execute("SELECT wait_event, query FROM pg_stat_activity WHERE pid = ANY(%s)"
                                    " AND wait_event_type = 'Lock'", [self.pids]).fetchall()
                now = time.perf_counter()
                for wait_event, query in rows:
                    self.wait_s[self.what(query, wait_event)] += now - last
                self.samples += 1
                self.max_waiting = max(self.max_waiting, len(rows))
                last = now
                self._stop.wait(0.003)

    def __enter__(self) -> LockSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def workers_run(*, groups: list[list[int]], today: date, env: dict[str, str], mode: str = "batches",
                sample: bool = True) -> tuple[float, list[dict], LockSampler | None]:
    """Start one worker process per group, wait until all are ready, start them together; the
    wall time is from the start signal to the last worker's end."""
    from django.db import connection

    # Every round meets tables as vacuumed as the first one did: the earlier rounds' balance updates
    # leave dead account rows, and a later round would otherwise pay for them (measured: the last
    # rounds were up to 2× slower without this).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE ledger_ledgeraccount, ledger_journalentry, payroll_payrollrow")
    procs = []
    for group in groups:
        argv = [sys.executable, "-m", "benchmarks.scale_worker", mode, today.isoformat()]
        if mode == "batches":
            argv.append(",".join(map(str, group)))
        procs.append(subprocess.Popen(argv, cwd=PROJECT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True))
    try:
        ready = [json.loads(p.stdout.readline()) for p in procs]
        sampler = LockSampler(dsn=f"{SERVER}/{SCRATCH_DB}", pids=[r["backend"] for r in ready]) if sample else None
        if sampler:
            sampler.__enter__()
        start = time.perf_counter()
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        figures = [json.loads(p.stdout.readline()) for p in procs]
        wall = time.perf_counter() - start
        if sampler:
            sampler.__exit__(None, None, None)
        for p in procs:
            require(p.wait(timeout=60) == 0, f"a pay-day worker failed: {figures}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return wall, figures, sampler


def _cpu_sum(figures: list[dict]) -> float:
    return sum(f["cpu"] + f["backend_cpu"] for f in figures)


def paid_check(batch_ids: list[int]) -> None:
    """Each batch posted once: its credits' count and sum are its paid rows' count and sum."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT b.id, b.status, b.success_count, b.success_amount, count(j.id), coalesce(sum(j.amount), 0)"
            "  FROM payroll_payrollbatch b LEFT JOIN ledger_journalentry j"
            "    ON j.batch_id = b.id AND j.kind = 'payroll' AND j.side = 'C'"
            " WHERE b.id = ANY(%s) GROUP BY b.id", [batch_ids])
        for batch_id, status, ok_count, ok_amount, credits, credited in cursor.fetchall():
            require(status == "paid" and credits == ok_count and credited == ok_amount and ok_count > 0,
                    f"batch {batch_id}: {status}, {credits} credits of {ok_count}, {credited} of {ok_amount}")


def advisory_locks_left() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        return cursor.fetchone()[0]


def intake_through(*, spec: dict, env: dict[str, str], private_dir: str, label: str) -> dict:
    """One intake in a fresh benchmarks/intake_worker process; the run is undone afterwards, so the
    next one meets the same world."""
    from django.db import connections

    from benchmarks.intake_worker import run_reset

    spec_path, out_path = Path(private_dir) / f"spec-{label}.json", Path(private_dir) / f"out-{label}.json"
    spec_path.write_text(json.dumps({**spec, "env": {**spec["env"], **env}}), encoding="utf-8")
    connections.close_all()
    subprocess.run([sys.executable, "-m", "benchmarks.intake_worker", str(spec_path), str(out_path)], cwd=PROJECT,
                   env=os.environ.copy(), check=True, stdout=subprocess.DEVNULL)
    run = json.loads(out_path.read_text(encoding="utf-8"))["runs"][0]
    run_reset(batch_id=run["batch_id"], batch_no=run["batch_no"])
    return run


def measure(rows: int) -> list[Measurement]:
    from tests.support.pgbouncer import PgBouncer

    per_batch = max(rows // COMPANIES, 100)
    repeat = 2 if rows <= 400_000 else 1
    private_dir = tempfile.mkdtemp(prefix="payroll-scale-")
    scratch_db_create()
    bouncer = PgBouncer(pool_size=4)
    try:
        django_setup(private_dir)
        load_before = Path("/proc/loadavg").read_text().split()[0]
        # S1 rounds (sequential, parallel, parallel with the fee lock taken last) × repeat, then S3's.
        agreements, rounds = world_make(per_batch=per_batch, rounds=3 * repeat + 2 * repeat)
        from django.db import connections

        connections.close_all()
        bouncer.start()
        direct_env = os.environ.copy()
        pooled_env = direct_env | {"DATABASE_URL": bouncer.url(SCRATCH_DB), "DATABASE_POOLER": "pgbouncer",
                                   "DATABASE_DIRECT_URL": f"{SERVER}/{SCRATCH_DB}"}

        sequential, parallel, late = [], [], []
        late_env = direct_env | {"BENCH_FEE_LOCK_LAST": "1"}
        waits: Counter[str] = Counter()
        late_waits: Counter[str] = Counter()
        # CPU seconds of the workers and their backends, summed: the same work whichever way it is
        # shared out, so a wall-time difference is waiting (locks, or the machine's other load).
        cpu: dict[str, list[float]] = {"sequential": [], "parallel": [], "fee lock last": []}
        max_waiting, worker_sum = 0, 0.0
        for n in range(repeat):
            seq_ids, par_ids, late_ids = rounds[3 * n], rounds[3 * n + 1], rounds[3 * n + 2]
            wall, seq_figures, _s = workers_run(groups=[seq_ids], today=FIRST_PAY_DATE + timedelta(days=3 * n),
                                                env=direct_env)
            sequential.append(wall)
            cpu["sequential"].append(_cpu_sum(seq_figures))
            wall, late_figures, late_sampler = workers_run(groups=[late_ids[0::2], late_ids[1::2]],
                                                 today=FIRST_PAY_DATE + timedelta(days=3 * n + 2), env=late_env)
            late.append(wall)
            cpu["fee lock last"].append(_cpu_sum(late_figures))
            late_waits.update(late_sampler.wait_s)
            paid_check(late_ids)
            wall, figures, sampler = workers_run(groups=[par_ids[0::2], par_ids[1::2]],
                                                 today=FIRST_PAY_DATE + timedelta(days=3 * n + 1), env=direct_env)
            parallel.append(wall)
            cpu["parallel"].append(_cpu_sum(figures))
            waits.update(sampler.wait_s)
            max_waiting = max(max_waiting, sampler.max_waiting)
            worker_sum += sum(f["wall"] for f in figures)
            paid_check(seq_ids + par_ids)
            _say(f"S1 round {n}: sequential {sequential[-1]:.3f} s, parallel {parallel[-1]:.3f} s, lock waits "
                 f"{sum(sampler.wait_s.values()):.3f} s {dict(sampler.wait_s)}; fee lock last {late[-1]:.3f} s, "
                 f"waits {dict(late_sampler.wait_s)}")

        # S3: beat's pay-day task (one run paying the day's four batches), direct and pooled, alternated.
        payday = {"direct": [], "pgbouncer": []}
        for n in range(repeat):
            for k, (label, env) in enumerate((("direct", direct_env), ("pgbouncer", pooled_env))):
                r = 3 * repeat + 2 * n + k
                wall, figures, _s = workers_run(groups=[[]], today=FIRST_PAY_DATE + timedelta(days=r), env=env,
                                                mode="run", sample=False)
                require(len(figures[0]["outcomes"]) == COMPANIES, f"{label} pay day paid {figures[0]['outcomes']}")
                paid_check(rounds[r])
                payday[label].append(wall)
                _say(f"S3 {label}: {wall:.3f} s")
        require(advisory_locks_left() == 0, "a pay-day run left its advisory lock behind")

        # S2: one intake of per_batch rows, direct and pooled, alternated.
        intake: dict[str, list[float]] = {"direct": [], "pgbouncer": []}
        if "S2" in PARTS:
            from benchmarks.bench_intake import upload_limit
            from benchmarks.bench_intake import world_make as intake_world_make

            party, file_rows, sealed = intake_world_make(per_batch)
            total = sum((r.amount for r in file_rows), Decimal(0))
            sealed_path = Path(private_dir) / "bench-upload.p7m"
            sealed_path.write_bytes(sealed)
            spec = {"env": {"UPLOAD_MAX_BYTES": str(upload_limit(file_size=len(sealed)))}, "card_id": party.card.pk,
                    "agreement_id": party.agreement.pk, "sealed_path": str(sealed_path), "rows": per_batch,
                    "total": str(total), "repeat": 1, "profile": False}
            pooled_intake_env = {k: pooled_env[k] for k in ("DATABASE_URL", "DATABASE_POOLER", "DATABASE_DIRECT_URL")}
            for n in range(repeat):
                for label, env in (("direct", {}), ("pgbouncer", pooled_intake_env)):
                    intake[label].append(intake_through(spec=spec, env=env, private_dir=private_dir,
                                                        label=f"{label}-{n}")["wall"]["end to end"])
                    _say(f"S2 {label}: {intake[label][-1]:.3f} s")
        pooled_xacts = bouncer.stats(SCRATCH_DB).get("total_xact_count", 0)
        require(pooled_xacts > 0, "nothing went through PgBouncer")
    finally:
        bouncer.stop()
        scratch_db_drop()
        shutil.rmtree(private_dir, ignore_errors=True)
        conftest = sys.modules.get("tests.conftest")
        if conftest is not None:  # tests.factories made the test session's directory on import
            shutil.rmtree(conftest._SESSION_DIR, ignore_errors=True)

    load_after = Path("/proc/loadavg").read_text().split()[0]
    lock_wait = sum(waits.values())
    common = {"load_before": load_before, "load_after": load_after, "rounds": repeat, "cores": os.cpu_count()}
    par, seq = min(parallel), min(sequential)
    d_intake, p_intake = min(intake["direct"], default=0.0), min(intake["pgbouncer"], default=0.0)
    d_pay, p_pay = min(payday["direct"]), min(payday["pgbouncer"])
    measurements = [
        Measurement(key="S1", workload=f"pay day, {COMPANIES}×{per_batch:,} rows, 2 workers at once", rows=rows,
                    ours=par, baseline=seq, baseline_label="1 worker paying the same 4 batches one after another",
                    aim=f"≤ {AIM_PARALLEL}×", met=par <= AIM_PARALLEL * seq,
                    extra={**common, "sequential_wall_s": [round(x, 3) for x in sequential],
                           "parallel_wall_s": [round(x, 3) for x in parallel],
                           "lock_wait_s": round(lock_wait / repeat, 3),
                           "lock_wait_share": round(lock_wait / worker_sum, 3) if worker_sum else None,
                           "max_backends_waiting": max_waiting,
                           "cpu_s_by_mode": {k: [round(x, 3) for x in v] for k, v in cpu.items()},
                           "lock_waits_s": {k: round(v / repeat, 3) for k, v in waits.most_common()}}),
        Measurement(key="S1", workload="the same, fee-income row locked last (what-if)", rows=rows,
                    ours=min(late), baseline=seq, baseline_label="1 worker paying 4 batches one after another",
                    aim=f"≤ {AIM_PARALLEL}×", met=min(late) <= AIM_PARALLEL * seq,
                    extra={**common, "parallel_wall_s": [round(x, 3) for x in late],
                           "lock_wait_s": round(sum(late_waits.values()) / repeat, 3),
                           "lock_waits_s": {k: round(v / repeat, 3) for k, v in late_waits.most_common()}}),
        Measurement(key="S2", workload=f"intake of {per_batch:,} rows through PgBouncer (transaction)", rows=per_batch,
                    ours=p_intake, baseline=d_intake, baseline_label="the same intake straight to PostgreSQL",
                    aim=f"≤ {AIM_POOLER}×", met=p_intake <= AIM_POOLER * d_intake,
                    extra={**common, "direct_wall_s": [round(x, 3) for x in intake["direct"]],
                           "pgbouncer_wall_s": [round(x, 3) for x in intake["pgbouncer"]],
                           "pgbouncer_xacts": pooled_xacts}),
        Measurement(key="S3", workload=f"pay day run, {COMPANIES}×{per_batch:,} rows, through PgBouncer", rows=rows,
                    ours=p_pay, baseline=d_pay, baseline_label="the same run straight to PostgreSQL",
                    aim=f"≤ {AIM_POOLER}×", met=p_pay <= AIM_POOLER * d_pay,
                    extra={**common, "direct_wall_s": [round(x, 3) for x in payday["direct"]],
                           "pgbouncer_wall_s": [round(x, 3) for x in payday["pgbouncer"]]}),
    ]
    if "S2" not in PARTS:
        measurements = [m for m in measurements if m.key != "S2"]
    if DETAIL:
        print(f"load {load_before} → {load_after}; sequential {sequential}, parallel {parallel}")
        print(f"CPU (workers + backends) by mode: {cpu}")
        print(f"lock waits per parallel round: {lock_wait / repeat:.3f} s, max {max_waiting} backends waiting")
        for what, seconds in waits.most_common():
            print(f"  {seconds / repeat:7.3f} s  {what}")
        print(f"intake direct {intake['direct']}, pgbouncer {intake['pgbouncer']}")
        print(f"pay day direct {payday['direct']}, pgbouncer {payday['pgbouncer']}")
    return measurements


def _say(line: str) -> None:
    if DETAIL:
        print(line, file=sys.stderr, flush=True)


DETAIL = False
PARTS = ("S1", "S2", "S3")  # --no-intake leaves S2 out (a quicker look at the pay-day figures)

if __name__ == "__main__":
    if "--detail" in sys.argv:
        sys.argv.remove("--detail")
        DETAIL = True
    if "--no-intake" in sys.argv:
        sys.argv.remove("--no-intake")
        PARTS = ("S1", "S3")
    part_main(measure)
