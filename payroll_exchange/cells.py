"""Cell markers and refusals shared by the spreadsheet readers (xlsx, xls, text).

Two kinds of cell keep a marker class (still ``str``) because their text alone would mislead:

* ``NumericText``: the cell was a number. Excel keeps 15 significant digits, so a 16+ digit
  account or an 18-digit ID number stored as a number has already lost digits. A non-integral
  number keeps Python's ``repr`` of the stored double (``3300.0000000000005``): the amount code
  decides what it means.
* ``FormulaText``: a formula without a cached value (a program wrote the sheet and nothing
  calculated it), so the value the user sees in Excel is not in the file.
* ``ErrorText``: an error value such as ``#N/A``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from payroll_exchange.errors import ExchangeError


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


SAVE_AS_XLSX_ZH = "请在 Excel 或 WPS 中打开，另存为“Excel 工作簿 (*.xlsx)”后重新导入。"
SAVE_AS_XLSX_EN = 'Open it in Excel or WPS, save it as "Excel Workbook (*.xlsx)" and import again.'


def unreadable(zh: str, en: str, code: str = "sheet_unreadable") -> ExchangeError:
    """A sheet refused as a whole; both messages start the same way everywhere."""
    return ExchangeError(code, f"无法读取表格：{zh}", f"cannot read the spreadsheet: {en}")


def save_as_xlsx(code: str, zh: str, en: str) -> ExchangeError:
    """A file we do not read, with the way to save it so that we do."""
    return unreadable(zh + SAVE_AS_XLSX_ZH, f"{en} {SAVE_AS_XLSX_EN}", code)


def number_text(value: int | float) -> NumericText:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return NumericText(str(int(value)))
    return NumericText(repr(value) if isinstance(value, float) else str(value))


def cell_text(value: Any) -> str | None:
    """The text of one reader value (None: an empty cell)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


_XSTRING_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def xstring_decode(text: str) -> str:
    """OOXML's ST_Xstring escapes: ``_x000D_`` is a carriage return, ``_x005F_`` a literal ``_``
    (so ``_x005F_x000D_`` is the text ``_x000D_``). Excel writes them for control characters."""
    if "_x" not in text:
        return text
    return _XSTRING_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)


@dataclass(slots=True)
class SheetData:
    """What a reader found in the worksheet it read: its non-blank rows as text (numbered as the
    user sees them), and what the user cannot see (hidden rows and columns)."""

    kind: str
    sheet: str | None
    encoding: str | None
    rows: list[tuple[int, list[str | None]]]
    hidden_rows: frozenset[int] = frozenset()
    hidden_columns: tuple[int, ...] = ()
    filtered: bool = False  # an autofilter is set: hidden rows may be filtered out


VISIBLE = "visible"


def sheet_choose(sheets: list[tuple[str, str]], wanted: str | None, has_data: Callable[[int], bool]) -> int:
    """The index of the worksheet to read among (name, state) pairs (state "visible", "hidden"
    or "veryHidden"). A named sheet is read whatever its state; otherwise the one visible sheet
    that holds data; several are refused, listing them, so that the user names one."""
    if wanted is not None:
        for index, (name, _) in enumerate(sheets):
            if name == wanted:
                return index
        folded = wanted.strip().casefold()
        for index, (name, _) in enumerate(sheets):
            if name.strip().casefold() == folded:
                return index
        names = "、".join(f"“{name}”" for name, _ in sheets)
        raise unreadable(f"工作簿中没有名为“{wanted}”的工作表。工作簿中的工作表有：{names}。",
                         f'the workbook has no worksheet named "{wanted}". Its worksheets are: '
                         f"{', '.join(repr(name) for name, _ in sheets)}.", "sheet_not_found")
    visible = [index for index, (_, state) in enumerate(sheets) if state == VISIBLE]
    if not visible:
        raise unreadable("工作簿中没有可见的工作表。请用“--sheet 名称”指明要读取的工作表。",
                         "the workbook has no visible worksheet. Name the one to read with --sheet NAME.",
                         "sheet_not_found")
    if len(visible) == 1:
        return visible[0]
    with_data = [index for index in visible if has_data(index)]
    if len(with_data) > 1:
        names_zh = "、".join(f"“{sheets[i][0]}”" for i in with_data)
        names_en = ", ".join(repr(sheets[i][0]) for i in with_data)
        raise unreadable(f"工作簿中有 {len(with_data)} 个工作表都有数据：{names_zh}。"
                         "请用“--sheet 名称”指明要读取哪一个。",
                         f"{len(with_data)} worksheets hold data: {names_en}. Name the one to read with "
                         "--sheet NAME.", "sheet_choose")
    return with_data[0] if with_data else visible[0]
