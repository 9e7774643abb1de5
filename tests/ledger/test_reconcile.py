"""manage.py reconcile: silent and zero when the books agree, every planted difference named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.core.files import private_path
from apps.ledger.models import AccountStatus, JournalEntry
from apps.ledger.payday import payday_run
from apps.ledger.services import journal_reverse
from apps.payroll.models import PayrollBatch, PayrollRow
from apps.returns.models import ReturnFile
from apps.returns.services import return_files_run
from tests.ledger.factories import batch_make, funded_batch_make

PAY_DATE = date(2026, 12, 1)
D = Decimal


@pytest.fixture
def books(db, business_clock, private_files, bank_signer, enterprise_a):
    """Two batches paid on different days, both returned: books that agree."""
    rows = [("6222000000000001", "张三", D("5000.00")), ("6222000000000002", "李四", D("6000.50")),
            ("6222000000009999", "周八", D("3000.00"))]
    # 周八 has no account at the bank: one row of the first batch is returned unpaid.
    world = funded_batch_make(identity=enterprise_a, rows=rows, balance=D("50000.00"), pay_date=PAY_DATE,
                              accounts=[(account, name, AccountStatus.NORMAL) for account, name, _a in rows[:2]],
                              fee_per_payment=D("1.50"))
    first = world.batch
    second = batch_make(agreement=world.agreement, rows=rows[:1], pay_date=date(2026, 12, 2))
    payday_run(today=date(2026, 12, 2))
    return_files_run(today=date(2026, 12, 3))
    return first, second


def _reconcile(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("reconcile", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def test_books_that_agree_reconcile(books) -> None:
    assert _reconcile() == (0, "reconciled: no difference\n")
    assert _reconcile("--date", "2026-12-01") == (0, "reconciled: no difference\n")


def _plant_row_amount(first: PayrollBatch) -> None:
    PayrollRow.objects.filter(batch=first, seq=1).update(amount=D("5000.01"))


def _plant_batch_total(first: PayrollBatch) -> None:
    PayrollBatch.objects.filter(pk=first.pk).update(success_amount=D("11000.00"))


def _plant_balance(first: PayrollBatch) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_ledgeraccount SET balance = balance + 100 WHERE number = '6222000000000002'")


def _plant_reversal(first: PayrollBatch) -> None:
    journal_reverse(txn_id=JournalEntry.objects.filter(batch=first).first().txn_id, memo="冲正")


def _plant_return_file_bytes(first: PayrollBatch) -> None:
    path = private_path("returns", first.return_file.stored_name)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))


def _plant_return_totals(first: PayrollBatch) -> None:
    ReturnFile.objects.filter(batch=first).update(failure_count=2)


def _plant_row_result(first: PayrollBatch) -> None:
    PayrollRow.objects.filter(batch=first, seq=3).update(result_message="另一个原因")


@pytest.mark.parametrize(("plant", "expected"), [
    (_plant_row_amount, ["total amount (rows): expected 14000.50, found 14000.51",
                         "success amount (rows): expected 11000.50, found 11000.51",
                         "return file plain content digest"]),
    (_plant_batch_total, ["success amount (rows): expected 11000.00, found 11000.50",
                          "ledger: employee credits (count, amount): expected (2, Decimal('11000.00'))"]),
    (_plant_balance, ["account 6222000000000002: balance (sum of its journal): expected 6000.50, found 6100.50"]),
    (_plant_reversal, ["ledger: employee credits (count, amount): expected (2, Decimal('11000.50')), "
                       "found (0, Decimal('0.00'))", "ledger: fee credited: expected 3.00, found 0.00"]),
    (_plant_return_file_bytes, ["return file on disk (sha-256)"]),
    (_plant_return_totals, ["return file totals"]),
    (_plant_row_result, ["return file plain content digest (rebuilt from the rows)"]),
])
def test_a_planted_difference_is_found(books, plant, expected: list[str]) -> None:
    first, _second = books
    plant(first)
    code, output = _reconcile()
    assert code == 1
    for text in expected:
        assert text in output
    assert f"batch {first.pk} " in output or "account " in output
    assert f"batch {_second.pk} " not in output  # the other batch agrees


def test_the_date_option_reconciles_that_pay_date_only(books) -> None:
    first, second = books
    _plant_batch_total(first)
    assert _reconcile("--date", "2026-12-02") == (0, "reconciled: no difference\n")
    code, output = _reconcile("--date", "2026-12-01")
    assert code == 1
    assert f"batch {first.pk} " in output
    # the success amount disagrees with the rows, the failure amount, the ledger credits and the return file
    assert "4 difference(s) found" in output


def test_postings_of_an_unpaid_batch_are_a_difference(books) -> None:
    first, _second = books
    PayrollBatch.objects.filter(pk=first.pk).update(status="stored")
    code, output = _reconcile()
    assert code == 1
    assert f"batch {first.pk}: ledger postings of an unpaid batch" in output
