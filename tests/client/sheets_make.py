"""Spreadsheets as enterprises really send them, written for the tests."""

from __future__ import annotations

import io
from decimal import Decimal

from payroll_exchange.checks import resident_id_check_char

HEADER = ["证件类型", "证件号码", "姓名", "账号", "金额", "备注"]


def resident_id(n: int) -> str:
    first17 = f"31010119{80 + n % 20:02d}0{1 + n % 9}1{n % 10}{n % 1000:03d}"[:17]
    return first17 + resident_id_check_char(first17)


def account(n: int) -> str:
    # Not beginning with 62: an ordinary account (9–20 digits), no Luhn check applies.
    return f"1001{n:012d}"


def payroll_rows(count: int, *, start: int = 1) -> list[list[str]]:
    """The manual's column order: ID type 1, ID number 2, name 3, account 4 (+ amount, remark)."""
    return [["0", resident_id(n), f"员工{n}", account(n), f"{1000 + n}.50", "十二月工资"]
            for n in range(start, start + count)]


def rows_total(rows: list[list[str]]) -> Decimal:
    return sum((Decimal(r[4]) for r in rows), Decimal("0.00"))


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8-sig", blank_lines: bool = False) -> bytes:
    lines = [",".join(HEADER)]
    for i, row in enumerate(rows):
        lines.append(",".join(row))
        if blank_lines and i % 2 == 0:
            lines.append(",,,,,")
            lines.append("")
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows: list[list[object]], *, title_row: str | None = None, merged_header: bool = False) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    if title_row:
        sheet.append([title_row])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
    if merged_header:
        # A two-row header: "证件" spans ID type and ID number, "收款人" spans name and account.
        top = sheet.max_row + 1 if title_row else 1
        sheet.cell(row=top, column=1, value="证件")
        sheet.merge_cells(start_row=top, start_column=1, end_row=top, end_column=2)
        sheet.cell(row=top, column=3, value="收款人")
        sheet.merge_cells(start_row=top, start_column=3, end_row=top, end_column=4)
        sheet.cell(row=top, column=5, value="金额")
        sheet.merge_cells(start_row=top, start_column=5, end_row=top + 1, end_column=5)
        for column, label in enumerate(["类型", "号码", "姓名", "账号"], 1):
            sheet.cell(row=top + 1, column=column, value=label)
    else:
        sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xls_bytes(rows: list[list[str]]) -> bytes:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("工资")
    for column, label in enumerate(HEADER):
        sheet.write(0, column, label)
    for r, row in enumerate(rows, 1):
        for column, value in enumerate(row):
            sheet.write(r, column, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
