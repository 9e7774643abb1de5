"""Platform test data: the bank's keys, companies, agreements, cards and signed files.

Registered as a pytest plugin by tests/conftest.py. Keys are made once per test session; the
database rows that point at them are made per test. Personas: ``our_agent`` (company A's card),
``other_agent`` (company B's card), ``bank_staff`` (a Django staff user).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from payroll_exchange import pki
from payroll_exchange.account_opening import luhn_complete
from payroll_exchange.checks import resident_id_check_char
from payroll_exchange.envelope import envelope_seal
from payroll_exchange.formats import employee_dump, payroll_dump
from payroll_exchange.records import (
    EmployeeFile,
    EmployeeHeader,
    EmployeeRow,
    PayrollFile,
    PayrollHeader,
    PayrollRow,
)
from tests.conftest import DEFAULT_BUSINESS_NOW

KEYS_NOW = DEFAULT_BUSINESS_NOW - timedelta(days=30)
CARD_PIN = "246810"
COMPANY_A_NAME = "上海示例科技有限公司"
COMPANY_B_NAME = "北京样例贸易有限公司"
# Valid unified social credit codes (check character computed per GB 32100-2015).
USCC_A = "91310000MA1FL8TQ36"
USCC_B = "91110108MA01KPGN31"


def unionpay_account(n: int) -> str:
    """A 19-digit UnionPay card number (62…) with a valid Luhn digit."""
    return luhn_complete(f"622202{n:012d}")


def resident_id(n: int, birth: str = "19900307") -> str:
    first17 = f"310104{birth}{n % 1000:03d}"
    return first17 + resident_id_check_char(first17)


@dataclass
class Party:
    company: object
    agreement: object
    identity: pki.Identity
    card: object
    card_number: str


@pytest.fixture(scope="session")
def platform_keys(django_db_blocker):
    """The bank's root and identity on disk (the test run's private directory), made once."""
    from apps.agreements.services import bank_identity, bank_keys_files_create, bank_root

    bank_keys_files_create(now=KEYS_NOW)
    return {"root": bank_root(), "bank": bank_identity()}


@pytest.fixture(scope="session")
def enterprise_identities(platform_keys) -> dict[str, pki.Identity]:
    root = platform_keys["root"]
    return {
        key: pki.cert_issue(issuer=root, common_name=common, organization=org, role="enterprise", now=KEYS_NOW)
        for key, common, org in (
            ("a", "DF0001", COMPANY_A_NAME),
            ("a2", "DF0003", COMPANY_A_NAME),
            ("b", "DF0002", COMPANY_B_NAME),
        )
    }


def certificate_record(*, identity: pki.Identity, company):
    from apps.agreements.models import Certificate

    cert = identity.cert
    return Certificate.objects.create(
        role=Certificate.Role.ENTERPRISE, company=company, serial=format(cert.serial_number, "x"),
        fingerprint=pki.cert_fingerprint(cert), subject=cert.subject.rfc4514_string(),
        pem=pki.cert_pem(cert).decode(), not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
    )


def settlement_account_open(*, number: str, company):
    from apps.ledger.models import AccountKind
    from apps.ledger.services import ledger_account_open

    return ledger_account_open(number=number, holder_name=company.name, kind=AccountKind.SETTLEMENT, company=company)


def party_create(*, name: str, uscc: str, number: str, payer_unit_no: str, identity: pki.Identity,
                 card_number: str, settlement_account: str) -> Party:
    from apps.agreements.services import agreement_create, company_create
    from apps.cards.services import card_issue

    company = company_create(name=name, uscc=uscc)
    certificate = certificate_record(identity=identity, company=company)
    # The agreement's settlement account must be open in the ledger first (agreement_create checks).
    settlement_account_open(number=settlement_account, company=company)
    agreement = agreement_create(
        company=company, number=number, payer_unit_no=payer_unit_no, start_date=date(2026, 1, 1),
        end_date=date(2027, 12, 31), fee_per_payment=Decimal("0.50"), single_limit=Decimal("50000.00"),
        settlement_account=settlement_account, certificate=certificate,
    )
    card = card_issue(company=company, number=card_number, pin=CARD_PIN)
    return Party(company=company, agreement=agreement, identity=identity, card=card, card_number=card_number)


@pytest.fixture
def our_agent(db, platform_keys, enterprise_identities) -> Party:
    return party_create(name=COMPANY_A_NAME, uscc=USCC_A, number="DF0001", payer_unit_no="U31001",
                        identity=enterprise_identities["a"], card_number=unionpay_account(900001),
                        settlement_account="310066001800001")


@pytest.fixture
def other_agent(db, platform_keys, enterprise_identities) -> Party:
    return party_create(name=COMPANY_B_NAME, uscc=USCC_B, number="DF0002", payer_unit_no="U11002",
                        identity=enterprise_identities["b"], card_number=unionpay_account(900002),
                        settlement_account="110066001800002")


@pytest.fixture
def bank_staff(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("clerk01", password="clerk-password-1", is_staff=True)


def payroll_rows(count: int, *, start: int = 1, amount: Decimal = Decimal("8000.00")) -> list[PayrollRow]:
    return [
        PayrollRow(seq=i, account=unionpay_account(start + i), name=f"员工{start + i:05d}", amount=amount,
                   id_type="0", id_number=resident_id(start + i), remark="11月工资")
        for i in range(1, count + 1)
    ]


# The 核对码 every payroll file made by the factory carries, as the current client's files do: a kiosk
# confirmation types it (payroll_batch_confirm(..., checklist=CHECK_CODE)); check_code="" makes the file
# of an older client, which the kiosk does not confirm.
CHECK_CODE = "A3C4E6F7G9"


def payroll_file_bytes(*, party: Party, rows: list[PayrollRow], batch_no: str = "B20261201",
                       pay_date: date = date(2026, 12, 5), signer: pki.Identity | None = None,
                       bank: pki.Identity, total: Decimal | None = None, record_count: int | None = None,
                       check_code: str = CHECK_CODE) -> bytes:
    header = PayrollHeader(
        format_version="1", agreement_no=party.agreement.number, payer_unit_no=party.agreement.payer_unit_no,
        batch_no=batch_no, pay_date=pay_date, currency="CNY",
        record_count=len(rows) if record_count is None else record_count,
        total_amount=sum((r.amount for r in rows), Decimal("0")) if total is None else total, purpose="工资",
        check_code=check_code,
    )
    payload = payroll_dump(PayrollFile(header=header, rows=rows))
    return envelope_seal(payload=payload, kind="payroll", signer=signer or party.identity, recipient_cert=bank.cert)


def employee_file_bytes(*, party: Party, rows: list[EmployeeRow], operation: str = "add",
                        bank: pki.Identity) -> bytes:
    header = EmployeeHeader(format_version="1", agreement_no=party.agreement.number,
                            payer_unit_no=party.agreement.payer_unit_no, operation=operation, record_count=len(rows))
    payload = employee_dump(EmployeeFile(header=header, rows=rows))
    return envelope_seal(payload=payload, kind="employees", signer=party.identity, recipient_cert=bank.cert)


def employee_rows(count: int, *, start: int = 1) -> list[EmployeeRow]:
    return [
        EmployeeRow(seq=i, id_type="0", id_number=resident_id(start + i), name=f"员工{start + i:05d}",
                    account=unionpay_account(start + i))
        for i in range(1, count + 1)
    ]


def upload(data: bytes, name: str = "payroll.p7m") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=DEFAULT_BUSINESS_NOW.tzinfo)


@pytest.fixture
def private_files(settings, tmp_path):
    """Private files (uploads, return files) of one test in a directory of its own."""
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    return settings.PRIVATE_FILES_DIR


@pytest.fixture
def bank_signer(monkeypatch, bank_identity):
    """The production path asks apps.agreements.services.bank_identity(), which reads the bank's
    key files; these tests hand it the session identity (tests/fixtures/pki.py) instead."""
    from apps.agreements import services as agreement_services

    monkeypatch.setattr(agreement_services, "bank_identity", lambda: bank_identity)
    return bank_identity
