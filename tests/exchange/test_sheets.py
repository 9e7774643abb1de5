"""Spreadsheets as real programs write them: Excel-made .xlsx and .xls, GBK and BOM CSV."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
import xlwt
from openpyxl import Workbook

from payroll_exchange.checks import payroll_check
from payroll_exchange.errors import ExchangeError
from payroll_exchange.records import PayrollFile, PayrollHeader
from payroll_exchange.sheets import (
    ColumnMap,
    NumericText,
    employee_rows_from_sheet,
    payroll_rows_from_sheet,
    sheet_rows,
)

CARD = "6222020200112345679"  # valid Luhn: test_sheet_rows_pass_the_row_checks relies on it
CARD2 = "6217000010012345677"
RESIDENT_ID = "11010519491231002X"
HEADINGS = ["证件类型", "证件号码", "姓名", "账号", "金额", "备注"]
PAYROLL_COLUMNS = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5, remark=6)
EMPLOYEE_COLUMNS = ColumnMap(name=3, account=4, id_type=1, id_number=2)


def xlsx_of(*rows: list, merge_title: bool = False) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if merge_title:
        sheet.append(["2026年3月工资表"])
        sheet.merge_cells("A1:F1")
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xls_of(*rows: list) -> bytes:
    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("工资")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_of(*lines: str, encoding: str = "utf-8") -> bytes:
    return "\r\n".join(lines).encode(encoding) + b"\r\n"


def found(errors: list) -> list[tuple[str, int | None, str | None]]:
    return [(e.code, e.row, e.field) for e in errors]


GOOD = [["居民身份证", RESIDENT_ID, "王伟", CARD, "8500.00", "三月工资"],
        ["1", "E12345678", "李娜", CARD2, "4350.50", None]]


@pytest.mark.parametrize(("data", "filename"), [
    (xlsx_of(HEADINGS, *GOOD), "工资.xlsx"),
    (xls_of(HEADINGS, *GOOD), "工资.xls"),
    (csv_of(",".join(HEADINGS), *(",".join(c or "" for c in r) for r in GOOD)), "工资.csv"),
    (b"\xef\xbb\xbf" + csv_of(",".join(HEADINGS), *(",".join(c or "" for c in r) for r in GOOD)), "工资.csv"),
    (csv_of(",".join(HEADINGS), *(",".join(c or "" for c in r) for r in GOOD), encoding="gbk"), "工资.csv"),
    (csv_of("\t".join(HEADINGS), *("\t".join(c or "" for c in r) for r in GOOD), encoding="gb18030"), "工资.txt"),
    (xlsx_of(HEADINGS, *GOOD), "工资.xls"),  # an .xlsx renamed by hand: the bytes decide
])
def test_payroll_rows_from_each_kind_of_sheet(data: bytes, filename: str) -> None:
    rows, errors = payroll_rows_from_sheet(data=data, filename=filename, columns=PAYROLL_COLUMNS)
    assert errors == []
    assert [(r.seq, r.id_type, r.id_number, r.name, r.account, r.amount, r.remark) for r in rows] == [
        (2, "0", RESIDENT_ID, "王伟", CARD, Decimal("8500.00"), "三月工资"),
        (3, "1", "E12345678", "李娜", CARD2, Decimal("4350.50"), "")]


def test_sheet_rows_pass_the_row_checks() -> None:
    rows, _ = payroll_rows_from_sheet(data=xlsx_of(HEADINGS, *GOOD), filename="工资.xlsx", columns=PAYROLL_COLUMNS)
    header = PayrollHeader("1", "AG20260001", "310001234", "B202603001", date(2026, 3, 5), "CNY", 2,
                           Decimal("12850.50"), "工资")
    assert payroll_check(payroll=PayrollFile(header, rows), today=date(2026, 3, 2), single_limit=None) == []


def test_blank_lines_are_skipped_and_rows_keep_their_numbers() -> None:
    data = csv_of(",".join(HEADINGS), "", ",".join(GOOD[0][:5]), ",,,,,", ",".join(c or "" for c in GOOD[1]), "")
    rows, errors = payroll_rows_from_sheet(data=data, filename="工资.csv",
                                           columns=ColumnMap(**{**vars_of(PAYROLL_COLUMNS), "record_count": 2}))
    assert errors == []
    assert [r.seq for r in rows] == [3, 5]


def vars_of(columns: ColumnMap) -> dict:
    return {name: getattr(columns, name) for name in ColumnMap.__slots__}


def test_merged_title_cells_and_blank_rows_in_xlsx() -> None:
    data = xlsx_of(HEADINGS, GOOD[0], [], GOOD[1], merge_title=True)
    columns = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5, remark=6, first_row=3,
                        record_count=2)
    rows, errors = payroll_rows_from_sheet(data=data, filename="工资.xlsx", columns=columns)
    assert errors == []
    assert [(r.seq, r.name) for r in rows] == [(3, "王伟"), (5, "李娜")]


def test_record_count_that_differs_names_both_counts() -> None:
    columns = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5, record_count=16)
    rows, errors = payroll_rows_from_sheet(data=xlsx_of(HEADINGS, *GOOD), filename="工资.xlsx", columns=columns)
    assert len(rows) == 2
    assert found(errors) == [("record_count_mismatch", None, "record_count")]
    assert "记录总数为 16" in errors[0].zh
    assert "实际有 2 行" in errors[0].zh
    assert "you entered 16 records, the sheet has 2 rows" in errors[0].en


def test_formula_without_cached_value_is_refused_with_advice() -> None:
    # openpyxl writes formulas without a cached value, as any program that does not calculate.
    data = xlsx_of(HEADINGS, GOOD[0], ["0", RESIDENT_ID, "张强", CARD2, "=4000+350.5", ""])
    rows, errors = payroll_rows_from_sheet(data=data, filename="工资.xlsx", columns=PAYROLL_COLUMNS)
    assert found(errors) == [("cell_formula", 3, "amount")]
    assert "选择性粘贴 → 数值" in errors[0].zh
    assert "Paste Special → Values" in errors[0].en
    assert [r.seq for r in rows] == [2]


def test_nineteen_digit_account_stored_as_number_is_refused() -> None:
    data = xlsx_of(HEADINGS, ["0", RESIDENT_ID, "王伟", 6222020200112345679, 8500, ""])
    rows, errors = payroll_rows_from_sheet(data=data, filename="工资.xlsx", columns=PAYROLL_COLUMNS)
    assert rows == []
    assert found(errors) == [("number_lost_digits", 2, "account")]
    assert "设为“文本”格式" in errors[0].zh
    assert "Format the column as Text" in errors[0].en


def test_id_number_stored_as_number_in_xls_is_refused() -> None:
    data = xls_of(HEADINGS, ["0", 110105194912310021.0, "王伟", CARD, 8500.0, None])
    _, errors = payroll_rows_from_sheet(data=data, filename="工资.xls", columns=PAYROLL_COLUMNS)
    assert found(errors) == [("number_lost_digits", 2, "id_number")]


def test_scientific_notation_text_from_csv_is_refused() -> None:
    data = csv_of(",".join(HEADINGS), f"0,{RESIDENT_ID},王伟,6.22202E+18,8500,")
    _, errors = payroll_rows_from_sheet(data=data, filename="工资.csv", columns=PAYROLL_COLUMNS)
    assert found(errors) == [("number_lost_digits", 2, "account")]


def test_short_account_stored_as_number_is_kept_exact() -> None:
    # 12 digits: within Excel's 15, so the number is exact and the digits can be trusted.
    data = xlsx_of(HEADINGS, ["1", "E12345678", "王伟", 310012345678, 8500.5, ""])
    rows, errors = payroll_rows_from_sheet(data=data, filename="工资.xlsx", columns=PAYROLL_COLUMNS)
    assert errors == []
    assert (rows[0].account, rows[0].amount) == ("310012345678", Decimal("8500.5"))


@pytest.mark.parametrize(("account", "amount", "id_number", "expected"), [
    ("６２２２ ０２０２ ００１１ ２３４５ ６７９", "8,500.00", RESIDENT_ID, (CARD, Decimal("8500.00"), RESIDENT_ID)),
    ("6222-0202-0011-2345-679", "￥8500", "110105 19491231 002ｘ", (CARD, Decimal("8500"), "11010519491231002x")),
    (" 6222020200112345679 ", "８５００．００元", "１１０１０５１９４９１２３１００２Ｘ",
     (CARD, Decimal("8500.00"), RESIDENT_ID)),
])
def test_cells_are_normalized(account: str, amount: str, id_number: str, expected: tuple) -> None:
    data = xlsx_of(HEADINGS, ["居民身份证", id_number, "王伟", account, amount, ""])
    rows, errors = payroll_rows_from_sheet(data=data, filename="工资.xlsx", columns=PAYROLL_COLUMNS)
    assert errors == []
    assert (rows[0].account, rows[0].amount, rows[0].id_number) == expected


def test_unreadable_and_missing_amounts() -> None:
    data = csv_of(",".join(HEADINGS), f"驾驶证,{RESIDENT_ID},王伟,{CARD},八千,", f"0,{RESIDENT_ID},李娜,{CARD2},,")
    rows, errors = payroll_rows_from_sheet(data=data, filename="工资.csv", columns=PAYROLL_COLUMNS)
    assert found(errors) == [("amount_syntax", 2, "amount"), ("amount_missing", 3, "amount")]
    assert rows == []


def test_unknown_id_type_is_kept_for_the_checks_to_name() -> None:
    data = csv_of(",".join(HEADINGS), f"驾驶证,{RESIDENT_ID},王伟,{CARD},100,")
    rows, errors = payroll_rows_from_sheet(data=data, filename="工资.csv", columns=PAYROLL_COLUMNS)
    assert errors == []
    assert rows[0].id_type == "驾驶证"


def test_employee_rows_with_manual_default_columns() -> None:
    data = xls_of(["证件类型", "证件号码", "客户", "客户账号"], ["居民身份证", RESIDENT_ID, "王伟", CARD],
                  ["护照", "E12345678", "李娜", CARD2])
    rows, errors = employee_rows_from_sheet(data=data, filename="员工.xls",
                                            columns=ColumnMap(name=3, account=4, id_type=1, id_number=2,
                                                              record_count=2))
    assert errors == []
    assert [(r.seq, r.id_type, r.id_number, r.name, r.account) for r in rows] == [
        (2, "0", RESIDENT_ID, "王伟", CARD), (3, "1", "E12345678", "李娜", CARD2)]


def test_sheet_rows_marks_number_cells() -> None:
    rows = list(sheet_rows(data=xlsx_of(["a", 12, 1.5, None, "b"]), filename="a.xlsx"))
    assert rows == [(1, ["a", "12", "1.5", None, "b"])]
    assert [type(c) for c in rows[0][1]] == [str, NumericText, NumericText, type(None), str]


@pytest.mark.parametrize(("data", "filename", "code"), [
    (b"PK\x03\x04 not really a zip", "工资.xlsx", "sheet_unreadable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "工资.xls", "sheet_xls_damaged"),
    (b"%PDF-1.7", "工资.pdf", "sheet_type"),
    (b"\xff\xfe\x00\xd8\x81", "工资.csv", "sheet_encoding"),
])
def test_unreadable_sheets_are_refused_as_a_whole(data: bytes, filename: str, code: str) -> None:
    with pytest.raises(ExchangeError) as refused:
        payroll_rows_from_sheet(data=data, filename=filename, columns=PAYROLL_COLUMNS)
    assert refused.value.code == code
    assert refused.value.zh.startswith("无法读取表格")


def test_payroll_needs_an_amount_column() -> None:
    with pytest.raises(ExchangeError) as refused:
        payroll_rows_from_sheet(data=csv_of("a"), filename="a.csv", columns=EMPLOYEE_COLUMNS)
    assert refused.value.code == "column_map"
