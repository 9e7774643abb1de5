"""The pain.002 after pay day through the API carries every reason the return file can give: a
frozen account (AC06) and a name that is not the holder's (BE01) beside a paid row (ACSC), group
PART, valid against pain.002.001.12.xsd. (AC01, AC04, AM04: tests/returns/test_pain002.py.)"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.ledger.models import AccountStatus, LedgerAccount
from apps.ledger.payday import payday_run
from apps.ledger.services import ledger_deposit, ledger_fee_income_account
from apps.returns.models import Pain001Source
from tests.ledger.factories import batch_make, employee_accounts_make
from tests.returns.test_pain002 import group, parsed, statuses

pytestmark = pytest.mark.django_db

PAY_DATE = date(2026, 12, 1)


def test_frozen_and_name_mismatch_rows_are_rjct_ac06_and_be01(api_a, api_b, our_agent):
    employee_accounts_make([("6222000000000011", "张三", AccountStatus.NORMAL),
                            ("6222000000000012", "李四", AccountStatus.FROZEN),
                            ("6222000000000013", "王五", AccountStatus.NORMAL)])
    ledger_fee_income_account()
    settlement = LedgerAccount.objects.get(number=our_agent.agreement.settlement_account)
    ledger_deposit(account=settlement, amount=Decimal("10000.00"), memo="期初存入")
    batch = batch_make(agreement=our_agent.agreement, pay_date=PAY_DATE, batch_no="202612R", rows=[
        ("6222000000000011", "张三", Decimal("1000.00")),
        ("6222000000000012", "李四", Decimal("1000.00")),  # frozen
        ("6222000000000013", "王六", Decimal("1000.00")),  # the account is 王五's
    ])
    Pain001Source.objects.create(batch=batch, msg_id="M-202612R", end_to_end_ids=["R-1", "R-2", "R-3"])
    assert payday_run(today=PAY_DATE).paid == [batch.pk]

    response = api_a.get(f"/batches/{batch.pk}/pain002/")
    assert response.status_code == 200
    root = parsed(response.content)
    assert group(root) == "PART"
    assert statuses(root) == [("R-1", "ACSC", ""), ("R-2", "RJCT", "AC06"), ("R-3", "RJCT", "BE01")]
    assert api_b.get(f"/batches/{batch.pk}/pain002/").status_code == 404
