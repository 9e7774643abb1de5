"""A streaming reader for the first worksheet of an .xlsx, safe against hostile files.

``xlsx_rows`` yields (row number, cell values) with the values openpyxl gives in
``read_only=True, data_only=True`` mode (str, int, float, bool, datetime/date/time/timedelta,
None), so that ``sheets.py`` turns them into text exactly as before. A formula without a cached
value comes back as ``FormulaText("=…")`` in the same single pass.

Why not openpyxl: its read-only mode parses through ``defusedxml.ElementTree.iterparse``, which
swaps in ElementTree's pure Python tree builder; 100,000 rows × 6 columns took 16–23 s on the
2-core build machine. Here ``pyexpat`` (C) calls three small handlers per XML event and builds
no tree at all, so memory stays flat whatever the sheet's length.

Safety, part by part:

* XML: every part goes through ``_expat_parser``, which installs the handlers defusedxml's
  expat reader installs with ``forbid_dtd=True``: a DOCTYPE, an entity declaration or an
  external entity reference raises before anything is expanded. No .xlsx part legitimately
  carries a DTD, so refusing all of them costs nothing ("billion laughs" and XXE included).
* Zip: a part whose declared uncompressed size exceeds its limit is refused before it is
  opened, and the bytes actually inflated are counted against a total cap (zipfile stops at the
  declared size and checks the CRC, so the declared size is an upper bound).
* Cells: an error value (#N/A, #DIV/0!…) is refused naming the cell, rows out of order and
  references past Excel's limits are refused as a damaged file, never silently dropped.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pyexpat import ParserCreate, XMLParserType
from typing import Any

from payroll_exchange.errors import ExchangeError
from payroll_exchange.sheets import ErrorText, FormulaText

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main "
RELS = "http://schemas.openxmlformats.org/package/2006/relationships "
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships "
ROW, C, V, F, IS, T, RPH, SI = (MAIN + tag for tag in ("row", "c", "v", "f", "is", "t", "rPh", "si"))

MAX_SHEET_BYTES = 500 * 1024 * 1024  # uncompressed; a 1,000,000-row × 6-column sheet is ~400 MB
MAX_PART_BYTES = 200 * 1024 * 1024  # shared strings; workbook, rels and styles are a few KB
MAX_TOTAL_BYTES = 800 * 1024 * 1024  # all parts together, counted as they are inflated
MAX_ROW = 1_048_576  # Excel's limits: a reference past them is not from a spreadsheet program
MAX_COLUMN = 16_384
CHUNK = 1 << 16  # inflate and parse 64 KB at a time: large enough to amortize the calls

# openpyxl's date detection (styles/numbers.py): the first section of the format, with quoted
# literals and [colour]/[$locale] brackets removed, has a d, m, h, y or s not escaped by _ or \.
_STRIP = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
_DATE_CHAR = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_TIMEDELTA = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)
_BUILTIN_DATES = {14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM",
                  19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm", 45: "mm:ss",
                  46: "[h]:mm:ss", 47: "mmss.0"}
WINDOWS_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 - Excel serials are naive local dates
MAC_EPOCH = datetime(1904, 1, 1)  # noqa: DTZ001

CellValue = str | int | float | bool | datetime | date | time | timedelta | None


def _refused(code: str, zh: str, en: str) -> ExchangeError:
    return ExchangeError(code, f"无法读取表格：{zh}", f"cannot read the spreadsheet: {en}")


def _damaged(zh: str, en: str) -> ExchangeError:
    return _refused("sheet_unreadable", f"{zh}请在 Excel 中打开并重新保存。",
                    f"{en} Open it in Excel and save it again.")


def _refuse_dtd(*_: object) -> None:
    raise _refused("sheet_xml_refused", "文件中含有 DTD 或实体声明（可用于“XML 炸弹”攻击），已拒绝读取。"
                   "请在 Excel 中打开并重新保存。",
                   "the file carries a DTD or entity declarations (the shape of an XML bomb) and was "
                   "refused. Open it in Excel and save it again.")


def _expat_parser() -> XMLParserType:
    # Namespace-aware ("uri local" names) so that a writer's prefix (x:c) does not matter.
    parser = ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.UnparsedEntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.buffer_text = True  # one CharacterData call per text run instead of one per line
    return parser


class _Archive:
    """The zip, with every part's size checked before it is opened and inflated bytes counted."""

    def __init__(self, data: bytes) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            raise _damaged("文件不是有效的 .xlsx（zip 结构已损坏）。", "the file is not a valid .xlsx (its zip "
                           "structure is damaged).") from None
        self.names = set(self.zip.namelist())
        self.inflated = 0

    def chunks(self, name: str, limit: int) -> Iterator[bytes]:
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            raise _damaged(f"缺少文件部件 {name}。", f"the part {name} is missing.") from None
        if info.file_size > limit:
            raise _refused("sheet_too_large", f"{name} 解压后有 {info.file_size:,} 字节，超过上限 {limit:,}。",
                           f"{name} would inflate to {info.file_size:,} bytes, over the limit of {limit:,}.")
        with self.zip.open(info) as stream:
            while chunk := stream.read(CHUNK):
                self.inflated += len(chunk)
                if self.inflated > MAX_TOTAL_BYTES:
                    raise _refused("sheet_too_large", f"解压后的内容超过上限 {MAX_TOTAL_BYTES:,} 字节。",
                                   f"the parts inflate to more than {MAX_TOTAL_BYTES:,} bytes.")
                yield chunk

    def parse(self, name: str, limit: int, start: Callable[[str, dict[str, str]], None],
              end: Callable[[str], None] | None = None, text: Callable[[str], None] | None = None) -> None:
        """Parse a small part whole, through the guarded parser."""
        parser = _expat_parser()
        parser.StartElementHandler = start
        if end is not None:
            parser.EndElementHandler = end
        if text is not None:
            parser.CharacterDataHandler = text
        for chunk in self.chunks(name, limit):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)


