"""Payroll format version 2 (更正, issue 13): the header names the original batch and its digest,
each row its original seq; version 1 still reads; the pure correction checks name the rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from payroll_exchange.corrections import OriginalRow, correction_check
from payroll_exchange.errors import ExchangeError
from payroll_exchange.formats import payroll_dump, payroll_load
from payroll_exchange.records import PayrollFile, PayrollHeader, PayrollRow

DIGEST = "9f" * 32


def correction(*rows: PayrollRow, batch_no: str = "B202603001-C1") -> PayrollFile:
    return PayrollFile(PayrollHeader("2", "AG20260001", "310001234", batch_no, date(2026, 3, 9), "CNY", len(rows),
                                     sum((r.amount for r in rows), Decimal("0")), "工资", "", "B202603001", DIGEST),
                       list(rows))


def row(seq: int, original_seq: int, amount: str = "4350.50") -> PayrollRow:
    return PayrollRow(seq, "6217000010012345677", "李娜", Decimal(amount), "1", "E12345678", "", original_seq)


def test_version_2_writes_the_links_and_reads_back() -> None:
    f = correction(row(2, 5))
    data = payroll_dump(f)
    assert data.decode() == (
        f"PAYROLL|2|AG20260001|310001234|B202603001-C1|2026-03-09|CNY|1|4350.50|工资||B202603001|{DIGEST}\n"
        "2|6217000010012345677|李娜|4350.50|1|E12345678||5\n")
    loaded, errors = payroll_load(data)
    assert (loaded, errors) == (f, [])
    assert loaded.header.is_correction


def test_version_1_still_reads_without_links() -> None:
    loaded, errors = payroll_load(
        b"PAYROLL|1|AG20260001|310001234|B202603001|2026-03-05|CNY|1|8500.00|\xe5\xb7\xa5\xe8\xb5\x84\n"
        b"1|6222020200112345679|W|8500.00|0|11010519491231002X|\n")
    assert errors == []
    assert not loaded.header.is_correction
    assert (loaded.header.original_batch_no, loaded.rows[0].original_seq) == ("", 0)


def test_version_2_without_an_original_batch_or_with_a_bad_original_seq_is_refused() -> None:
    with pytest.raises(ExchangeError) as refused:
        payroll_load(b"PAYROLL|2|AG|PU|B-C1|2026-03-09|CNY|0|0.00|x|||\n")
    assert refused.value.code == "file_header"
    _loaded, errors = payroll_load(b"PAYROLL|2|AG|PU|B-C1|2026-03-09|CNY|1|1.00|x||B|\n2|1|n|1.00|1|E1||x\n")
    assert [(e.code, e.row) for e in errors] == [("original_seq_syntax", 2)]
    f = correction(row(2, 5))
    f.header.original_batch_no = ""
    with pytest.raises(ExchangeError) as refused:
        payroll_dump(f)
    assert refused.value.code == "correction_original_missing"


def test_correction_check_names_each_row() -> None:
    f = correction(row(2, 5), row(3, 5), row(4, 1), row(6, 7, "1.00"), row(8, 9), row(10, 4))
    originals = {5: OriginalRow(Decimal("4350.50"), "AC04"), 1: OriginalRow(Decimal("4350.50"), "0000"),
                 7: OriginalRow(Decimal("2.00"), "AC01"), 4: OriginalRow(Decimal("4350.50"), "")}
    assert [(e.code, e.row) for e in correction_check(payroll=f, originals=originals)] == [
        ("correction_row_repeated", 3), ("correction_row_paid", 4), ("correction_amount_changed", 6),
        ("correction_row_unknown", 8), ("correction_row_not_failed", 10)]
    same = correction(row(2, 5), batch_no="B202603001")
    assert [e.code for e in correction_check(payroll=same, originals=originals)] == ["correction_same_batch"]
