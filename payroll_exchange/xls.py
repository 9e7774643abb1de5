"""The .xls reader (BIFF5/BIFF8 in a Compound File) on xlrd, with the .xlsx reader's rules:
the same sheet choice, hidden rows and columns reported, dates through the same number-format
rules (so one cell gives the same text in both formats), and only ExchangeError raised.

xlrd is given a sink for its log: by default it prints warnings to stdout, which the client
uses for its own output."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import Any

from payroll_exchange.cells import (
    VISIBLE,
    ErrorText,
    SheetData,
    cell_text,
    sheet_choose,
    unreadable,
)
from payroll_exchange.exceldates import MAC_EPOCH, WINDOWS_EPOCH, format_kind, from_excel
from payroll_exchange.sheetkind import biff_old_refused

_STATES = {0: VISIBLE, 1: "hidden", 2: "veryHidden"}
# What xlrd raises from inside its parser on a damaged file, besides its own XLRDError: caught
# at this boundary only, as one code for "the .xls structure is damaged".
_XLRD_FAILURES = (struct.error, IndexError, KeyError, ValueError, AssertionError, UnicodeDecodeError,
                  OverflowError, TypeError, ZeroDivisionError, AttributeError, EOFError, LookupError,
                  RecursionError)  # compdoc walks a directory tree whose loops a damaged file can make deep


def _damaged(detail: str, part_zh: str = "", part_en: str = "") -> Exception:
    # ``detail`` is xlrd's own (English) words; the part it names is said in each language.
    return unreadable(f"文件已损坏或不是有效的 .xls 文件（{part_zh}{detail}）。请在 Excel 中打开并重新保存。",
                      f"the file is damaged or not a valid .xls file ({part_en}{detail}). Open it in Excel and "
                      "save it again.", "sheet_xls_damaged")


def encrypted_refused() -> Exception:
    return unreadable("工作簿设有打开密码（已加密），不能读取。请在 Excel 中输入密码打开，"
                      "在“文件 → 信息 → 保护工作簿 → 用密码进行加密”中删除密码，"
                      "再另存为“Excel 工作簿 (*.xlsx)”后重新导入。",
                      "the workbook is protected by a password (encrypted) and cannot be read. Open it in Excel "
                      "with the password, remove it under File → Info → Protect Workbook → Encrypt with Password, "
                      'then save it as "Excel Workbook (*.xlsx)" and import again.', "sheet_encrypted")


def _streams(data: bytes, sink: io.StringIO) -> tuple[Any, set[str]]:
    from xlrd import compdoc

    try:
        document = compdoc.CompDoc(data, logfile=sink)
    except (compdoc.CompDocError, *_XLRD_FAILURES) as exc:
        raise _damaged(str(exc), "复合文档结构：", "compound document: ") from None
    return document, {entry.name for entry in document.dirlist}


_BOF, _EOF, _BOUNDSHEET, _FORMULA = 0x0809, 0x000A, 0x0085, 0x0006


def _records(stream: bytes, start: int) -> Iterator[tuple[int, int]]:
    """(record id, position of its body) of one BOF…EOF substream (embedded charts skipped)."""
    depth = 0
    position = start
    while position + 4 <= len(stream):
        record, length = struct.unpack_from("<HH", stream, position)
        if record == _BOF:
            depth += 1
        elif record == _EOF:
            depth -= 1
            if depth <= 0:
                return
        elif depth == 1:
            yield record, position + 4
        position += 4 + length


def _zero_formulas(stream: bytes) -> list[set[tuple[int, int]]]:
    """For each worksheet, the (row, column) of its formula cells whose cached result is the
    number 0. LibreOffice's .xls writer stores every text result so, "" included: a template row
    of =IF(A7="","",…) holds nothing but such cells, and is blank on screen."""
    positions = [struct.unpack_from("<I", stream, body)[0] for record, body in _records(stream, 0)
                 if record == _BOUNDSHEET and stream[body + 5] == 0]  # type 0: a worksheet
    found = []
    for start in positions:
        cells = set()
        for record, body in _records(stream, start):
            if record == _FORMULA and stream[body + 6:body + 14] == bytes(8):
                cells.add(struct.unpack_from("<HH", stream, body))
        found.append(cells)
    return found


def _book(data: bytes) -> tuple[Any, list[set[tuple[int, int]]]]:
    """xlrd's book, and each worksheet's formula cells that cached the number 0."""
    import xlrd
    from xlrd.compdoc import CompDocError
    from xlrd.formula import FormulaError

    sink = io.StringIO()
    document, streams = _streams(data, sink)
    if "EncryptedPackage" in streams or "EncryptionInfo" in streams:
        raise encrypted_refused()  # an .xlsx saved with a password: the zip is inside, encrypted
    if not streams & {"Workbook", "Book", "WORKBOOK", "BOOK"}:
        raise unreadable("文件是复合文档（如 Word 或其他 Office 文件），但其中没有 Excel 工作簿。",
                         "the file is a Compound File (such as a Word or other Office file) but holds no "
                         "Excel workbook.", "sheet_type")
    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, logfile=sink, verbosity=0)
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise encrypted_refused() from None
        raise _damaged(str(exc)) from None
    except CompDocError as exc:
        raise _damaged(str(exc), "复合文档结构：", "compound document: ") from None
    except FormulaError as exc:  # xlrd's formula decoder, not an XLRDError
        raise _damaged(str(exc), "公式：", "formula: ") from None
    except _XLRD_FAILURES as exc:
        raise _damaged(type(exc).__name__) from None
    if book.biff_version and book.biff_version < 50:
        raise biff_old_refused(f"BIFF{book.biff_version // 10}")
    try:
        stream = bytes(document.get_named_stream("Workbook" if "Workbook" in streams else "Book") or b"")
        zero_formulas = _zero_formulas(stream)
    except (CompDocError, *_XLRD_FAILURES):  # xlrd read it: the template-row rule is a refinement
        zero_formulas = []
    return book, zero_formulas


def _has_data(sheet: Any) -> bool:
    import xlrd

    for r in range(sheet.nrows):
        for kind, value in zip(sheet.row_types(r), sheet.row_values(r), strict=True):
            if kind not in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK) and str(value).strip():
                return True
    return False


def _format_kinds(book: Any) -> dict[int, str | None]:
    """xf index → DATE / TIME_OF_DAY / DURATION / None, as the .xlsx reader decides it."""
    kinds: dict[int, str | None] = {}
    for index, xf in enumerate(book.xf_list):
        found = book.format_map.get(xf.format_key)
        kinds[index] = format_kind(xf.format_key, found.format_str if found is not None else None)
    return kinds


def _rows(book: Any, sheet: Any, zero_formulas: set[tuple[int, int]]) -> list[tuple[int, list[str | None]]]:
    import xlrd

    epoch = MAC_EPOCH if book.datemode else WINDOWS_EPOCH
    kinds = _format_kinds(book)
    rows: list[tuple[int, list[str | None]]] = []
    for r in range(sheet.nrows):
        cells: list[str | None] = []
        for c, (kind, value) in enumerate(zip(sheet.row_types(r), sheet.row_values(r), strict=True)):
            if kind in (xlrd.XL_CELL_NUMBER, xlrd.XL_CELL_DATE):
                shown = kinds.get(sheet.cell_xf_index(r, c))
                if shown is not None:
                    try:
                        value = from_excel(value, epoch, shown)
                    except (OverflowError, ValueError):
                        raise unreadable(f"第 {r + 1} 行第 {c + 1} 列是日期格式，但数值 {value!r} 超出日期范围。"
                                         "请在 Excel 中改正该单元格后重新导入。",
                                         f"row {r + 1}, column {c + 1} is formatted as a date, but {value!r} "
                                         "is outside the range of dates. Correct the cell in Excel and import "
                                         "again.", "cell_error") from None
                cells.append(cell_text(value))
            elif kind == xlrd.XL_CELL_ERROR:
                cells.append(ErrorText(xlrd.error_text_from_code.get(value, "#ERROR")))
            elif kind == xlrd.XL_CELL_BOOLEAN:
                cells.append("TRUE" if value else "FALSE")
            else:
                cells.append(cell_text(value))
        if cells.count(None) != len(cells) and not (
                zero_formulas and all((r, c) in zero_formulas for c, cell in enumerate(cells) if cell is not None)):
            rows.append((r + 1, cells))
    return rows


def xls_read(data: bytes, *, sheet: str | None = None) -> SheetData:
    """The chosen worksheet of an .xls (see ``cells.sheet_choose``). Raises only ExchangeError."""
    book, zero_formulas = _book(data)
    try:
        sheets = [(s.name, _STATES.get(s.visibility, "hidden")) for s in book.sheets()]
        index = sheet_choose(sheets, sheet, lambda i: _has_data(book.sheet_by_index(i)))
        chosen = book.sheet_by_index(index)
        rows = _rows(book, chosen, zero_formulas[index] if index < len(zero_formulas) else set())
        hidden_rows = frozenset(r + 1 for r, info in chosen.rowinfo_map.items() if info.hidden)
        hidden_columns = tuple(sorted(c + 1 for c, info in chosen.colinfo_map.items() if info.hidden))
        filtered = any("FilterDatabase" in (name.name or "") for name in book.name_obj_list
                       if name.scope in (-1, index))
    except _XLRD_FAILURES as exc:
        raise _damaged(type(exc).__name__) from None
    return SheetData("xls", chosen.name, None, rows, hidden_rows, hidden_columns, filtered)