def _relationships(archive: _Archive, rels_name: str, folder: str) -> dict[str, tuple[str, str]]:
    """Id → (type, part name) of a .rels part; targets resolved as openpyxl resolves them."""
    found: dict[str, tuple[str, str]] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == RELS + "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            part = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), part)

    if rels_name in archive.names:
        archive.parse(rels_name, MAX_PART_BYTES, start)
    return found


def _date_styles(archive: _Archive, name: str | None) -> tuple[set[int], set[int]]:
    """Indexes of the cell styles (cellXfs) that show a number as a date, and as a duration."""
    custom: dict[int, str] = {}
    formats: list[int] = []
    depth = {"cellXfs": False}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == MAIN + "numFmt":
            custom[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
        elif tag == MAIN + "cellXfs":
            depth["cellXfs"] = True
        elif tag == MAIN + "xf" and depth["cellXfs"]:
            formats.append(int(attrs.get("numFmtId", "0")))

    def end(tag: str) -> None:
        if tag == MAIN + "cellXfs":
            depth["cellXfs"] = False

    if name is not None and name in archive.names:
        archive.parse(name, MAX_PART_BYTES, start, end)
    dates: set[int] = set()
    durations: set[int] = set()
    for index, number_format in enumerate(formats):
        code = custom.get(number_format) or _BUILTIN_DATES.get(number_format)
        if code and _DATE_CHAR.search(_STRIP.sub("", code.split(";")[0])):
            dates.add(index)
        if code and _TIMEDELTA.search(code.split(";")[0]):
            durations.add(index)
    return dates, durations


def _shared_strings(archive: _Archive, name: str | None) -> list[str]:
    """The shared string table: plain <t> and rich text runs <r><t>; phonetic <rPh> ignored."""
    strings: list[str] = []
    parts: list[str] = []
    state = {"collect": False, "phonetic": 0}

    def start(tag: str, _: dict[str, str]) -> None:
        if tag == T:
            state["collect"] = not state["phonetic"]
        elif tag == SI:
            parts.clear()
        elif tag == RPH:
            state["phonetic"] += 1

    def end(tag: str) -> None:
        if tag == T:
            state["collect"] = False
        elif tag == SI:
            strings.append("".join(parts).replace("x005F_", ""))  # as openpyxl: its one unescape
        elif tag == RPH:
            state["phonetic"] -= 1

    def text(data: str) -> None:
        if state["collect"]:
            parts.append(data)

    if name is not None and name in archive.names:
        archive.parse(name, MAX_PART_BYTES, start, end, text)
    return strings


_COLUMNS: dict[str, int] = {}  # column letters → index; bounded by MAX_COLUMN valid keys
DIGITS = "0123456789"


def _column(ref: str) -> int:
    """The column of an A1 reference (the hot path looks in _COLUMNS first)."""
    letters = ref.rstrip(DIGITS)
    column = 0
    for letter in letters.upper():
        if not "A" <= letter <= "Z":
            raise _damaged(f"单元格引用 {ref!r} 无效。", f"the cell reference {ref!r} is not valid.")
        column = column * 26 + ord(letter) - 64
    if not 1 <= column <= MAX_COLUMN:
        raise _damaged(f"单元格引用 {ref!r} 无效。", f"the cell reference {ref!r} is not valid.")
    _COLUMNS[letters] = column
    return column


def _cell_name(column: int, row: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


def _from_excel(serial: float, epoch: datetime, duration: bool) -> datetime | time | timedelta:
    """openpyxl's ``from_excel``: the value a date-formatted number cell shows."""
    if duration:
        span = timedelta(days=serial)
        if span.microseconds:
            span = timedelta(seconds=span.total_seconds() // 1, microseconds=round(span.microseconds, -3))
        return span
    day, fraction = divmod(serial, 1)
    diff = timedelta(milliseconds=round(fraction * 86_400_000))
    if 0 <= serial < 1 and diff.days == 0:
        minutes, seconds = divmod(diff.seconds, 60)
        return time(minutes // 60, minutes % 60, seconds, diff.microseconds)
    if 0 < serial < 60 and epoch == WINDOWS_EPOCH:
        day += 1  # Excel's phantom 1900-02-29
    return epoch + timedelta(days=day) + diff


def _iso_value(text: str) -> datetime | date | time:
    """A t="d" cell (ISO 8601 text, rare: strict OOXML)."""
    text = text.removesuffix("Z")
    if "T" in text:
        return datetime.fromisoformat(text)
    return time.fromisoformat(text) if ":" in text else date.fromisoformat(text)


def _first_sheet(archive: _Archive) -> tuple[str, str | None, str | None, datetime]:
    """(worksheet part, shared strings part, styles part, date epoch) of the workbook's first
    worksheet: the sheet openpyxl lists first in ``worksheets`` (chartsheets skipped)."""
    package = _relationships(archive, "_rels/.rels", "")
    workbook = next((part for kind, part in package.values() if kind.endswith("/officeDocument")),
                    "xl/workbook.xml")
    folder, base = posixpath.split(workbook)
    rels = _relationships(archive, posixpath.join(folder, "_rels", base + ".rels"), folder)
    sheet_ids: list[str] = []
    epoch = [WINDOWS_EPOCH]

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == MAIN + "sheet":
            sheet_ids.append(attrs.get(DOC_RELS + "id", ""))
        elif tag == MAIN + "workbookPr" and attrs.get("date1904") in ("1", "true"):
            epoch[0] = MAC_EPOCH

    archive.parse(workbook, MAX_PART_BYTES, start)
    sheets = [rels[i][1] for i in sheet_ids if i in rels and "chartsheet" not in rels[i][0]]
    if not sheets:
        raise _damaged("工作簿中没有工作表。", "the workbook has no worksheet.")
    if sheets[0] not in archive.names:
        raise _damaged(f"第一个工作表 {sheets[0]} 缺失。", f"the first worksheet, {sheets[0]}, is missing.")
    by_type = {kind.rsplit("/", 1)[-1]: part for kind, part in rels.values()}
    return sheets[0], by_type.get("sharedStrings"), by_type.get("styles"), epoch[0]


def xlsx_rows(*, data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values) of the first worksheet, rows without cells left out. Values are
    those of openpyxl ``read_only=True, data_only=True``; a formula without a cached value is a
    ``FormulaText``. Raises ``ExchangeError`` on a damaged, hostile or oversized file."""
    archive = _Archive(data)
    sheet, strings_part, styles_part, epoch = _first_sheet(archive)
    strings = _shared_strings(archive, strings_part)
    dates, durations = _date_styles(archive, styles_part)

    done: list[tuple[int, list[Any]]] = []  # rows completed during the last chunk
    cells: list[Any] = []
    text: list[str] = []
    formula: list[str] = []
    # One cell's state, reset at each <c>; closures over locals are the fastest handlers.
    row = column = 0
    kind = style = ref = None
    value: str | None = None
    collect = in_formula = has_formula = in_inline = False
    phonetic = 0

    columns = _COLUMNS

    def start(tag: str, attrs: list[str]) -> None:
        nonlocal row, column, kind, style, ref, value, collect, has_formula, in_formula, in_inline, phonetic
        if tag == C:
            ref = style = None
            kind = "n"
            pairs = iter(attrs)  # ordered_attributes: [name, value, …], no dict per element
            for name, text_value in zip(pairs, pairs, strict=True):
                if name == "r":
                    ref = text_value
                elif name == "t":
                    kind = text_value
                elif name == "s":
                    style = text_value
            column = (columns.get(ref.rstrip(DIGITS)) or _column(ref)) if ref else column + 1
            value = None
            has_formula = in_inline = False
        elif tag == V:
            text.clear()
            collect = True
        elif tag == ROW:
            number = next((attrs[i + 1] for i in range(0, len(attrs), 2) if attrs[i] == "r"), None)
            previous = row
            row = (int(number) if number.isdigit() else int(float(number))) if number else row + 1
            if row <= previous or row > MAX_ROW:
                raise _damaged(f"第 {row} 行的位置不对（行号须递增且不超过 {MAX_ROW}）。",
                               f"row {row} is out of place (row numbers must increase, up to {MAX_ROW}).")
            column = 0
        elif tag == T and in_inline:
            collect = not phonetic
        elif tag == IS:
            in_inline = True
            text.clear()
        elif tag == F:
            has_formula = in_formula = True
            formula.clear()
        elif tag == RPH:
            phonetic += 1

    def end(tag: str) -> None:
        nonlocal cells, collect, value, in_formula, in_inline, phonetic
        if tag == C:
            # The two commonest cells inline (a shared string, a plain number); the rest below.
            if kind == "s" and value:
                cell = strings[int(value)]
            elif kind == "n" and value and not dates:
                cell = float(value) if "." in value or "E" in value or "e" in value else int(value)
            else:
                cell = _cell_value()
                if cell is None:
                    return
            if column == len(cells) + 1:
                cells.append(cell)
            elif column > len(cells):
                cells.extend([None] * (column - 1 - len(cells)))
                cells.append(cell)
            else:
                cells[column - 1] = cell  # a repeated reference: the later cell wins, as in openpyxl
        elif tag == V:
            value = "".join(text)
            collect = False
        elif tag == ROW:
            if cells:
                done.append((row, cells))
                cells = []
        elif tag == T:
            collect = False
        elif tag == IS:
            value = "".join(text)
            in_inline = False
        elif tag == F:
            in_formula = False
        elif tag == RPH:
            phonetic -= 1

    def characters(data: str) -> None:
        if collect:
            text.append(data)
        elif in_formula:
            formula.append(data)

    def _cell_value() -> Any:
        if kind == "inlineStr":
            return value
        if not value:
            return FormulaText("=" + "".join(formula)) if has_formula else None
        if kind == "n":
            number = float(value) if "." in value or "E" in value or "e" in value else int(value)
            if dates and style and int(style) in dates:
                try:
                    return _from_excel(number, epoch, int(style) in durations)
                except (OverflowError, ValueError):
                    raise _cell_refused(f"是日期格式，但数值 {value} 超出日期范围", f"is formatted as a date, "
                                        f"but {value} is outside the range of dates") from None
            return number
        if kind == "s":
            return strings[int(value)]
        if kind == "b":
            return bool(int(value))
        if kind == "e":
            # Refused by the column mapping only if a column we read holds it (sheets.ErrorText).
            return ErrorText(value)
        if kind == "d":
            return _iso_value(value)
        return value  # "str" (a formula's text result) and unknown kinds: the text as stored

    def _cell_refused(zh: str, en: str) -> ExchangeError:
        name = ref or _cell_name(column, row)
        return _refused("cell_error", f"单元格 {name} {zh}。请在 Excel 中改正该单元格后重新导入。",
                        f"cell {name} {en}. Correct the cell in Excel and import again.")

    parser = _expat_parser()
    parser.ordered_attributes = True  # measured: a quarter of the parse time went to attribute dicts
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    for chunk in archive.chunks(sheet, MAX_SHEET_BYTES):
        parser.Parse(chunk, False)
        yield from done
        done.clear()
    parser.Parse(b"", True)
    yield from done
