"""The plain return file is the same bytes whichever way it is built: COPY TO on PostgreSQL, the
chunked return_dump path (SQLite, or a value COPY would escape), and return_dump of every row at once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.ledger.models import AccountStatus
from apps.ledger.payday import payday_run
from apps.payroll.models import PayrollRow
from apps.returns import services
from apps.returns.services import return_content_build
from payroll_exchange.errors import ExchangeError
from payroll_exchange.formats import return_dump, return_load
from payroll_exchange.records import ReturnFile as ReturnRecord
from payroll_exchange.records import ReturnHeader, ReturnRow
from tests.ledger.factories import funded_batch_make

PAY_DATE = date(2026, 12, 1)
D = Decimal


def _paid_batch(enterprise, rows):
    batch = funded_batch_make(identity=enterprise, rows=rows, balance=D("1000000000.00"), pay_date=PAY_DATE,
                              accounts=[(account, name, AccountStatus.NORMAL) for account, name, _a in rows[:-1]],
                              fee_per_payment=D("1.50"), batch_no="202612C").batch
    assert payday_run(today=PAY_DATE).paid == [batch.pk]
    batch.refresh_from_db()
    return batch


def _dumped_at_once(batch) -> bytes:
    """return_dump of every row in one call: the format as payroll_exchange defines it."""
    rows = [ReturnRow(r.seq, r.account, r.name, r.amount, r.result_code, r.result_message)
            for r in PayrollRow.objects.filter(batch=batch).order_by("seq")]
    ok = [r for r in rows if r.result_code == "0000"]
    header = ReturnHeader(
        format_version="2", agreement_no=batch.agreement.number, payer_unit_no=batch.agreement.payer_unit_no,
        batch_no=batch.batch_no, pay_date=batch.pay_date, success_count=len(ok),
        success_amount=sum((r.amount for r in ok), D("0.00")), failure_count=len(rows) - len(ok),
        failure_amount=sum((r.amount for r in rows if r.result_code != "0000"), D("0.00")),
        fee_charged=batch.fee_charged, payroll_digest=batch.digest,
    )
    return return_dump(ReturnRecord(header=header, rows=rows))


ROWS = [
    ("6222000000000001", "张三", D("5000.00")),
    ("6222000000000002", "欧阳·娜娜", D("0.01")),
    ("6222000000000003", "O'Brien Ann", D("100")),
    ("6222000000000004", "李四", D("98765432.10")),
    ("6222000000009999", "周八", D("3000.05")),  # no such account: AC01
]


def test_copy_built_content_is_return_dump_of_the_rows(db, business_clock, enterprise_a) -> None:
    batch = _paid_batch(enterprise_a, ROWS)

    content = return_content_build(batch=batch)

    assert content.data == _dumped_at_once(batch)
    assert (content.record_count, content.success_count, content.failure_count) == (5, 4, 1)
    assert content.success_amount == D("98770532.11")
    assert content.failure_amount == D("3000.05")
    loaded, errors = return_load(content.data)
    assert errors == []
    assert [(r.seq, r.amount, r.result_code) for r in loaded.rows] == [
        (1, D("5000.00"), "0000"), (2, D("0.01"), "0000"), (3, D("100.00"), "0000"),
        (4, D("98765432.10"), "0000"), (5, D("3000.05"), "AC01")]


def test_a_value_copy_would_escape_takes_the_row_path_with_the_same_bytes(db, business_clock,
                                                                           enterprise_a) -> None:
    rows = [*ROWS[:2], ("6222000000000005", "Back\\slash\tTab", D("42.00")), ROWS[-1]]
    batch = _paid_batch(enterprise_a, rows)

    content = return_content_build(batch=batch)

    assert content.data == _dumped_at_once(batch)
    assert b"Back\\slash\tTab" in content.data  # written as it is, not as COPY escapes it
    assert content.record_count == 4


def test_the_row_path_in_small_chunks_is_the_same_bytes(db, business_clock, enterprise_a, monkeypatch) -> None:
    batch = _paid_batch(enterprise_a, ROWS)
    copied = return_content_build(batch=batch).data
    monkeypatch.setattr(services, "_CHUNK_ROWS", 2)
    monkeypatch.setattr(services, "_COPY_ESCAPED", ".")  # every row "escaped": the row path, 3 chunks

    assert return_content_build(batch=batch).data == copied == _dumped_at_once(batch)


@pytest.mark.parametrize("where", ["account", "name", "result_message"])
def test_a_line_break_in_a_row_is_refused_in_words_not_escaped(db, business_clock, enterprise_a, where) -> None:
    batch = _paid_batch(enterprise_a, ROWS)
    PayrollRow.objects.filter(batch=batch, seq=2).update(**{where: "断\n行"})

    with pytest.raises(ExchangeError, match="line break") as refused:
        return_content_build(batch=batch)
    assert refused.value.code == "field_delimiter"
