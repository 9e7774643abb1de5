"""PgBouncer in transaction mode (Debian's package, on a loopback port of its own) in front of the
test database: why the pay-day run's session advisory lock cannot go through it, the settings flag
that sends it around the pooler (DATABASE_POOLER), and a real worker that pre-validates, stores
(COPY) and pays a file with every ORM statement through PgBouncer."""

from __future__ import annotations

import subprocess
from datetime import datetime
from decimal import Decimal

import psycopg
import pytest
from django.db import connection

from apps.intake.actors import certificate_actor
from apps.ledger.models import AccountKind, JournalEntry, LedgerAccount, PaydayRun
from apps.ledger.services import ledger_deposit
from apps.ledger.tasks import payday_run_task
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_submit
from payroll_exchange.clock import BUSINESS_TZ
from tests.conftest import DEFAULT_BUSINESS_NOW, worker_env
from tests.factories import payroll_file_bytes, payroll_rows, upload
from tests.faults.harness import batch_paid_once, batch_status, blocker_connect, reconcile_clean, wait_for_backend
from tests.ledger.factories import employee_accounts_make, funded_batch_make
from tests.support.pgbouncer import PgBouncer
from tests.support.processes import PROJECT_DIR, PYTHON, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAYDAY_LOCK_CLASS = 70_1001  # apps/ledger/payday_recovery.py


def _pooler(*, pool_size: int):
    bouncer = PgBouncer(pool_size=pool_size)
    bouncer.start()
    try:
        yield bouncer
    finally:
        bouncer.stop()


@pytest.fixture(scope="module")
def pgbouncer():
    # One server connection per database: every client of the pooler shares the same server
    # session in turn, so what leaks between clients leaks every time, not by chance.
    yield from _pooler(pool_size=1)


def test_a_session_lock_taken_through_the_pooler_belongs_to_the_next_client(pgbouncer):
    """Why the pay-day lock goes around the pooler: after its commit, one client's session lock is
    held by the server session the next client gets; that client takes it again (re-entrant), as
    the recovery sweep would before calling a live run abandoned."""
    dbname = connection.settings_dict["NAME"]
    run_id = 2**31 - 1  # no PaydayRun of the suite has this id
    worker = psycopg.connect(pgbouncer.url(dbname))
    sweep = psycopg.connect(pgbouncer.url(dbname))
    try:
        worker.execute("SELECT pg_advisory_lock(%s, %s)", [PAYDAY_LOCK_CLASS, run_id])
        worker.commit()
        assert sweep.execute("SELECT pg_try_advisory_lock(%s, %s)", [PAYDAY_LOCK_CLASS, run_id]).fetchone() == (True,)
        sweep.commit()
    finally:
        # The lock outlives both clients on the pooled server session: let go of it there.
        sweep.execute("SELECT pg_advisory_unlock_all()")
        sweep.commit()
        worker.close()
        sweep.close()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s",
                       [PAYDAY_LOCK_CLASS])
        assert cursor.fetchone()[0] == 0


def _settings_of(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.SESSION_LOCK_DATABASE, s.DATABASES['default'].get('DISABLE_SERVER_SIDE_CURSORS', False), "
            "s.DATABASES.get('direct', {}).get('PORT'))")
    return subprocess.run([PYTHON, "-c", code], cwd=PROJECT_DIR, env=worker_env() | env, capture_output=True,
                          text=True, check=False)


def test_the_pooler_flag_sends_session_locks_to_the_direct_connection():
    pooled = _settings_of({"DATABASE_POOLER": "pgbouncer", "DATABASE_URL": "postgres://postgres@127.0.0.1:6432/x",
                           "DATABASE_DIRECT_URL": "postgres://postgres@127.0.0.1:5432/x"})
    assert pooled.returncode == 0, pooled.stderr
    assert pooled.stdout.split() == ["direct", "True", "5432"]

    plain = _settings_of({})
    assert plain.stdout.split() == ["default", "False", "None"]

    for broken, message in (({"DATABASE_POOLER": "pgbouncer"}, "DATABASE_DIRECT_URL"),
                            ({"DATABASE_POOLER": "pgpool"}, "DATABASE_POOLER must be empty or pgbouncer")):
        refused = _settings_of(broken)
        assert refused.returncode != 0
        assert message in refused.stderr


