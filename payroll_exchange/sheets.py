"""What real spreadsheets produce: CSV (UTF-8 with or without BOM, GB18030/GBK), .xlsx, .xls.

``sheet_rows`` turns any of them into (row number as the user sees it, cells as text). Two kinds
of cell keep a marker class (still ``str``) because their text alone would mislead:

* ``NumericText``: the cell was a number. Excel keeps 15 significant digits, so a 16+ digit
  account or an 18-digit ID number stored as a number has already lost digits.
* ``FormulaText``: a formula without a cached value (a program wrote the sheet and nothing
  calculated it), so the value the user sees in Excel is not in the file.

The ``*_rows_from_sheet`` functions map columns to records and refuse such cells with advice.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from payroll_exchange.checks import account_normalize, id_type_parse
from payroll_exchange.errors import ExchangeError, RowError
from payroll_exchange.messages import row_error
from payroll_exchange.records import ID_TYPE_RESIDENT, EmployeeRow, PayrollRow

EXCEL_DIGITS = 15  # Excel stores numbers as doubles and shows at most 15 significant digits

# Normalizing an amount as typed: thousands separators, currency signs, full-width digits.
_AMOUNT_TABLE = str.maketrans("０１２３４５６７８９．", "0123456789.", " ,，¥￥元\u3000\xa0")
_ID_TABLE = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx", " \u3000\t\xa0")


class NumericText(str):
    """Text of a cell that the spreadsheet stored as a number."""

    __slots__ = ()


class FormulaText(str):
    """A formula cell that holds no calculated value (the text is the formula)."""

    __slots__ = ()


class ErrorText(str):
    """A cell holding an error value such as #N/A (a formula failed). Refused only where a
    column we read holds it: an error in a column the mapping ignores does not block the file."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which 1-based column holds what; the manual's defaults are id_type 1, id_number 2,
    name 3, account 4 and data from row 2. ``record_count`` (记录总数), when given, must
    equal the data rows found."""

    name: int
    account: int
    id_type: int
    id_number: int
    amount: int | None = None
    remark: int | None = None
    first_row: int = 2
    record_count: int | None = None


def _unreadable(zh: str, en: str, code: str = "sheet_unreadable") -> ExchangeError:
    return ExchangeError(code, f"无法读取表格：{zh}", f"cannot read the spreadsheet: {en}")


def _number_text(value: int | float) -> NumericText:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return NumericText(str(int(value)))
    return NumericText(repr(value) if isinstance(value, float) else str(value))


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str | None]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # a superset of GBK and GB2312: what Chinese Excel saves
        except UnicodeDecodeError:
            raise _unreadable("文件既不是 UTF-8 也不是 GBK/GB18030 编码。请另存为“CSV UTF-8”后重试。",
                              "the file is neither UTF-8 nor GBK/GB18030. Save it as CSV UTF-8 and try "
                              "again.", "sheet_encoding") from None
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    for number, record in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1):
        yield number, [cell if cell.strip() else None for cell in record]


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str | None]]]:
    # Our streaming reader (xlsx.py): openpyxl's values, one pass, a guarded expat parser, and
    # about 10× faster than openpyxl's read-only mode. Imported here: CSV must not pay for it.
    from payroll_exchange.xlsx import xlsx_rows

    for number, values in xlsx_rows(data=data):
        yield number, [_cell_text(v) for v in values]


def _xls_rows(data: bytes) -> Iterator[tuple[int, list[str | None]]]:
    import xlrd

    book = xlrd.open_workbook(file_contents=data)
    sheet = book.sheet_by_index(0)
    for r in range(sheet.nrows):
        cells: list[str | None] = []
        for kind, value in zip(sheet.row_types(r), sheet.row_values(r), strict=True):
            if kind == xlrd.XL_CELL_DATE:
                cells.append(xlrd.xldate.xldate_as_datetime(value, book.datemode).date().isoformat())
            elif kind == xlrd.XL_CELL_ERROR:
                cells.append(ErrorText(xlrd.error_text_from_code.get(value, "#ERROR")))
            elif kind == xlrd.XL_CELL_BOOLEAN:
                cells.append("TRUE" if value else "FALSE")
            else:
                cells.append(_cell_text(value))
        yield r + 1, cells


def _sheet_kind(data: bytes, filename: str) -> str:
    # The bytes decide before the name does: "工资.xls" is often an .xlsx renamed by hand.
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls"
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix in ("csv", "txt"):
        return "csv"
    raise _unreadable(f"不支持的文件类型 {filename!r}。请使用 .xlsx、.xls 或 .csv 文件。",
                      f"{filename!r} is not a supported file type. Use an .xlsx, .xls or .csv file.",
                      "sheet_type")


def sheet_rows(*, data: bytes, filename: str) -> Iterator[tuple[int, list[str | None]]]:
    """(row number as the user sees it, cells as text; empty cells None) of the first sheet.
    Blank rows are skipped; the numbers of the others stay those of the sheet."""
    kind = _sheet_kind(data, filename)
    reader = {"csv": _csv_rows, "xlsx": _xlsx_rows, "xls": _xls_rows}[kind]
    try:
        for number, cells in reader(data):
            if any(cell is not None for cell in cells):
                yield number, cells
    except ExchangeError:
        raise
    except Exception as exc:  # xlrd, zipfile and expat raise many types on a damaged file
        raise _unreadable(f"文件已损坏或不是有效的 {kind} 文件（{type(exc).__name__}）。请在 Excel 中打开并重新保存。",
                          f"the file is damaged or not a valid {kind} file ({type(exc).__name__}). Open it "
                          "in Excel and save it again.") from exc


# ---------------------------------------------------------------- columns → records


def _cell(cells: list[str | None], column: int | None) -> str | None:
    if column is None or column > len(cells):
        return None
    return cells[column - 1]


def _error_value_error(row: int, field: str, value: str) -> RowError:
    return row_error("cell_error_value", row, field,
                     f"是错误值 {value}（公式出错）。请在 Excel 中改正该单元格后重新导入。",
                     f"holds the error value {value} (a formula failed). Correct the cell in Excel and import again.")


def _unusable(text: str | None, row: int, field: str, errors: list[RowError]) -> bool:
    """A formula without a value or an error value cannot stand for data: say which, once."""
    if isinstance(text, FormulaText):
        errors.append(_formula_error(row, field))
        return True
    if isinstance(text, ErrorText):
        errors.append(_error_value_error(row, field, str(text)))
        return True
    return False


def _formula_error(row: int, field: str) -> RowError:
    return row_error("cell_formula", row, field,
                     "是没有计算结果的公式。请在 Excel 中打开表格，复制后“选择性粘贴 → 数值”，保存后重新导入。",
                     "is a formula with no calculated value. Open the sheet in Excel, copy and "
                     "Paste Special → Values, save, and import again.")


def _lost_digits_error(row: int, field: str, text: str) -> RowError:
    return row_error("number_lost_digits", row, field,
                     f"表格把 {text} 存成了数字，超过 15 位的部分已丢失。"
                     "请把该列设为“文本”格式，重新输入号码后再导入。",
                     f"the sheet stored {text} as a number, and digits past the 15th are lost. Format the "
                     "column as Text, type the numbers again, and import again.")


def _digits_cell(text: str | None, row: int, field: str, errors: list[RowError]) -> str | None:
    """Account and ID number cells. A number cell is accepted only while Excel keeps it exact
    (an integer of at most 15 digits); text in scientific notation (6.22202E+18) is the trace
    of a number that already lost its digits."""
    if text is None:
        return ""
    if _unusable(text, row, field, errors):
        return None
    stripped = text.strip()
    if isinstance(text, NumericText):
        if stripped.isdigit() and len(stripped) <= EXCEL_DIGITS:
            return stripped
        errors.append(_lost_digits_error(row, field, stripped))
        return None
    upper = stripped.upper()
    if "E+" in upper and upper.replace("E+", "", 1).replace(".", "", 1).isdigit():
        errors.append(_lost_digits_error(row, field, stripped))
        return None
    return stripped


def _amount_cell(text: str | None, row: int, errors: list[RowError]) -> Decimal | None:
    if _unusable(text, row, "amount", errors):
        return None
    value = (text or "").translate(_AMOUNT_TABLE)
    body = value[1:] if value[:1] == "-" else value
    if body and body.isascii() and body.replace(".", "", 1).isdigit():
        return Decimal(value)
    errors.append(row_error("amount_syntax", row, "amount",
                            f"{text or ''!r} 不是金额。请填写以元为单位的数字，如 3500.00。",
                            f"{text or ''!r} is not an amount. Enter a number of yuan such as 3500.00."))
    return None


def _text_cell(text: str | None, row: int, field: str, errors: list[RowError]) -> str | None:
    if _unusable(text, row, field, errors):
        return None
    return (text or "").strip()


def _person_cells(cells: list[str | None], row: int, columns: ColumnMap,
                  errors: list[RowError]) -> tuple[str, str, str, str] | None:
    """(id_type, id_number, name, account) or None when a cell cannot be used at all. An unknown
    ID type is kept as typed so that the checks name it."""
    id_type_text = _text_cell(_cell(cells, columns.id_type), row, "id_type", errors)
    id_number = _digits_cell(_cell(cells, columns.id_number), row, "id_number", errors)
    name = _text_cell(_cell(cells, columns.name), row, "name", errors)
    account = _digits_cell(_cell(cells, columns.account), row, "account", errors)
    if id_type_text is None or id_number is None or name is None or account is None:
        return None
    id_type = id_type_parse(id_type_text) or id_type_text
    if id_type == ID_TYPE_RESIDENT:
        id_number = id_number.translate(_ID_TABLE)
    return id_type, id_number, name, account_normalize(account)


def _count_check(columns: ColumnMap, found: int, errors: list[RowError]) -> None:
    if columns.record_count is not None and columns.record_count != found:
        errors.append(row_error("record_count_mismatch", None, "record_count",
                                f"填写的记录总数为 {columns.record_count}，表格中从第 {columns.first_row} 行起实际有 "
                                f"{found} 行数据。请核对记录总数和起始行号。",
                                f"you entered {columns.record_count} records, the sheet has {found} rows of data "
                                f"from row {columns.first_row}. Check the record count and the first row."))


def payroll_rows_from_sheet(*, data: bytes, filename: str,
                            columns: ColumnMap) -> tuple[list[PayrollRow], list[RowError]]:
    """Payroll rows (``seq`` = the sheet row, so every later error names the row the user sees)
    and the problems of reading them. A row with an unusable cell is reported and left out."""
    if columns.amount is None:
        raise ExchangeError("column_map", "请指定金额所在的列。", "choose the column that holds the amount.")
    rows: list[PayrollRow] = []
    errors: list[RowError] = []
    found = 0
    for number, cells in sheet_rows(data=data, filename=filename):
        if number < columns.first_row:
            continue
        found += 1
        before = len(errors)
        person = _person_cells(cells, number, columns, errors)
        amount = _amount_cell(_cell(cells, columns.amount), number, errors)
        remark = _text_cell(_cell(cells, columns.remark), number, "remark", errors)
        if len(errors) == before and person is not None and amount is not None and remark is not None:
            id_type, id_number, name, account = person
            rows.append(PayrollRow(number, account, name, amount, id_type, id_number, remark))
    _count_check(columns, found, errors)
    return rows, errors


def employee_rows_from_sheet(*, data: bytes, filename: str,
                             columns: ColumnMap) -> tuple[list[EmployeeRow], list[RowError]]:
    """Employee rows (``seq`` = the sheet row) and the problems of reading them."""
    rows: list[EmployeeRow] = []
    errors: list[RowError] = []
    found = 0
    for number, cells in sheet_rows(data=data, filename=filename):
        if number < columns.first_row:
            continue
        found += 1
        person = _person_cells(cells, number, columns, errors)
        if person is not None:
            id_type, id_number, name, account = person
            rows.append(EmployeeRow(number, id_type, id_number, name, account))
    _count_check(columns, found, errors)
    return rows, errors
