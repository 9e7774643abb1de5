"""资金不足预警 (apps/ledger/funding.py) and manage.py funding_report: per pay date and settlement
account, cumulative over earlier pay dates, stored and held batches only, cleared by a deposit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from apps.ledger.funding import batch_funding, funding_shortfalls
from apps.ledger.services import ledger_deposit
from apps.payroll.models import BatchStatus
from tests.ledger.factories import agreement_make, batch_make, company_make, settlement_account_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def agreement(enterprise_identities):
    return agreement_make(company=company_make(), identity=enterprise_identities["a"], number="DF2026000001",
                          fee_per_payment=Decimal("2.50"))


def rows(*amounts: str) -> list[tuple[str, str, Decimal]]:
    return [(f"62220200{i:011d}", f"员工{i}", Decimal(a)) for i, a in enumerate(amounts, start=1)]


def report(*args: str) -> list[str]:
    out = StringIO()
    call_command("funding_report", *args, stdout=out)
    return out.getvalue().splitlines()


def test_shortfalls_accumulate_over_pay_dates_and_a_deposit_clears_them(agreement):
    account = settlement_account_make(agreement=agreement, balance=Decimal("20000.00"))
    batch_make(agreement=agreement, rows=rows("8000.00", "7000.00"), pay_date=date(2026, 12, 5))   # 15,005.00
    batch_make(agreement=agreement, rows=rows("6000.00"), pay_date=date(2026, 12, 10),
               status=BatchStatus.HELD)                                                          # 6,002.50
    # Not counted: awaiting confirmation, paid, failed, rejected.
    for status in (BatchStatus.AWAITING_CONFIRMATION, BatchStatus.PAID, BatchStatus.FAILED, BatchStatus.REJECTED):
        batch_make(agreement=agreement, rows=rows("90000.00"), pay_date=date(2026, 12, 5), status=status)

    shortfalls = funding_shortfalls()
    assert [(f.pay_date, f.settlement_account, f.batch_count, f.required, f.balance, f.shortfall)
            for f in shortfalls] == [
        (date(2026, 12, 10), account.number, 2, Decimal("21007.50"), Decimal("20000.00"), Decimal("1007.50"))]
    assert funding_shortfalls(pay_date=date(2026, 12, 5)) == []
    assert [f.pay_date for f in funding_shortfalls(pay_date=date(2026, 12, 10))] == [date(2026, 12, 10)]

    lines = report("--date", "2026-12-10")
    assert lines[0] == "资金不足预警 funding report (2026-12-10): 1 shortfall(s)"
    assert lines[1] == (f"2026-12-10  {account.number}  上海示例科技有限公司  批次 batches 2  需 required 21,007.50  "
                        "余额 balance 20,000.00  缺口 shortfall 1,007.50")

    ledger_deposit(account=account, amount=Decimal("1007.50"), memo="补足")
    assert funding_shortfalls() == []
    assert report()[-1] == "无资金不足 no shortfall"


def test_batch_funding_counts_this_batch_once(agreement):
    settlement_account_make(agreement=agreement, balance=Decimal("10000.00"))
    stored = batch_make(agreement=agreement, rows=rows("4000.00"), pay_date=date(2026, 12, 5))
    later = batch_make(agreement=agreement, rows=rows("9000.00"), pay_date=date(2026, 12, 20))
    pending = batch_make(agreement=agreement, rows=rows("5000.00", "1000.00"), pay_date=date(2026, 12, 7),
                         status=BatchStatus.AWAITING_CONFIRMATION)
    funding = batch_funding(batch=pending)
    # 4,002.50 stored up to 7 December + 6,005.00 this one; the 20 December batch does not count yet.
    assert (funding.required, funding.batch_count, funding.covered, funding.shortfall) == (
        Decimal("10007.50"), 2, False, Decimal("7.50"))
    assert batch_funding(batch=stored).required == Decimal("4002.50")  # a stored batch: itself, once
    assert batch_funding(batch=later).required == Decimal("13005.00")


def test_admin_list_needs_the_ledger_view_permission(agreement, client, django_user_model):
    settlement_account_make(agreement=agreement, balance=Decimal("100.00"))
    batch_make(agreement=agreement, rows=rows("8000.00"), pay_date=date(2026, 12, 5))
    clerk = django_user_model.objects.create_user("clerk10", password="clerk-password-10", is_staff=True)
    client.force_login(clerk)
    assert client.get("/admin/ledger/ledgeraccount/funding/").status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="view_ledgeraccount"))
    page = client.get("/admin/ledger/ledgeraccount/funding/?pay_date=2026-12-05").content.decode()
    assert 'id="funding-shortfalls"' in page
    assert "7,902.50" in page  # 8,002.50 needed, 100.00 held
