"""What real spreadsheets produce: CSV and tab-separated text (UTF-8, UTF-16, GB18030 when
plausible, or the encoding given), .xlsx, .xls; and the rows they hold as payroll or employee rows.

``sheet_open`` chooses the reader by the bytes (``sheetkind.py``), the worksheet (the one visible
sheet with data, or ``--sheet``) and applies the hidden-row decision; it gives (row number as
the user sees it, cells as text). Cells that would mislead keep a marker class (``cells.py``):
``NumericText`` (a number cell), ``FormulaText`` (a formula nothing calculated), ``ErrorText``.

``payroll_sheet_read`` / ``employee_sheet_read`` map columns to records and refuse such cells
with advice; ``sheet_rows`` and the ``*_rows_from_sheet`` functions are the older entry points.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from payroll_exchange.amounts import amount_cell
from payroll_exchange.cells import ErrorText, FormulaText, NumericText, SheetData, unreadable
from payroll_exchange.checks import account_normalize, id_type_parse
from payroll_exchange.columnar import cycle_collection_paused, payroll_sheet_columnar
from payroll_exchange.errors import ExchangeError, RowError
from payroll_exchange.messages import row_error
from payroll_exchange.records import ID_TYPE_RESIDENT, EmployeeRow, PayrollRow
from payroll_exchange.totals import payroll_totals_check

__all__ = ["ColumnMap", "ErrorText", "FormulaText", "NumericText", "SheetInfo", "SheetOptions", "SheetRead",
           "employee_rows_from_sheet", "employee_sheet_read", "payroll_rows_from_sheet", "payroll_sheet_read",
           "sheet_open", "sheet_rows"]

EXCEL_DIGITS = 15  # Excel stores numbers as doubles and shows at most 15 significant digits

_ID_TABLE = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx", " \u3000\t\xa0")


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


HIDDEN_ROWS_CHOICES = ("refuse", "skip", "include")  # --hidden-rows


@dataclass(frozen=True, slots=True)
class SheetOptions:
    """What the user decided about the input sheet (the client's options of the same names)."""

    sheet: str | None = None  # --sheet NAME: read this worksheet, even a hidden one
    hidden_rows: str = "refuse"  # --hidden-rows: "refuse" | "skip" | "include" hidden/filtered rows
    encoding: str | None = None  # --encoding, text files only: used as given


@dataclass(frozen=True, slots=True)
class SheetInfo:
    """What was read, for the review (换人复核), the checklist and the history (信息查询)."""

    kind: str  # "xlsx" | "xls" | "csv" | "tsv"
    kind_zh: str  # e.g. "Excel 工作簿", "制表符分隔的文本文件", "CSV 文本文件"
    kind_en: str
    sheet: str | None  # the worksheet read (None for text files)
    encoding: str | None  # text files: the encoding used
    hidden_rows: tuple[int, ...]  # hidden/filtered rows holding data (sheet row numbers)
    hidden_rows_decision: str  # the option applied
    headers: dict[int, str]  # 1-based column → header text of row first_row - 1 (empty if none)
    hidden_columns: tuple[int, ...] = ()  # hidden columns (1-based) up to the widest row
    note_zh: str = ""  # a remark for the review, e.g. a .xls name read as tab-separated text
    note_en: str = ""


class SheetRead(NamedTuple):
    rows: list  # PayrollRow / EmployeeRow
    errors: list  # RowError
    info: SheetInfo


_TEXT_KINDS = ("csv", "tsv")  # textsheet.py gives plain str cells (or None), never a marker class
_KINDS = {"xlsx": ("Excel 工作簿", "Excel workbook"), "xls": ("Excel 97-2003 工作簿", "Excel 97-2003 workbook"),
          "csv": ("CSV 文本文件", "CSV text file"), "tsv": ("制表符分隔的文本文件", "tab-separated text file")}


def _sheet_load(data: bytes, filename: str, options: SheetOptions) -> tuple[SheetData, str, str]:
    """The reader's result, and a note for the review (zh, en)."""
    from payroll_exchange.sheetkind import sheet_kind

    if options.hidden_rows not in HIDDEN_ROWS_CHOICES:
        raise ExchangeError("sheet_option", f"--hidden-rows 只能是 {'、'.join(HIDDEN_ROWS_CHOICES)}。",
                            f"--hidden-rows must be one of {', '.join(HIDDEN_ROWS_CHOICES)}.")
    kind = sheet_kind(data, filename)
    if kind == "xlsx":
        # Imported here: a CSV must not pay for the spreadsheet readers.
        from payroll_exchange.xlsx import xlsx_read

        return xlsx_read(data, sheet=options.sheet), "", ""
    if kind == "xls":
        from payroll_exchange.xls import xls_read

        return xls_read(data, sheet=options.sheet), "", ""
    from payroll_exchange.textsheet import text_rows

    tab_only = kind == "tsv-xls"
    found, used, rows = text_rows(data, filename=filename, encoding=options.encoding, tab_only=tab_only)
    if tab_only:
        return (SheetData(found, None, used, rows), f"“{filename}”不是 Excel 文件，按制表符分隔的文本文件读取。",
                f"{filename!r} is not an Excel file; it was read as a tab-separated text file.")
    return SheetData(found, None, used, rows), "", ""


def _row_list(numbers: list[int]) -> tuple[str, str]:
    shown = numbers[:20]
    more_zh = f" 等 {len(numbers)} 行" if len(numbers) > len(shown) else ""
    more_en = f" and more ({len(numbers)} rows)" if len(numbers) > len(shown) else ""
    return "、".join(map(str, shown)) + more_zh, ", ".join(map(str, shown)) + more_en


def _hidden_rows_refused(numbers: list[int], filtered: bool, sheet: str | None) -> ExchangeError:
    rows_zh, rows_en = _row_list(numbers)
    where_zh = f"工作表“{sheet}”的" if sheet else ""
    where_en = f" of the worksheet {sheet!r}" if sheet else ""
    how_zh = "被隐藏或被筛选掉" if filtered else "被隐藏"
    how_en = "hidden or filtered out" if filtered else "hidden"
    return unreadable(f"{where_zh}第 {rows_zh} 行{how_zh}，屏幕上看不到，却会被读取。请在 Excel 中取消隐藏"
                      "（或清除筛选）后核对；或用“--hidden-rows skip”不读这些行，“--hidden-rows include”照常读取。",
                      f"row{'s' if len(numbers) > 1 else ''} {rows_en}{where_en} {'are' if len(numbers) > 1 else 'is'} "
                      f"{how_en}: not on screen, yet they would be read. Unhide them (or clear the filter) in "
                      "Excel and check them; or give --hidden-rows skip to leave them out, --hidden-rows include "
                      "to read them.", "sheet_hidden_rows")


def _sheet_open(*, data: bytes, filename: str, options: SheetOptions,
                first_row: int = 1) -> tuple[SheetInfo, list[tuple[int, list[str | None]]]]:
    """As ``sheet_open``; hidden rows above ``first_row`` (titles, headers) do not count."""
    found, note_zh, note_en = _sheet_load(data, filename, options)
    hidden = [number for number, _ in found.rows if number in found.hidden_rows and number >= first_row] \
        if found.hidden_rows else []
    if hidden and options.hidden_rows == "refuse":
        raise _hidden_rows_refused(hidden, found.filtered, found.sheet)
    rows = found.rows
    if hidden and options.hidden_rows == "skip":
        left_out = set(hidden)
        rows = [(number, cells) for number, cells in rows if number not in left_out]
    headers: dict[int, str] = {}
    for number, cells in found.rows:
        if number == first_row - 1:
            headers = {column: cell.strip() for column, cell in enumerate(cells, 1) if cell is not None}
        if number >= first_row - 1:
            break
    kind_zh, kind_en = _KINDS[found.kind]
    info = SheetInfo(found.kind, kind_zh, kind_en, found.sheet, found.encoding, tuple(hidden), options.hidden_rows,
                     headers, found.hidden_columns, note_zh, note_en)
    return info, rows


def sheet_open(*, data: bytes, filename: str, options: SheetOptions = SheetOptions(),
               first_row: int = 1) -> tuple[SheetInfo, Iterator[tuple[int, list[str | None]]]]:
    """(what was read, its non-blank rows: (row number as the user sees it, cells as text; empty
    cells None)). Hidden or filtered rows holding data are refused unless ``options.hidden_rows``
    says "skip" or "include"; with ``first_row`` (where the data starts), hidden rows above it
    (titles, headings) do not count and ``SheetInfo.headers`` is row ``first_row - 1``. Every row
    is still given. Raises only ExchangeError."""
    info, rows = _sheet_open(data=data, filename=filename, options=options, first_row=first_row)
    return info, iter(rows)


def sheet_rows(*, data: bytes, filename: str) -> Iterator[tuple[int, list[str | None]]]:
    """(row number as the user sees it, cells as text; empty cells None) of the sheet that
    ``sheet_open`` chooses, with its default options. Blank rows are skipped; the numbers of the
    others stay those of the sheet."""
    _, rows = sheet_open(data=data, filename=filename)
    yield from rows


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
    """The amount in yuan (at most two places), or None with the reason appended (amounts.py)."""
    if _unusable(text, row, "amount", errors):
        return None
    return amount_cell(text, row, errors, number=isinstance(text, NumericText))


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


_MAPPED = ("id_type", "id_number", "name", "account", "amount", "remark")


def _hidden_columns_check(columns: ColumnMap, info: SheetInfo) -> None:
    """A mapped column the user cannot see is refused like hidden rows: what would be paid is
    not on screen. ``--hidden-rows include`` reads it (the user has looked)."""
    if not info.hidden_columns or info.hidden_rows_decision == "include":
        return
    hidden = set(info.hidden_columns)
    found = [(field, column) for field in _MAPPED if (column := getattr(columns, field)) in hidden]
    if not found:
        return
    from payroll_exchange.messages import field_label

    zh = "、".join(f"第 {column} 列（{field_label(field)}）" for field, column in found)
    en = ", ".join(f"column {column} ({field_label(field, 'en')})" for field, column in found)
    raise unreadable(f"{zh}被隐藏，屏幕上看不到，却会被读取。请在 Excel 中取消隐藏该列并核对后重新导入"
                     "（或用“--hidden-rows include”照常读取）。",
                     f"{en} {'is' if len(found) == 1 else 'are'} hidden: not on screen, yet it would be read. "
                     "Unhide it in Excel, check it and import again (or give --hidden-rows include to read it).",
                     "sheet_hidden_columns")


def _mapped_open(data: bytes, filename: str, columns: ColumnMap,
                 options: SheetOptions) -> tuple[SheetInfo, list[tuple[int, list[str | None]]]]:
    info, rows = _sheet_open(data=data, filename=filename, options=options, first_row=columns.first_row)
    _hidden_columns_check(columns, info)
    # Rows are in sheet order: the data starts at the first row numbered first_row or more.
    start = bisect_left(rows, columns.first_row, key=lambda row: row[0])
    return info, rows[start:]


# ---------------------------------------------------------------- H1b: total rows and units
def _payroll_total_rows_check(*, sheet: list[tuple[int, list[str | None]]], rows: list[PayrollRow],
                              errors: list[RowError], info: SheetInfo, columns: ColumnMap) -> int:
    """Total rows (合计/总计/小计, or a sum of the rows above) and amount units (万元/千元), in
    totals.py. Returns the trailing rows left out because the record count ends before them."""
    return payroll_totals_check(sheet=sheet, rows=rows, errors=errors, headers=info.headers,
                                amount_column=columns.amount or 0, first_row=columns.first_row,
                                record_count=columns.record_count)
# ---------------------------------------------------------------- end of H1b's section


def payroll_sheet_read(*, data: bytes, filename: str, columns: ColumnMap,
                       options: SheetOptions = SheetOptions()) -> SheetRead:
    with cycle_collection_paused():
        return _payroll_sheet_read(data=data, filename=filename, columns=columns, options=options)


def _payroll_sheet_read(*, data: bytes, filename: str, columns: ColumnMap, options: SheetOptions) -> SheetRead:
    """Payroll rows (``seq`` = the sheet row, so every later error names the row the user sees),
    the problems of reading them, and what was read. A row with an unusable cell is reported and
    left out. Raises ExchangeError when the sheet cannot be read as a whole."""
    if columns.amount is None:
        raise ExchangeError("column_map", "请指定金额所在的列。", "choose the column that holds the amount.")
    info, sheet = _mapped_open(data, filename, columns, options)
    errors: list[RowError] = []
    # A sheet with no cell problem is read column by column (columnar.py); any other by the row loop.
    rows = payroll_sheet_columnar(sheet, columns, id_type_parse, account_normalize, _ID_TABLE,
                                  marked=info.kind not in _TEXT_KINDS)
    if rows is None:
        rows = _payroll_cells_read(sheet, columns, errors)
    left_out = _payroll_total_rows_check(sheet=sheet, rows=rows, errors=errors, info=info, columns=columns)
    _count_check(columns, len(sheet) - left_out, errors)
    return SheetRead(rows, errors, info)


def _payroll_cells_read(sheet: list[tuple[int, list[str | None]]], columns: ColumnMap,
                        errors: list[RowError]) -> list[PayrollRow]:
    """The row loop: a PayrollRow for each row whose cells are all usable, the problems of the others."""
    rows: list[PayrollRow] = []
    for number, cells in sheet:
        before = len(errors)
        person = _person_cells(cells, number, columns, errors)
        amount = _amount_cell(_cell(cells, columns.amount), number, errors)
        remark = _text_cell(_cell(cells, columns.remark), number, "remark", errors)
        if len(errors) == before and person is not None and amount is not None and remark is not None:
            id_type, id_number, name, account = person
            rows.append(PayrollRow(number, account, name, amount, id_type, id_number, remark))
    return rows


def employee_sheet_read(*, data: bytes, filename: str, columns: ColumnMap,
                        options: SheetOptions = SheetOptions()) -> SheetRead:
    """Employee rows (``seq`` = the sheet row), the problems of reading them, what was read."""
    with cycle_collection_paused():
        return _employee_sheet_read(data=data, filename=filename, columns=columns, options=options)


def _employee_sheet_read(*, data: bytes, filename: str, columns: ColumnMap, options: SheetOptions) -> SheetRead:
    info, sheet = _mapped_open(data, filename, columns, options)
    rows: list[EmployeeRow] = []
    errors: list[RowError] = []
    for number, cells in sheet:
        person = _person_cells(cells, number, columns, errors)
        if person is not None:
            id_type, id_number, name, account = person
            rows.append(EmployeeRow(number, id_type, id_number, name, account))
    _count_check(columns, len(sheet), errors)
    return SheetRead(rows, errors, info)


def payroll_rows_from_sheet(*, data: bytes, filename: str,
                            columns: ColumnMap) -> tuple[list[PayrollRow], list[RowError]]:
    """``payroll_sheet_read`` with the default options, without the SheetInfo."""
    rows, errors, _ = payroll_sheet_read(data=data, filename=filename, columns=columns)
    return rows, errors


def employee_rows_from_sheet(*, data: bytes, filename: str,
                             columns: ColumnMap) -> tuple[list[EmployeeRow], list[RowError]]:
    """``employee_sheet_read`` with the default options, without the SheetInfo."""
    rows, errors, _ = employee_sheet_read(data=data, filename=filename, columns=columns)
    return rows, errors
