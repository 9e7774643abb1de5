"""The reading API the client codes against: sheet_open, payroll_sheet_read, employee_sheet_read."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from payroll_exchange.errors import ExchangeError
from payroll_exchange.sheets import (
    ColumnMap,
    SheetInfo,
    SheetOptions,
    employee_sheet_read,
    payroll_sheet_read,
    sheet_open,
)

CARD = "6222020200112345679"
CARD2 = "6217000010012345677"
RESIDENT_ID = "11010519491231002X"
HEADINGS = ["证件类型", "证件号码", "姓名", "账号", "金额", "备注"]
PAYROLL_COLUMNS = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5, remark=6)
ROWS = [["居民身份证", RESIDENT_ID, "王伟", CARD, "8500.00", "三月工资"],
        ["1", "E12345678", "李娜", CARD2, "4350.50", None]]


def workbook_bytes(build) -> bytes:
    workbook = Workbook()
    build(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def one_sheet(workbook: Workbook) -> None:
    sheet = workbook.active
    sheet.title = "三月工资"
    for row in [HEADINGS, *ROWS]:
        sheet.append(row)


def test_payroll_sheet_read_gives_rows_and_what_was_read() -> None:
    read = payroll_sheet_read(data=workbook_bytes(one_sheet), filename="工资.xlsx", columns=PAYROLL_COLUMNS)
    assert read.errors == []
    assert [(r.seq, r.name, r.amount) for r in read.rows] == [(2, "王伟", Decimal("8500.00")),
                                                              (3, "李娜", Decimal("4350.50"))]
    assert read.info == SheetInfo(kind="xlsx", kind_zh="Excel 工作簿", kind_en="Excel workbook", sheet="三月工资",
                                  encoding=None, hidden_rows=(), hidden_rows_decision="refuse",
                                  headers=dict(enumerate(HEADINGS, 1)))


def test_employee_sheet_read_and_sheet_open_on_a_gbk_csv() -> None:
    text = "\r\n".join(["证件类型,证件号码,姓名,账号", f"0,{RESIDENT_ID},王伟,{CARD}"]).encode("gbk")
    read = employee_sheet_read(data=text, filename="员工.csv", columns=ColumnMap(name=3, account=4, id_type=1,
                                                                                id_number=2))
    assert [(r.seq, r.name, r.account) for r in read.rows] == [(2, "王伟", CARD)]
    assert (read.info.kind, read.info.kind_zh, read.info.encoding, read.info.sheet) == (
        "csv", "CSV 文本文件", "gb18030", None)
    info, rows = sheet_open(data=text, filename="员工.csv")
    assert info.headers == {}
    assert [number for number, _ in rows] == [1, 2]


def test_unknown_hidden_rows_option_is_refused() -> None:
    with pytest.raises(ExchangeError) as refused:
        sheet_open(data=workbook_bytes(one_sheet), filename="工资.xlsx", options=SheetOptions(hidden_rows="maybe"))
    assert refused.value.code == "sheet_option"
    assert "refuse, skip, include" in refused.value.en


def test_sheet_open_with_first_row_ignores_hidden_rows_above_the_data_and_gives_headers() -> None:
    def hidden_title(workbook: Workbook) -> None:
        sheet = workbook.active
        for row in [["批量开户 2026-03"], HEADINGS, *ROWS]:
            sheet.append(row)
        sheet.row_dimensions[1].hidden = True

    data = workbook_bytes(hidden_title)
    with pytest.raises(ExchangeError) as refused:
        sheet_open(data=data, filename="开户.xlsx")
    assert refused.value.code == "sheet_hidden_rows"
    info, rows = sheet_open(data=data, filename="开户.xlsx", first_row=3)
    assert (info.hidden_rows, info.headers[3]) == ((), "姓名")
    assert [number for number, _ in rows] == [1, 2, 3, 4]
