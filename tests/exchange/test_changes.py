"""变动提示 (payroll_exchange/changes.py): each change kind on real-looking rows, and 疑似重复发放."""

from __future__ import annotations

from decimal import Decimal

from payroll_exchange.changes import (
    ACCOUNT,
    ADDED,
    AMOUNT,
    ID,
    LIST_LIMIT,
    REMOVED,
    changes_text,
    mask_name,
    payroll_changes,
)
from payroll_exchange.records import PayrollRow
from tests.factories import resident_id, unionpay_account

NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄海涛"]


def _row(seq: int, person: int, amount: str, *, account: int | None = None, name: str | None = None) -> PayrollRow:
    return PayrollRow(seq=seq, account=unionpay_account(account if account is not None else person),
                      name=name or NAMES[(person - 1) % len(NAMES)], amount=Decimal(amount), id_type="0",
                      id_number=resident_id(person, birth="19880512"), remark="11月工资")


def _november() -> list[PayrollRow]:
    return [_row(1, 1, "8650.00"), _row(2, 2, "12300.50"), _row(3, 3, "7420.00"), _row(4, 4, "9800.00"),
            _row(5, 5, "15000.00")]


def test_nothing_changed_lists_nothing_and_zero_total_change():
    changes = payroll_changes(rows=_november(), batch_no="GZ202612", previous_rows=_november(),
                              previous_batch_no="GZ202611")
    assert [g.count for g in changes.groups] == [0, 0, 0, 0, 0]
    assert changes.total_change_percent == Decimal("0.0")
    # The same rows under a new batch number: 疑似重复发放.
    assert changes.suspected_duplicate is True


def test_each_kind_of_change_on_one_month():
    december = [
        _row(1, 1, "8650.00"),                       # unchanged
        _row(2, 2, "16500.00"),                      # +34.1 % > 30 %
        _row(3, 3, "7420.00", account=703),          # same ID, new account
        # person 4 (刘洋) not paid this month
        _row(4, 5, "10400.00"),                      # −30.7 %
        _row(5, 6, "6200.00"),                       # new this month
        _row(6, 7, "5100.00", account=1),            # 赵敏 now paid into 张伟's account of last month
    ]
    december[0] = _row(1, 1, "8650.00", account=801)  # 张伟 moved to a new account, so account 1 is free
    changes = payroll_changes(rows=december, batch_no="GZ202612", previous_rows=_november(),
                              previous_batch_no="GZ202611")

    added = changes.group(ADDED)
    assert (added.count, [(i.seq, i.name) for i in added.items]) == (2, [(5, "杨磊"), (6, "赵敏")])
    assert added.items[0].amount == Decimal("6200.00")
    assert added.items[0].previous_amount is None
    removed = changes.group(REMOVED)
    assert [(i.seq, i.name, i.previous_amount) for i in removed.items] == [(4, "刘洋", Decimal("9800.00"))]
    amount = changes.group(AMOUNT)
    assert [(i.name, i.previous_amount, i.amount, i.change_percent) for i in amount.items] == [
        ("王芳", Decimal("12300.50"), Decimal("16500.00"), Decimal("34.1")),
        ("陈静", Decimal("15000.00"), Decimal("10400.00"), Decimal("-30.7")),
    ]
    account = changes.group(ACCOUNT)
    assert [(i.name, i.previous_account, i.account) for i in account.items] == [
        ("张伟", unionpay_account(1), unionpay_account(801)),
        ("李娜", unionpay_account(3), unionpay_account(703)),
    ]
    other_id = changes.group(ID)
    assert [(i.seq, i.name, i.account, i.id_number) for i in other_id.items] == [
        (6, "赵敏", unionpay_account(1), resident_id(7, birth="19880512"))]
    # 53170.50 → 54270.00
    assert (changes.previous_total, changes.total, changes.total_change_percent) == (
        Decimal("53170.50"), Decimal("54270.00"), Decimal("2.1"))
    assert changes.suspected_duplicate is False


def test_threshold_is_strict_and_a_setting():
    december = [_row(1, 1, "11245.00")]  # 8650 → 11245 is exactly +30.0 %
    previous = [_row(1, 1, "8650.00")]
    assert payroll_changes(rows=december, batch_no="B2", previous_rows=previous,
                           previous_batch_no="B1").group(AMOUNT).count == 0
    lower = payroll_changes(rows=december, batch_no="B2", previous_rows=previous, previous_batch_no="B1",
                            threshold_percent=Decimal("20"))
    assert [i.change_percent for i in lower.group(AMOUNT).items] == [Decimal("30.0")]


def test_first_twenty_listed_with_the_full_count():
    previous = [_row(1, 1, "8000.00")]
    now = [_row(i, 100 + i, "8000.00", account=100 + i) for i in range(1, 31)]
    group = payroll_changes(rows=now, batch_no="B2", previous_rows=previous, previous_batch_no="B1").group(ADDED)
    assert group.count == 30
    assert len(group.items) == LIST_LIMIT == 20
    assert [i.seq for i in group.items] == list(range(1, 21))


def test_duplicate_needs_the_same_rows_and_amounts_not_just_the_totals():
    swapped = _november()
    swapped[0].amount, swapped[1].amount = swapped[1].amount, swapped[0].amount  # same total, other people
    changes = payroll_changes(rows=swapped, batch_no="GZ202612", previous_rows=_november(),
                              previous_batch_no="GZ202611")
    assert changes.total_change_percent == Decimal("0.0")
    assert changes.suspected_duplicate is False
    reordered = list(reversed(_november()))
    for seq, row in enumerate(reordered, start=1):
        row.seq = seq
    assert payroll_changes(rows=reordered, batch_no="GZ202612", previous_rows=_november(),
                           previous_batch_no="GZ202611").suspected_duplicate is True
    # The same batch number is not a new batch: no flag (that file is refused as a duplicate anyway).
    assert payroll_changes(rows=_november(), batch_no="GZ202611", previous_rows=_november(),
                           previous_batch_no="GZ202611").suspected_duplicate is False


def test_no_previous_rows_means_everyone_is_new_and_no_percent():
    changes = payroll_changes(rows=_november(), batch_no="B1", previous_rows=[], previous_batch_no="")
    assert changes.group(ADDED).count == 5
    assert changes.total_change_percent is None
    assert changes.suspected_duplicate is False


def test_masked_names_and_text_lines():
    assert [mask_name(n) for n in ("张伟", "黄海涛", "欧阳娜娜", "李")] == ["张*", "黄**", "欧***", "李*"]
    december = _november()[:4] + [_row(5, 6, "6200.00")]
    lines = changes_text(payroll_changes(rows=december, batch_no="GZ202612", previous_rows=_november(),
                                         previous_batch_no="GZ202611"))
    assert lines[0] == ("与上次已发放批次 GZ202611 比较：本次 5 笔 44370.50 元，上次 5 笔 53170.50 元，总额变动 -16.6%")
    assert "较上月新增：1 人" in lines
    assert "较上月减少：1 人" in lines
    english = changes_text(payroll_changes(rows=december, batch_no="GZ202612", previous_rows=_november(),
                                           previous_batch_no="GZ202611"), language="en")
    assert "Paid now, not last time: 1" in english
