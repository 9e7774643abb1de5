"""Pay day: each due stored batch paid exactly once, row by row results, the whole batch failed
when the settlement account cannot cover it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from apps.core.models import AuditEvent
from apps.ledger.models import AccountStatus, JournalEntry, LedgerAccount
from apps.ledger.payday import payday_batch_post, payday_run
from apps.ledger.services import FEE_INCOME_NUMBER, ledger_fee_income_account
from apps.ledger.tasks import payday_run_task
from apps.payroll.models import BatchStatus
from apps.payroll.services.transitions import batch_transition
from payroll_exchange.clock import BUSINESS_TZ
from tests.ledger.factories import (
    agreement_make,
    batch_make,
    company_make,
    employee_accounts_make,
    settlement_account_make,
)

PAY_DATE = date(2026, 12, 1)
D = Decimal

EMPLOYEES = [
    ("6222000000000001", "张三", AccountStatus.NORMAL),
    ("6222000000000002", "李四", AccountStatus.NORMAL),
    ("6222000000000003", "王五", AccountStatus.CLOSED),
    ("6222000000000004", "赵六", AccountStatus.FROZEN),
    ("6222000000000005", "孙七", AccountStatus.NORMAL),
]
# (account, name on the payroll row, amount) and the result each must get.
ROWS = [
    (("6222000000000001", "张三", D("5000.00")), "0000"),
    (("6222000000000002", "李四", D("6000.50")), "0000"),
    (("6222000000009999", "周八", D("3000.00")), "AC01"),  # no such account
    (("6222000000000003", "王五", D("2000.00")), "AC04"),  # closed
    (("6222000000000004", "赵六", D("1000.00")), "AC06"),  # frozen
    (("6222000000000005", "孙琪", D("1500.00")), "BE01"),  # held under another name (孙七)
]
PAID_AMOUNT = D("11000.50")
FEE = D("5.00")  # 2.50 × 2 successful rows, not × 6 rows
NEEDED = PAID_AMOUNT + FEE
OPENING = D("100000.00")


@pytest.fixture
def world(db, business_clock, enterprise_a):
    company = company_make()
    agreement = agreement_make(company=company, identity=enterprise_a, fee_per_payment=D("2.50"))
    employee_accounts_make(EMPLOYEES)
    ledger_fee_income_account()  # the bank's own account exists before any pay day
    return agreement


def _settlement(agreement, balance=OPENING, status=AccountStatus.NORMAL):
    return settlement_account_make(agreement=agreement, balance=balance, status=status)


def _batch(agreement, **kwargs):
    return batch_make(agreement=agreement, rows=[row for row, _code in ROWS], pay_date=PAY_DATE, **kwargs)


def _balances() -> dict[str, Decimal]:
    return dict(LedgerAccount.objects.values_list("number", "balance"))


def _journal_totals() -> tuple[Decimal, Decimal]:
    debit = JournalEntry.objects.filter(side="D").aggregate(s=Sum("amount"))["s"] or D(0)
    credit = JournalEntry.objects.filter(side="C").aggregate(s=Sum("amount"))["s"] or D(0)
    return debit, credit


def test_each_row_gets_its_result_and_the_money_moves_once(world) -> None:
    settlement = _settlement(world)
    batch = _batch(world)

    result = payday_run(today=PAY_DATE)

    assert (result.paid, result.failed, result.skipped, result.errors) == ([batch.pk], [], [], [])
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PAID
    assert (batch.success_count, batch.success_amount) == (2, PAID_AMOUNT)
    assert (batch.failure_count, batch.failure_amount) == (4, D("7500.00"))
    assert batch.fee_charged == FEE
    assert batch.paid_at == datetime(2026, 12, 1, 10, 0, tzinfo=BUSINESS_TZ)
    assert list(batch.rows.order_by("seq").values_list("result_code", flat=True)) == [code for _r, code in ROWS]
    assert list(batch.rows.order_by("seq").values_list("result_message", flat=True)) == [
        "成功", "成功", "账户不存在", "账户已销户", "账户已冻结", "户名与账号不符"]

    balances = _balances()
    assert balances[settlement.number] == D("100000.00") - NEEDED
    assert balances["6222000000000001"] == D("5000.00")
    assert balances["6222000000000002"] == D("6000.50")
    assert balances["6222000000000003"] == balances["6222000000000004"] == balances["6222000000000005"] == D(0)
    assert balances[FEE_INCOME_NUMBER] == FEE

    legs = list(JournalEntry.objects.filter(batch=batch).order_by("id").values_list(
        "account__number", "side", "kind", "amount", "row_seq", "business_date"))
    assert legs == [
        ("6222000000000001", "C", "payroll", D("5000.00"), 1, PAY_DATE),
        ("6222000000000002", "C", "payroll", D("6000.50"), 2, PAY_DATE),
        (settlement.number, "D", "payroll", PAID_AMOUNT, None, PAY_DATE),
        (settlement.number, "D", "fee", FEE, None, PAY_DATE),
        (FEE_INCOME_NUMBER, "C", "fee", FEE, None, PAY_DATE),
    ]
    assert JournalEntry.objects.filter(batch=batch).values("txn_id").distinct().count() == 1
    debit, credit = _journal_totals()
    assert debit == credit == D("100000.00") + NEEDED  # the opening deposit and this posting
    event = AuditEvent.objects.get(action="payroll_batch_paid")
    assert (event.object_id, event.company_id, event.detail["success_count"]) == (str(batch.pk), world.company_id, 2)


@pytest.mark.parametrize(("balance", "status", "code", "reason"), [
    (NEEDED - D("0.01"), AccountStatus.NORMAL, "AM04", "结算账户余额不足：需 11005.50 元，可用 11005.49 元"),
    (D("100000.00"), AccountStatus.FROZEN, "AC06", "结算账户已冻结"),
    (D("100000.00"), AccountStatus.CLOSED, "AC04", "结算账户已销户"),
    (None, None, "AC01", "结算账户不存在"),
])
def test_an_uncovered_batch_fails_whole_and_nothing_moves(world, balance, status, code, reason) -> None:
    if balance is not None:
        _settlement(world, balance=balance, status=status)
    batch = _batch(world)
    balances, entries = _balances(), JournalEntry.objects.count()

    result = payday_run(today=PAY_DATE)

    assert (result.paid, result.failed) == ([], [batch.pk])
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert batch.failure_reason == reason
    assert (batch.success_count, batch.success_amount, batch.fee_charged) == (0, D(0), D(0))
    assert (batch.failure_count, batch.failure_amount) == (6, D("18500.50"))
    assert batch.paid_at is None
    assert set(batch.rows.values_list("result_code", "result_message")) == {(code, reason)}
    assert _balances() == balances
    assert JournalEntry.objects.count() == entries
    assert not JournalEntry.objects.filter(batch=batch).exists()
    # A rerun does not retry a failed batch.
    assert payday_run(today=PAY_DATE).failed == []


def test_exactly_covered_batch_is_paid(world) -> None:
    settlement = _settlement(world, balance=NEEDED)
    batch = _batch(world)
    assert payday_run(today=PAY_DATE).paid == [batch.pk]
    assert _balances()[settlement.number] == D("0.00")


def test_run_twice_posts_nothing_twice(world) -> None:
    _settlement(world)
    batch = _batch(world)
    payday_run(today=PAY_DATE)
    balances, legs = _balances(), list(JournalEntry.objects.values_list("id", flat=True))

    second = payday_run(today=PAY_DATE)
    late = payday_batch_post(batch_id=batch.pk, today=PAY_DATE)  # a redelivered message for the same batch

    assert (second.paid, second.failed, second.skipped) == ([], [], [])
    assert late is None
    assert _balances() == balances
    assert list(JournalEntry.objects.values_list("id", flat=True)) == legs


def test_the_journal_refuses_a_second_posting_of_the_same_row(world) -> None:
    """The last line of defence: even a posting that slipped past the batch lock collides."""
    _settlement(world)
    batch = _batch(world)
    payday_run(today=PAY_DATE)
    first = JournalEntry.objects.get(batch=batch, row_seq=1)
    legs = JournalEntry.objects.count()
    with pytest.raises(IntegrityError, match="journal_batch_posting_once"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_journalentry (txn_id, account_id, side, kind, amount, batch_id, row_seq, memo,"
            " business_date) VALUES (gen_random_uuid(), %s, 'C', 'payroll', %s, %s, 1, 'again', %s)",
            [first.account_id, first.amount, batch.pk, PAY_DATE],
        )
    assert JournalEntry.objects.count() == legs


def test_held_batch_is_skipped_and_paid_at_the_next_run_after_release(world, business_clock) -> None:
    settlement = _settlement(world)
    batch = _batch(world)
    batch_transition(batch_id=batch.pk, action="hold", held_by="clerk01")
    balances = _balances()

    assert payday_run(today=PAY_DATE).paid == []
    assert payday_run(today=date(2026, 12, 2)).paid == []
    batch.refresh_from_db()
    assert batch.status == BatchStatus.HELD
    assert _balances() == balances
    assert not JournalEntry.objects.filter(batch=batch).exists()

    # Released two days after its pay date: the next run pays it, dated the day it really moved.
    business_clock.set(datetime(2026, 12, 3, 9, 0, tzinfo=BUSINESS_TZ))
    batch_transition(batch_id=batch.pk, action="release")
    assert payday_run(today=date(2026, 12, 3)).paid == [batch.pk]
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PAID
    assert batch.paid_at == datetime(2026, 12, 3, 9, 0, tzinfo=BUSINESS_TZ)
    assert set(JournalEntry.objects.filter(batch=batch).values_list("business_date", flat=True)) == {
        date(2026, 12, 3)}
    assert _balances()[settlement.number] == D("100000.00") - NEEDED


def test_a_batch_is_not_paid_before_its_pay_date(world) -> None:
    _settlement(world)
    batch = batch_make(agreement=world, rows=[ROWS[0][0]], pay_date=date(2026, 12, 5))
    assert payday_run(today=PAY_DATE).paid == []
    assert payday_batch_post(batch_id=batch.pk, today=PAY_DATE) is None
    batch.refresh_from_db()
    assert batch.status == BatchStatus.STORED
    assert payday_run(today=date(2026, 12, 5)).paid == [batch.pk]


@pytest.mark.parametrize("status", [BatchStatus.AWAITING_CONFIRMATION, BatchStatus.STORING, BatchStatus.REJECTED])
def test_batches_not_stored_are_never_paid(world, status) -> None:
    _settlement(world)
    batch = _batch(world, status=status)
    assert payday_run(today=PAY_DATE).paid == []
    assert payday_batch_post(batch_id=batch.pk, today=PAY_DATE) is None
    assert not JournalEntry.objects.filter(batch=batch).exists()


def test_batch_with_no_successful_row_is_paid_with_nothing_posted(world) -> None:
    settlement = _settlement(world, balance=D("1.00"))
    batch = batch_make(agreement=world, rows=[row for row, code in ROWS if code != "0000"], pay_date=PAY_DATE)
    assert payday_run(today=PAY_DATE).paid == [batch.pk]
    batch.refresh_from_db()
    assert (batch.success_count, batch.failure_count, batch.fee_charged) == (0, 4, D(0))
    assert not JournalEntry.objects.filter(batch=batch).exists()
    assert _balances()[settlement.number] == D("1.00")


def test_free_agreement_posts_no_fee_legs(world, enterprise_b) -> None:
    company = company_make(name="北京样例贸易有限公司")
    free = agreement_make(company=company, identity=enterprise_b, number="DF2026000002", fee_per_payment=D("0.00"))
    _settlement(free, balance=D("5000.00"))
    batch = batch_make(agreement=free, rows=[ROWS[0][0]], pay_date=PAY_DATE)
    payday_run(today=PAY_DATE)
    assert list(JournalEntry.objects.filter(batch=batch).values_list("kind", "side", "amount").order_by("id")) == [
        ("payroll", "C", D("5000.00")), ("payroll", "D", D("5000.00"))]
    assert _balances()[free.settlement_account] == D("0.00")


def test_two_batches_of_one_company_draw_on_one_balance(world) -> None:
    """The second batch sees the balance the first one left: it cannot be covered twice."""
    settlement = _settlement(world, balance=NEEDED + D("5002.49"))
    first = _batch(world)
    second = batch_make(agreement=world, rows=[ROWS[0][0]], pay_date=PAY_DATE)  # needs 5002.50
    result = payday_run(today=PAY_DATE)
    assert (result.paid, result.failed) == ([first.pk], [second.pk])
    assert _balances()[settlement.number] == D("5002.49")


def test_the_task_pays_with_the_business_day(world) -> None:
    _settlement(world)
    batch = _batch(world)
    outcome = payday_run_task.apply().get()
    assert outcome == {"paid": [batch.pk], "failed": [], "skipped": [], "errors": []}
