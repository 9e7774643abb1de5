"""The whole platform as separate processes, for the journey in Chromium.

A real web server (gunicorn, test settings) and a real Celery worker (tests/conftest.py's
``live_worker``), both on this run's PostgreSQL test database and Redis queue, both reading the
business clock from the shared clock file (``business_clock``). The bank is set up through its
services; the enterprise PC is the installed ``payroll-client`` console script.
"""

from __future__ import annotations

import os
import socket
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from config.queues import queue_names
from tests.conftest import worker_env
from tests.factories import COMPANY_A_NAME, KEYS_NOW, USCC_A, resident_id, unionpay_account
from tests.support.browser import chromium
from tests.support.processes import PYTHON, Process, free_port, process_start, wait_until

# Playwright's sync API runs an event loop in this thread; the ORM calls made here between
# browser steps are ordinary synchronous calls, not calls from async code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

USBKEY_PIN = "802468"
JOURNEY_CARD_PIN = "246810"


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  (our own loopback server)
            return response.status == 200
    except OSError:
        return False


def web_server_start(*, log_dir: Path, extra_env: dict[str, str] | None = None) -> Process:
    """gunicorn serving config.wsgi on a free loopback port, with the environment a worker gets
    (test database, broker queue, private files, clock file) plus ``extra_env``."""
    port = free_port()
    env = worker_env() | (extra_env or {})
    argv = [PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
            # Two: the 入库中 page polls the status endpoint while a download or a page is served.
            "--workers", "2", "--timeout", "60", "--access-logfile", "-"]
    server = process_start(name="web", argv=argv, env=env, log_dir=log_dir)
    server.extra["url"] = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if not server.alive():
            raise RuntimeError(f"web server exited early:\n{server.log()}")
        return _http_ok(f"{server.extra['url']}/healthz/")

    wait_until(up, timeout=60, what="the web server")
    return server


@pytest.fixture(scope="module")
def web_server(django_db_setup, django_db_blocker, session_dir: Path) -> Iterator[Process]:
    server = web_server_start(log_dir=session_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def worker_consuming(worker: Process, *, on: bool) -> None:
    """Stop or resume the real worker taking tasks from its queue (Celery remote control), so a
    test can see the page in 入库中 for certain before letting the worker do its part."""
    from config.celery import app

    node = f"{worker.extra['node_prefix']}@{socket.gethostname()}"
    # Every queue the worker consumes: the stages have queues of their own (config/queues.py).
    for queue in queue_names(default=worker.extra["queue"]):
        if on:
            replies = app.control.add_consumer(queue, destination=[node], reply=True, timeout=10)
        else:
            replies = app.control.cancel_consumer(queue, destination=[node], reply=True, timeout=10)
        assert replies, f"the worker {node} did not answer"


def task_run_on_worker(name: str) -> None:
    """Hand a scheduled job to the real worker, as beat would at its hour."""
    from django.conf import settings

    from config.celery import app

    app.send_task(name, queue=settings.CELERY_TASK_DEFAULT_QUEUE)


@dataclass
class Person:
    name: str
    account: str
    id_number: str
    amount: Decimal
    registered: bool  # in the employee file; the others are new hires in the payroll file only
    frozen: bool = False


# 刘洋's account is frozen: pay day fails that row (AC06) and the return list shows it.
# 何平 is a new hire: not in the employee file, listed for 确认入库 on the payroll screen.
STAFF = [
    Person("张伟", unionpay_account(7001), resident_id(701, "19850214"), Decimal("6250.00"), True),
    Person("王芳", unionpay_account(7002), resident_id(702, "19880530"), Decimal("7500.50"), True),
    Person("李娜", unionpay_account(7003), resident_id(703, "19920811"), Decimal("8000.00"), True),
    Person("刘洋", unionpay_account(7004), resident_id(704, "19791103"), Decimal("5432.10"), True, frozen=True),
    Person("何平", unionpay_account(7005), resident_id(705, "19990101"), Decimal("9100.00"), False),
]


@dataclass
class JourneyBank:
    company: object
    agreement: object
    card_number: str
    files: Path  # what the bank hands the enterprise: bank-root.pem, usbkey.p12, the agreement package
    settlement: object

    @property
    def root_pem(self) -> Path:
        return self.files / "bank-root.pem"

    @property
    def usbkey(self) -> Path:
        return self.files / "usbkey.p12"

    @property
    def agreement_package(self) -> Path:
        return self.files / f"agreement-{self.agreement.number}.pkg"


def journey_bank_set_up(*, files: Path) -> JourneyBank:
    """The bank's side before the enterprise comes: company, USB key, agreement, funded settlement
    account, employee accounts, service card, and the files handed over."""
    from apps.agreements.services import (
        agreement_create,
        agreement_package_export,
        bank_root_cert,
        company_create,
        enterprise_key_issue,
    )
    from apps.cards.services import card_issue
    from apps.ledger.models import AccountKind, AccountStatus
    from apps.ledger.services import ledger_account_open, ledger_deposit, ledger_fee_income_account
    from payroll_exchange import pki

    files.mkdir(parents=True, exist_ok=True)
    company = company_create(name=COMPANY_A_NAME, uscc=USCC_A)
    certificate, p12 = enterprise_key_issue(company=company, pin=USBKEY_PIN, now=KEYS_NOW,
                                            common_name="DF2026120001")
    (files / "usbkey.p12").write_bytes(p12)
    settlement = ledger_account_open(number="310066001800001", holder_name=company.name,
                                     kind=AccountKind.SETTLEMENT, company=company)
    agreement = agreement_create(
        company=company, number="DF2026120001", payer_unit_no="U310001", start_date=date(2026, 1, 1),
        end_date=date(2027, 12, 31), fee_per_payment=Decimal("0.50"), single_limit=Decimal("50000.00"),
        settlement_account="310066001800001", certificate=certificate,
    )
    (files / f"agreement-{agreement.number}.pkg").write_bytes(agreement_package_export(agreement=agreement))
    (files / "bank-root.pem").write_bytes(pki.cert_pem(bank_root_cert()))

    ledger_fee_income_account()
    ledger_deposit(account=settlement, amount=Decimal("1000000.00"), memo="开户存入")
    for person in STAFF:
        ledger_account_open(number=person.account, holder_name=person.name, kind=AccountKind.EMPLOYEE,
                            status=AccountStatus.FROZEN if person.frozen else AccountStatus.NORMAL)
    card_number = unionpay_account(990001)
    card_issue(company=company, number=card_number, pin=JOURNEY_CARD_PIN)
    return JourneyBank(company=company, agreement=agreement, card_number=card_number, files=files,
                       settlement=settlement)
