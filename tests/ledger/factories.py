"""Test data for the bank side: companies bound to the session PKI, ledger accounts, stored batches.

Plain functions rather than factory classes: each takes exactly what a test varies and writes in
bulk, so a test that wants 1,000 rows pays two INSERTs, not 2,000.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from apps.agreements.models import Agreement, Certificate, Company
from apps.cards.models import ServiceCard
from apps.ledger.models import AccountKind, AccountStatus, LedgerAccount
from apps.ledger.services import ledger_account_open, ledger_deposit, ledger_fee_income_account
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from payroll_exchange import pki
from payroll_exchange.clock import BUSINESS_TZ

_serial = itertools.count(1)


def company_make(*, name: str = "上海示例科技有限公司") -> Company:
    n = next(_serial)
    return Company.objects.create(name=name, uscc=f"91310000MA{n:08d}")


def certificate_make(*, company: Company, identity: pki.Identity) -> Certificate:
    cert = identity.cert
    return Certificate.objects.create(
        role=Certificate.Role.ENTERPRISE, company=company, serial=format(cert.serial_number, "x"),
        fingerprint=pki.cert_fingerprint(cert), subject=cert.subject.rfc4514_string()[:300],
        pem=pki.cert_pem(cert).decode("ascii"), not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def agreement_make(
    *,
    company: Company,
    identity: pki.Identity,
    number: str = "DF2026000001",
    fee_per_payment: Decimal = Decimal("2.50"),
    settlement_account: str | None = None,
) -> Agreement:
    return Agreement.objects.create(
        company=company, number=number, payer_unit_no=f"PU{number[-6:]}", start_date=date(2026, 1, 1),
        end_date=date(2027, 12, 31), fee_per_payment=fee_per_payment, single_limit=Decimal("50000.00"),
        settlement_account=settlement_account or f"3100{number[-8:]}",
        certificate=certificate_make(company=company, identity=identity),
    )


def settlement_account_make(*, agreement: Agreement, balance: Decimal = Decimal("0.00"),
                            status: str = AccountStatus.NORMAL) -> LedgerAccount:
    """The company's settlement account, funded through the journal (so balances reconcile)."""
    account = ledger_account_open(number=agreement.settlement_account, holder_name=agreement.company.name,
                                  kind=AccountKind.SETTLEMENT, company=agreement.company, status=status)
    if balance:
        ledger_deposit(account=account, amount=balance, memo="期初存入")
        account.refresh_from_db()
    return account


def employee_accounts_make(specs: list[tuple[str, str, str]]) -> list[LedgerAccount]:
    """(number, holder name, status) → employee accounts at zero balance, in one INSERT."""
    return LedgerAccount.objects.bulk_create(
        [LedgerAccount(number=number, holder_name=name, kind=AccountKind.EMPLOYEE, status=status)
         for number, name, status in specs]
    )


def batch_make(
    *,
    agreement: Agreement,
    rows: list[tuple[str, str, Decimal]],
    pay_date: date,
    batch_no: str | None = None,
    status: str = BatchStatus.STORED,
) -> PayrollBatch:
    """A batch as the storing task leaves it: header totals from ``rows`` (account, name, amount)."""
    n = next(_serial)
    total = sum((amount for _a, _n, amount in rows), Decimal("0.00"))
    card = ServiceCard.objects.create(company=agreement.company, number_hash=f"card-{n:06d}", last4="0001",
                                      pin_hash="!")
    uploaded = datetime(2026, 11, 25, 10, 0, tzinfo=BUSINESS_TZ)
    batch = PayrollBatch.objects.create(
        company=agreement.company, agreement=agreement, card=card, status=status, uploaded_at=uploaded,
        upload_date=uploaded.date(), original_name=f"payroll-{n}.p7m", stored_name=f"stored-{n:06d}", size=1,
        file_id=f"F{n:06d}", digest=f"{n:064d}", batch_no=batch_no or f"B{n:05d}", pay_date=pay_date,
        purpose="工资", record_count=len(rows), total_amount=total,
        expected_fee=(agreement.fee_per_payment * len(rows)).quantize(Decimal("0.01")),
        rows_total=len(rows), rows_done=len(rows),
    )
    PayrollRow.objects.bulk_create(
        [PayrollRow(batch=batch, seq=seq, account=account, name=name, amount=amount, id_type="1",
                    id_number=f"P{seq:08d}") for seq, (account, name, amount) in enumerate(rows, start=1)],
        batch_size=5000,
    )
    return batch


@dataclass(frozen=True)
class FundedBatch:
    agreement: Agreement
    settlement: LedgerAccount
    accounts: list[tuple[str, str, str]]
    batch: PayrollBatch


def funded_batch_make(
    *,
    identity: pki.Identity,
    rows: list[tuple[str, str, Decimal]],
    balance: Decimal,
    pay_date: date,
    accounts: list[tuple[str, str, str]] | None = None,
    number: str = "DF2026000001",
    fee_per_payment: Decimal = Decimal("1.00"),
    batch_no: str | None = None,
) -> FundedBatch:
    """The whole world of one pay day: a company whose agreement is bound to ``identity``, the
    bank's fee income account, a settlement account funded with ``balance``, the employee
    ``accounts`` (number, holder name, status; by default every row's account, open) and a stored
    batch of ``rows`` due on ``pay_date``. The pay-day, return-file and fault tests all start here."""
    agreement = agreement_make(company=company_make(), identity=identity, number=number,
                               fee_per_payment=fee_per_payment)
    ledger_fee_income_account()
    settlement = settlement_account_make(agreement=agreement, balance=balance)
    if accounts is None:
        accounts = [(account, name, AccountStatus.NORMAL) for account, name, _amount in rows]
    employee_accounts_make(accounts)
    batch = batch_make(agreement=agreement, rows=rows, pay_date=pay_date, batch_no=batch_no)
    return FundedBatch(agreement=agreement, settlement=settlement, accounts=accounts, batch=batch)