def test_a_worker_behind_pgbouncer_prevalidates_stores_and_pays(
    pgbouncer, workers, fault_env, business_clock, our_agent, platform_keys
):
    db = connection.settings_dict
    direct = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    worker = workers.start(env=fault_env | {"DATABASE_URL": pgbouncer.url(db["NAME"]), "DATABASE_POOLER": "pgbouncer",
                                            "DATABASE_DIRECT_URL": direct})
    rows = payroll_rows(6)
    employee_accounts_make([(r.account, r.name, "normal") for r in rows])
    settlement = LedgerAccount.objects.get(number=our_agent.agreement.settlement_account, kind=AccountKind.SETTLEMENT)
    ledger_deposit(account=settlement, amount=Decimal("1000000.00"))
    before = pgbouncer.stats(db["NAME"]).get("total_xact_count", 0)

    data = payroll_file_bytes(party=our_agent, rows=rows, bank=platform_keys["bank"])
    batch = payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
    wait_until(lambda: batch_status(batch.pk) != BatchStatus.VALIDATING, timeout=60, what="pre-validation")
    assert batch_status(batch.pk) == BatchStatus.AWAITING_CONFIRMATION
    batch.refresh_from_db()
    payroll_batch_confirm(batch=batch, actor=certificate_actor(our_agent.agreement.certificate))
    wait_until(lambda: batch_status(batch.pk) == BatchStatus.STORED, timeout=60, what="storing (COPY)")
    assert PayrollRow.objects.filter(batch_id=batch.pk).count() == 6

    business_clock.set(datetime(2026, 12, 5, 10, 0, tzinfo=BUSINESS_TZ))  # the file's pay date
    payday_run_task.delay()
    wait_until(lambda: batch_status(batch.pk) == BatchStatus.PAID, timeout=60, what="pay day")
    wait_until(lambda: not PaydayRun.objects.filter(finished_at__isnull=True).exists(), timeout=30,
               what="the run to be recorded as finished")
    paid = PayrollBatch.objects.get(pk=batch.pk)
    assert (paid.success_count, paid.success_amount) == (6, sum(r.amount for r in rows))
    batch_paid_once(batch_id=batch.pk, paid_rows=6)
    assert JournalEntry.objects.filter(batch_id=batch.pk, kind="payroll", side="C").count() == 6
    # Every run (the start-up recovery's and this one) ended as done: no live run called abandoned,
    # and no advisory lock left behind on any server session.
    assert set(PaydayRun.objects.values_list("outcome", flat=True)) == {PaydayRun.Outcome.DONE}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s",
                       [PAYDAY_LOCK_CLASS])
        assert cursor.fetchone()[0] == 0
    # The work went through the pooler: its transactions were counted there (stats_period = 1 s).
    wait_until(lambda: pgbouncer.stats(db["NAME"]).get("total_xact_count", 0) > before + 10, timeout=10,
               what="PgBouncer to count the worker's transactions")
    assert worker.alive()
    reconcile_clean()


@pytest.fixture(scope="module")
def pgbouncer_two():
    """Two server connections: a worker blocked inside its posting holds one, a sweep gets the other."""
    yield from _pooler(pool_size=2)


def _pooled_env(bouncer: PgBouncer) -> dict[str, str]:
    db = connection.settings_dict
    return {"DATABASE_URL": bouncer.url(db["NAME"]), "DATABASE_POOLER": "pgbouncer",
            "DATABASE_DIRECT_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}


def test_a_live_run_behind_the_pooler_is_not_called_abandoned_by_a_sweep(
    pgbouncer_two, workers, fault_env, business_clock, enterprise_a
):
    """While a worker behind PgBouncer is inside its pay-day run (its posting waits on a batch row
    the test holds), the recovery sweep from another pooled process finds the run's lock held and
    leaves the run alone; then the run pays the batch once and ends as done. (Without the direct
    lock connection this passes too unless the sweep is handed the very server session the run
    took its lock on, which PgBouncer's reuse of the last server makes rare: the leak itself is
    shown deterministically, with a pool of one, by the first test of this module.)"""
    batch = funded_batch_make(identity=enterprise_a, rows=[(f"6222777{n:09d}", f"员工{n}", Decimal("100.00"))
                                                           for n in range(1, 21)],
                              balance=Decimal("1000000.00"), pay_date=DEFAULT_BUSINESS_NOW.date(),
                              number="DF2026000777").batch
    workers.start(env=fault_env | _pooled_env(pgbouncer_two))
    blocker = blocker_connect()
    try:
        blocker.execute("SELECT id FROM payroll_payrollbatch WHERE id = %s FOR UPDATE", [batch.pk])
        payday_run_task.delay()
        wait_for_backend(blocked_by=blocker, query_like='SELECT "payroll_payrollbatch".%',
                         what="the pay-day run to wait on the batch row")
        run = PaydayRun.objects.get(finished_at__isnull=True)
        sweep = subprocess.run(
            [PYTHON, "-c", "import django; django.setup(); from apps.ledger.payday_recovery import payday_recover;"
                           " print(payday_recover())"],
            cwd=PROJECT_DIR, env=fault_env | _pooled_env(pgbouncer_two), capture_output=True, text=True,
            check=False, timeout=60)
        assert sweep.returncode == 0, sweep.stderr
        assert sweep.stdout.split()[-1] == "[]"  # nothing abandoned
        run.refresh_from_db()
        assert (run.finished_at, run.outcome) == (None, PaydayRun.Outcome.RUNNING)
    finally:
        blocker.rollback()
        blocker.close()
    wait_until(lambda: batch_status(batch.pk) == BatchStatus.PAID, timeout=60, what="the run to pay the batch")
    wait_until(lambda: not PaydayRun.objects.filter(finished_at__isnull=True).exists(), timeout=30,
               what="the run to end")
    assert list(PaydayRun.objects.values_list("outcome", flat=True)) == [PaydayRun.Outcome.DONE]
    batch_paid_once(batch_id=batch.pk, paid_rows=20)
