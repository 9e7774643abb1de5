"""Does the kiosk login's answer time tell an unknown card number from a real one? (issue 12)

Run: .venv/bin/python benchmarks/bench_login.py [rounds]

Not a test: timings vary by machine. A scratch PostgreSQL database (dropped at the end) is migrated
with the test settings and the production hasher (PBKDF2, PRODUCTION_PIN_HASHER=1). In the same run,
``card_authenticate`` is timed, interleaved round by round:
- a wrong PIN on a real card (first try: one PBKDF2 run), against a first wrong try on a number the
  bank never issued (the same hasher work against a dummy hash);
- a locked real card, against a locked unknown number (no hashing either way).
It prints the medians and the ratio unknown / real for each pair; the aim is a ratio near 1.0
(the hasher's ~100+ ms dwarfs the one extra query an unknown number makes).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SCRATCH_DB = f"payroll_bench_login_{os.getpid()}"


def scratch_db(sql: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def django_setup() -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{SCRATCH_DB}"
    os.environ["PRIVATE_FILES_DIR"] = tempfile.mkdtemp(prefix="bench-login-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["PRODUCTION_PIN_HASHER"] = "1"
    os.environ.pop("BUSINESS_CLOCK", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(call) -> float:
    start = time.perf_counter()
    try:
        call()
    except Exception as exc:  # noqa: BLE001  (CardLoginError is the expected outcome)
        if type(exc).__name__ not in ("CardLoginError", "CardLockedError"):
            raise
    return time.perf_counter() - start


def main(rounds: int) -> None:
    from django.conf import settings

    from apps.cards.models import ServiceCard
    from apps.cards.services import card_authenticate, card_issue
    from tests.factories import unionpay_account
    from tests.ledger.factories import company_make

    if not settings.PASSWORD_HASHERS[0].endswith("PBKDF2PasswordHasher"):
        raise SystemExit(f"not the production hasher: {settings.PASSWORD_HASHERS}")
    company = company_make()
    real_number = unionpay_account(500001)
    card = card_issue(company=company, number=real_number, pin="246810")
    locked_real = unionpay_account(500002)
    card_issue(company=company, number=locked_real, pin="246810")
    locked_unknown = unionpay_account(600002)
    for number in (locked_real, locked_unknown):
        for _ in range(3):
            timed(lambda n=number: card_authenticate(number=n, pin="000000"))

    wrong_real, wrong_unknown, lock_real, lock_unknown = [], [], [], []
    timed(lambda: card_authenticate(number=unionpay_account(699999), pin="000000"))  # warm-up: the dummy hash
    for n in range(rounds):
        ServiceCard.objects.filter(pk=card.pk).update(failed_attempts=0)
        wrong_real.append(timed(lambda: card_authenticate(number=real_number, pin="000000")))
        wrong_unknown.append(timed(lambda n=n: card_authenticate(number=unionpay_account(700000 + n), pin="000000")))
        lock_real.append(timed(lambda: card_authenticate(number=locked_real, pin="246810")))
        lock_unknown.append(timed(lambda: card_authenticate(number=locked_unknown, pin="246810")))

    def line(name: str, real: list[float], unknown: list[float]) -> None:
        r, u = statistics.median(real), statistics.median(unknown)
        print(f"{name:<28} real {r * 1000:8.1f} ms   unknown {u * 1000:8.1f} ms   ratio unknown/real {u / r:5.2f}")

    print(f"{rounds} rounds, hasher {settings.PASSWORD_HASHERS[0].rsplit('.', 1)[-1]}")
    line("first wrong PIN", wrong_real, wrong_unknown)
    line("locked", lock_real, lock_unknown)


if __name__ == "__main__":
    scratch_db(f'CREATE DATABASE "{SCRATCH_DB}"')
    try:
        django_setup()
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
    finally:
        from django.db import connections

        connections.close_all()
        scratch_db(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
