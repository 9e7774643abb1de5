"""The input sheet as the client reads it: the user's --sheet / --hidden-rows / --encoding passed
to the pure readers (``payroll_exchange.sheets``), and what the reader says it read (the
worksheet, the kind of file, the encoding, the hidden rows and the decision about them), in the
words the review, the checklist and 信息查询 show.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from payroll_client.store import SheetFacts
from payroll_exchange import sheets

# The reader's hidden-row decisions in the user's words.
HIDDEN_DECISIONS: dict[str, tuple[str, str]] = {
    "refuse": ("拒绝 (默认)", "refuse (default)"),
    "skip": ("跳过隐藏行 (--hidden-rows skip)", "hidden rows skipped (--hidden-rows skip)"),
    "include": ("隐藏行一并读取 (--hidden-rows include)", "hidden rows included (--hidden-rows include)"),
    "none": ("无隐藏行", "no hidden rows"),
}


@dataclass(frozen=True, slots=True)
class SheetChoice:
    """What the user said about the sheet on the command line (None: the reader decides)."""

    sheet: str | None = None
    hidden_rows: str | None = None
    encoding: str | None = None

    def options(self) -> sheets.SheetOptions:
        return sheets.SheetOptions(sheet=self.sheet, hidden_rows=self.hidden_rows or "refuse",
                                   encoding=self.encoding)


def choice_from(args: Any) -> SheetChoice:
    return SheetChoice(sheet=getattr(args, "sheet_name", None), hidden_rows=getattr(args, "hidden_rows", None),
                       encoding=getattr(args, "encoding", None))


def payroll_read(*, data: bytes, filename: str, columns: sheets.ColumnMap,
                 choice: SheetChoice) -> sheets.SheetRead:
    return sheets.payroll_sheet_read(data=data, filename=filename, columns=columns, options=choice.options())


def employee_read(*, data: bytes, filename: str, columns: sheets.ColumnMap,
                  choice: SheetChoice) -> sheets.SheetRead:
    return sheets.employee_sheet_read(data=data, filename=filename, columns=columns, options=choice.options())


def sheet_open(*, data: bytes, filename: str,
               choice: SheetChoice) -> tuple[sheets.SheetInfo, Iterator[tuple[int, list[str | None]]]]:
    return sheets.sheet_open(data=data, filename=filename, options=choice.options())


def hidden_text(info: sheets.SheetInfo | None) -> tuple[str, str]:
    """The hidden-row decision and the rows it concerns: ("跳过隐藏行 …: 第 6、7 行", "…: rows 6, 7")."""
    if info is None:
        return "", ""
    rows = tuple(info.hidden_rows)
    decision = str(info.hidden_rows_decision or "")
    if not rows:
        decision = "none"
    zh, en = HIDDEN_DECISIONS.get(decision, (decision, decision))
    if rows:
        zh += ": 第 " + "、".join(str(r) for r in rows) + " 行"
        en += ": rows " + ", ".join(str(r) for r in rows)
    return zh, en


def read_text(*, source: str, sheet: str | None, kind: str, encoding: str | None) -> str:
    """"工资.xlsx 工作表 “十二月” (Excel 工作簿)": one wording on the review, the checklist and in 信息查询."""
    text = source + (f" 工作表 “{sheet}”" if sheet else "")
    if kind:
        text += f" ({kind}" + (f", 编码 {encoding}" if encoding else "") + ")"
    return text


def sheet_text(info: sheets.SheetInfo | None, filename: str) -> tuple[str, str]:
    """What was read, as the review prints it: (zh, en)."""
    name = Path(filename).name
    if info is None:
        return name, name
    zh = read_text(source=name, sheet=info.sheet, kind=info.kind_zh, encoding=info.encoding)
    en = name + (f", sheet “{info.sheet}”" if info.sheet else "")
    en += f" ({info.kind_en}" + (f", encoding {info.encoding}" if info.encoding else "") + ")"
    return zh, en


def facts_from(info: sheets.SheetInfo | None, filename: str) -> SheetFacts:
    hidden_zh, _ = hidden_text(info)
    if info is None:
        return SheetFacts(source_file=Path(filename).name)
    return SheetFacts(sheet_name=info.sheet or "", kind=info.kind_zh, encoding=info.encoding or "",
                      hidden_rows=hidden_zh, source_file=Path(filename).name)


def header_of(info: sheets.SheetInfo | None, column: int | None) -> str:
    if info is None or not column:
        return ""
    return str(info.headers.get(column, "") or "")
