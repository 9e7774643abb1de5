"""Pay day's classification and planner settings.

The planner settings (work_mem, no nested loops) hold for the posting's transaction only:
SET LOCAL, so the next transaction on the connection (behind PgBouncer in transaction mode: another
client's) runs with the server's settings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from apps.ledger.models import AccountStatus, JournalEntry, LedgerAccount
from apps.ledger.payday import payday_batch_post
from apps.ledger.services import ledger_fee_income_account
from apps.payroll.models import BatchStatus, PayrollRow
from tests.ledger.factories import (
    agreement_make,
    batch_make,
    company_make,
    employee_accounts_make,
    settlement_account_make,
)

pytestmark = pytest.mark.django_db(transaction=True)
PAY_DATE = date(2026, 12, 1)


def _settings() -> tuple[str, ...]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('work_mem'), current_setting('enable_nestloop'),"
                       " current_setting('jit'), current_setting('enable_hashagg')")
        return cursor.fetchone()


def test_the_posting_settings_end_with_its_transaction(business_clock, enterprise_a) -> None:
    agreement = agreement_make(company=company_make(), identity=enterprise_a, fee_per_payment=Decimal("1.00"))
    employee_accounts_make([("6222000000000001", "张三", AccountStatus.NORMAL)])
    ledger_fee_income_account()
    settlement_account_make(agreement=agreement, balance=Decimal("10000.00"))
    batch = batch_make(agreement=agreement, rows=[("6222000000000001", "张三", Decimal("5000.00"))],
                       pay_date=PAY_DATE)
    before = _settings()

    assert payday_batch_post(batch_id=batch.pk, today=PAY_DATE) == "paid"

    assert _settings() == before
    assert before[1] == before[3] == "on"


def test_a_row_that_already_carries_a_result_rolls_the_batch_back(business_clock, enterprise_a) -> None:
    """Every row is classified exactly once; a row pay day could not classify (here one marked
    paid before pay day, to an account that does not exist) stops the batch, and nothing moves."""
    agreement = agreement_make(company=company_make(), identity=enterprise_a, fee_per_payment=Decimal("1.00"))
    employee_accounts_make([("6222000000000001", "张三", AccountStatus.NORMAL)])
    ledger_fee_income_account()
    settlement = settlement_account_make(agreement=agreement, balance=Decimal("10000.00"))
    batch = batch_make(agreement=agreement, pay_date=PAY_DATE,
                       rows=[("6222000000000001", "张三", Decimal("5000.00")),
                             ("6222000000009999", "周八", Decimal("3000.00"))])
    PayrollRow.objects.filter(batch=batch, seq=2).update(result_code="0000")
    balances = dict(LedgerAccount.objects.values_list("number", "balance"))

    with pytest.raises(RuntimeError, match="1 rows classified of 2"):
        payday_batch_post(batch_id=batch.pk, today=PAY_DATE)

    batch.refresh_from_db()
    assert batch.status == BatchStatus.STORED
    assert not JournalEntry.objects.filter(batch=batch).exists()
    assert dict(LedgerAccount.objects.values_list("number", "balance")) == balances
    assert list(batch.rows.order_by("seq").values_list("result_code", flat=True)) == ["", "0000"]
    assert settlement.number in balances
