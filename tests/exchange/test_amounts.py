"""Amount cells: every form users type or spreadsheets store, read to the cent or refused saying why."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payroll_exchange.amounts import amount_cell, excel_general
from payroll_exchange.cells import NumericText
from payroll_exchange.sheets import ColumnMap, payroll_sheet_read

# Typed text (a text cell, or any CSV cell): the text → the amount read.
TYPED_READ = [
    ("3,000.50", "3000.50"),
    ("12,345.67", "12345.67"),
    ("1,234,567.00", "1234567.00"),
    ("1,234", "1234"),
    ("8500", "8500"),
    ("8500.5", "8500.5"),
    ("8500.", "8500"),
    (".50", "0.50"),
    ("￥8,500.00", "8500.00"),
    ("¥8500", "8500"),
    ("8500元", "8500"),
    ("８５００．００元", "8500.00"),
    ("１，２３４．５０", "1234.50"),
    (" 8500.00 ", "8500.00"),
    ("\u3000８５００\u3000", "8500"),
    ("3 000.50", "3000.50"),  # a space between groups of three
    ("3\xa0000.50", "3000.50"),  # NBSP, as Excel's French locale writes it
    ("1 234 567.00", "1234567.00"),
    ("￥ 3,000.50", "3000.50"),
    ("3000.500", "3000.500"),  # a trailing zero is still whole cents
    ("0", "0"),  # read; the row checks refuse it (amount_not_positive)
    ("0.00", "0.00"),
    ("-100.00", "-100.00"),  # read; the row checks refuse it
    ("－１００", "-100"),
    ("+100", "100"),
]

# Typed text → (code, the cell quoted as typed in both messages).
TYPED_REFUSED = [
    ("450,50", "amount_decimal_comma"),  # today 45050.00
    ("3000，5", "amount_decimal_comma"),  # today 30005.00
    ("12,00", "amount_decimal_comma"),  # today 1200.00
    ("3.000,50", "amount_decimal_comma"),
    ("1 234,50", "amount_decimal_comma"),
    ("1.234.567,8", "amount_decimal_comma"),
    ("1,2,3,4.00", "amount_grouping"),  # today 1234.00
    ("12,3456.00", "amount_grouping"),
    ("1234,567.00", "amount_grouping"),
    ("1,234,56.00", "amount_grouping"),
    ("1,234 567.00", "amount_grouping"),  # two kinds of separator
    ("30 00", "amount_grouping"),
    ("3.000.50", "amount_grouping"),
    ("1,2345", "amount_grouping"),
    ("1e3", "amount_syntax"),
    ("1E+03", "amount_syntax"),
    ("NaN", "amount_syntax"),
    ("八千", "amount_syntax"),
    ("8500.00.00", "amount_grouping"),
    ("(100.00)", "amount_syntax"),
    ("RMB 8500", "amount_syntax"),
    ("85OO", "amount_syntax"),
    ("1234.565", "amount_past_cents"),
    ("100.001", "amount_past_cents"),
    ("-", "amount_missing"),
    ("—", "amount_missing"),
    ("－", "amount_missing"),
]

# Number cells (the double's repr, as the readers give it) → the amount read.
NUMBER_READ = [
    ("8500", "8500"),
    ("4350.5", "4350.5"),
    ("3300.0000000000005", "3300.00"),  # =33*100.00000000000001: Excel shows 3300.00
    ("4500.450000000001", "4500.45"),
    ("3000.4500000000003", "3000.45"),
    ("6302.099999999999", "6302.10"),
    ("0.30000000000000004", "0.30"),
    ("1234567.8900000001", "1234567.89"),
    ("0", "0"),
    ("-100.5", "-100.5"),
    ("1.2345678901234567e+20", "1.2345678901234567E+20"),  # whole yuan; the single-payment limit refuses it
]

# Number cells → (code, the number as Excel shows it in the General format).
NUMBER_REFUSED = [
    ("2833.3333333333335", "2833.33333333333"),  # =8500/3
    ("1234.565", "1234.565"),
    ("100.125", "100.125"),
    ("0.001", "0.001"),
    ("3300.00001", "3300.00001"),  # 1e-5 off the cent: more than noise
    ("1.2345678901234567e-05", "1.23456789012346E-05"),
]


@pytest.mark.parametrize(("typed", "expected"), TYPED_READ)
def test_typed_amounts_that_read(typed: str, expected: str) -> None:
    errors: list = []
    amount = amount_cell(typed, 7, errors, number=False)
    assert errors == []
    assert amount == Decimal(expected)
    assert str(amount) == expected


@pytest.mark.parametrize(("typed", "code"), TYPED_REFUSED)
def test_typed_amounts_refused_quoting_the_cell_as_typed(typed: str, code: str) -> None:
    errors: list = []
    assert amount_cell(typed, 7, errors, number=False) is None
    [error] = errors
    assert (error.code, error.row, error.field) == (code, 7, "amount")
    assert error.zh.startswith("第 7 行 金额：")
    assert error.en.startswith("row 7, amount: ")
    if code != "amount_missing" or typed == "-":
        assert f"“{typed}”" in error.zh
        assert f'"{typed}"' in error.en


@pytest.mark.parametrize(("stored", "expected"), NUMBER_READ)
def test_number_cells_within_a_millionth_of_a_cent_value_are_that_value(stored: str, expected: str) -> None:
    errors: list = []
    amount = amount_cell(NumericText(stored), 3, errors, number=True)
    assert errors == []
    assert str(amount) == expected


@pytest.mark.parametrize(("stored", "shown"), NUMBER_REFUSED)
def test_number_cells_past_the_cent_are_refused_as_excel_shows_them(stored: str, shown: str) -> None:
    errors: list = []
    assert amount_cell(NumericText(stored), 3, errors, number=True) is None
    [error] = errors
    assert (error.code, error.row, error.field) == ("amount_past_cents", 3, "amount")
    assert f"“{shown}”" in error.zh
    assert f'"{shown}"' in error.en
    assert stored not in error.en or stored == shown  # never Python's repr of the double


def test_an_empty_cell_is_a_missing_amount() -> None:
    for cell in (None, "", "   ", "\u3000"):
        errors: list = []
        assert amount_cell(cell, 4, errors, number=False) is None
        assert [(e.code, e.zh, e.en) for e in errors] == [
            ("amount_missing", "第 4 行 金额：没有填写金额。请填写以元为单位的金额，如 3500.00。",
             "row 4, amount: no amount. Enter the amount in yuan, such as 3500.00.")]


def test_each_refusal_says_what_to_do() -> None:
    seen = {}
    for typed, code in TYPED_REFUSED:
        errors: list = []
        amount_cell(typed, 2, errors, number=False)
        seen[code] = errors[0]
    errors = []
    amount_cell(NumericText("2833.3333333333335"), 2, errors, number=True)
    assert seen.keys() == {"amount_decimal_comma", "amount_grouping", "amount_syntax", "amount_past_cents",
                           "amount_missing"}
    assert "450.50" in seen["amount_decimal_comma"].zh
    assert "3,000.50" in seen["amount_decimal_comma"].en
    assert "1,234,567.00" in seen["amount_grouping"].zh
    assert "groups of 3 digits" in seen["amount_grouping"].en
    assert "ROUND" in errors[0].zh
    assert "two decimals" in errors[0].en
    assert "删除该行" in seen["amount_missing"].zh


@pytest.mark.parametrize(("value", "shown"), [
    (2833.3333333333335, "2833.33333333333"), (0.1 + 0.2, "0.3"), (1e20, "1E+20"), (1.5e-7, "1.5E-07"),
    (123456789012345678.0, "1.23456789012346E+17"), (100.125, "100.125")])
def test_excel_general_format(value: float, shown: str) -> None:
    assert excel_general(value) == shown


def test_amounts_through_a_csv_sheet_refuse_the_row_and_read_the_others() -> None:
    data = ("证件类型,证件号码,姓名,账号,金额\r\n"
            '0,11010519491231002X,王伟,6222020200112345679,"450,50"\r\n'
            '0,11010519491231002X,李娜,6217000010012345677,"3,000.50"\r\n').encode()
    read = payroll_sheet_read(data=data, filename="工资.csv",
                              columns=ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5))
    assert [(e.code, e.row) for e in read.errors] == [("amount_decimal_comma", 2)]
    assert [(r.seq, r.amount) for r in read.rows] == [(3, Decimal("3000.50"))]
