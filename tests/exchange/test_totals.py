"""Total rows (合计/总计/小计, or a bare sum) and 万元/千元 headers are refused, never paid."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from payroll_exchange.records import PayrollRow
from payroll_exchange.sheets import ColumnMap, payroll_sheet_read
from payroll_exchange.totals import amount_unit_error, payroll_totals_check, total_label
from tests.client.sheets_make import HEADER, csv_bytes, payroll_rows, rows_total

COLUMNS = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5, remark=6)


def sheet_and_rows(amounts: list[str], last_cells: list[str | None] | None = None):
    """Raw rows from sheet row 2 and the PayrollRows read from them (a last row of cells given
    as is, read as the sheet reader would: empty name and account)."""
    sheet = [(n, ["0", "X", f"员工{n}", f"1001{n:012d}", a, None]) for n, a in enumerate(amounts, 2)]
    rows = [PayrollRow(n, f"1001{n:012d}", f"员工{n}", Decimal(a), "0", "X", "") for n, a in enumerate(amounts, 2)]
    if last_cells is not None:
        number = len(amounts) + 2
        sheet.append((number, last_cells))
        if last_cells[4] is not None:
            rows.append(PayrollRow(number, "", "", Decimal(last_cells[4]), "", "", ""))
    return sheet, rows


def check(sheet, rows, errors=None, *, headers=None, record_count=None):
    errors = [] if errors is None else errors
    left_out = payroll_totals_check(sheet=sheet, rows=rows, errors=errors, headers=headers or {}, amount_column=5,
                                    first_row=2, record_count=record_count)
    return left_out, errors


@pytest.mark.parametrize("label", ["合计", "合 计", "合计：", "总计", "小计", "合计金额", "\u3000总计（元）"])
@pytest.mark.parametrize("column", [0, 2, 5])
def test_a_trailing_labelled_row_in_any_cell_is_a_total_row(label: str, column: int) -> None:
    cells: list[str | None] = [None] * 6
    cells[column] = label
    cells[4] = "9000.00"
    sheet, rows = sheet_and_rows(["1000.00", "2000.00", "3000.00"], cells)
    left_out, errors = check(sheet, rows)
    assert left_out == 0
    assert [(e.code, e.row) for e in errors] == [("total_row", 5)]
    assert f"“{label.strip()}”" in errors[0].zh
    assert "--count 3" in errors[0].zh
    assert "--count 3" in errors[0].en
    assert [r.seq for r in rows] == [2, 3, 4]  # the total row is not a record


def test_a_bare_sum_under_the_amount_column_is_a_total_row() -> None:
    sheet, rows = sheet_and_rows(["1000.00", "2000.50", "3000.00"], [None, None, None, None, "6000.50", None])
    _, errors = check(sheet, rows)
    assert [(e.code, e.row, e.field) for e in errors] == [("total_row", 5, "amount")]
    assert errors[0].zh == ("第 5 行 金额：6000.50 等于上面 3 行金额之和，是合计行，不是一笔代发。"
                            "请删除该行后重新导入；或填写记录总数（--count 3），只读上面的 3 行数据。")
    assert [r.seq for r in rows] == [2, 3, 4]


@pytest.mark.parametrize("amounts", [
    ["5000.00", "5000.00"],  # two equal salaries: the second equals the "sum" of one row
    ["1000.00", "2000.00", "3000.01"],
    ["1000.00", "2000.00", "4000.00", "7000.01"],
])
def test_rows_that_only_look_like_sums_are_payments(amounts: list[str]) -> None:
    sheet, rows = sheet_and_rows(amounts)
    assert check(sheet, rows) == (0, [])
    assert len(rows) == len(amounts)


def test_a_labelled_row_in_the_middle_is_not_trailing() -> None:
    sheet, rows = sheet_and_rows(["1000.00", "2000.00"])
    sheet.insert(1, (9, ["小计", None, None, None, "1000.00", None]))
    assert check(sheet, rows) == (0, [])


def test_subtotal_and_total_rows_at_the_end_are_each_refused() -> None:
    sheet, rows = sheet_and_rows(["1000.00", "2000.00"], ["小计", None, None, None, "3000.00", None])
    sheet.append((5, ["合计", None, None, None, "3000.00", None]))
    rows.append(PayrollRow(5, "", "", Decimal("3000.00"), "", "", ""))
    _, errors = check(sheet, rows)
    assert [(e.code, e.row) for e in errors] == [("total_row", 4), ("total_row", 5)]
    assert [r.seq for r in rows] == [2, 3]


def test_the_record_count_honoured_leaves_the_total_row_out() -> None:
    sheet, rows = sheet_and_rows(["1000.00", "2000.00", "3000.00"], ["合计", None, None, None, "6000.00", None])
    assert check(sheet, rows, record_count=3) == (1, [])
    assert [r.seq for r in rows] == [2, 3, 4]


def test_a_record_count_that_includes_the_total_row_still_refuses_it() -> None:
    sheet, rows = sheet_and_rows(["1000.00", "2000.00"], ["合计", None, None, None, "3000.00", None])
    left_out, errors = check(sheet, rows, record_count=3)
    assert left_out == 0
    assert [e.code for e in errors] == ["total_row"]


def test_the_total_rows_own_reading_errors_give_way_to_the_total_row_error() -> None:
    from payroll_exchange.messages import row_error

    sheet, rows = sheet_and_rows(["1000.00", "2000.00"], ["合计", None, None, None, None, None])
    errors = [row_error("amount_missing", 4, "amount", "没有填写金额。", "no amount.")]
    _, errors = check(sheet, rows, errors)
    assert [(e.code, e.row) for e in errors] == [("total_row", 4)]


@pytest.mark.parametrize(("header", "unit"), [
    ("金额（万元）", "万元"), ("金额(万元)", "万元"), ("实发工资 万元", "万元"), ("金额（万）", "万元"),
    ("实发工资(千元)", "千元"), ("金额【千】", "千元"), ("单位：千元", "千元")])
def test_amounts_not_in_yuan_are_refused(header: str, unit: str) -> None:
    error = amount_unit_error(header, 1)
    assert error is not None
    assert (error.code, error.row, error.field) == ("amount_unit", 1, "amount")
    assert error.zh.startswith(f"第 1 行 金额：表头“{header}”表明金额以{unit}为单位，代发金额必须以元为单位。")
    assert "must be in yuan" in error.en


@pytest.mark.parametrize("header", ["金额", "金额（元）", "实发工资", "万能险扣款后金额", "", None])
def test_headers_in_yuan_pass(header: str | None) -> None:
    assert amount_unit_error(header, 1) is None


def test_total_label_reads_any_cell() -> None:
    assert total_label(["", None, "合  计"]) == "合  计"
    assert total_label(["王伟", "十二月工资合计"]) is None  # a remark that mentions a total


def test_through_the_sheet_reader_a_csv_with_a_total_row() -> None:
    people = payroll_rows(3)
    total = rows_total(people)
    data = csv_bytes([*people, ["合计", "", "", "", str(total), ""]])
    read = payroll_sheet_read(data=data, filename="工资.csv", columns=COLUMNS)
    assert [(e.code, e.row) for e in read.errors] == [("total_row", 5)]
    assert [r.seq for r in read.rows] == [2, 3, 4]
    counted = payroll_sheet_read(data=data, filename="工资.csv", columns=replace(COLUMNS, record_count=3))
    assert counted.errors == []
    assert [r.seq for r in counted.rows] == [2, 3, 4]


def test_through_the_sheet_reader_a_wanyuan_header() -> None:
    data = ("\r\n".join([",".join([*HEADER[:4], "金额（万元）", "备注"]),
                         *(",".join([*p[:4], "0.85", p[5]]) for p in payroll_rows(2))]) + "\r\n").encode()
    read = payroll_sheet_read(data=data, filename="工资.csv", columns=COLUMNS)
    assert [(e.code, e.row, e.field) for e in read.errors] == [("amount_unit", 1, "amount")]
