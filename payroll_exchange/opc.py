"""The package around an .xlsx worksheet: the zip, its relationships, the workbook's sheet list,
the shared strings and the number formats, read safely (see ``xlsx.py`` for the worksheet).

Safety, part by part:

* Zip: duplicate entry names are refused (two readers could pick different ones); part names
  are matched case-insensitively, as OPC requires (``SharedStrings.xml`` for ``sharedStrings.xml``);
  a part whose declared uncompressed size exceeds its limit is refused before it is opened, and
  the bytes actually inflated are counted against a total cap.
* XML: every part goes through ``expat_parser``, which installs the handlers defusedxml's expat
  reader installs with ``forbid_dtd=True``: a DOCTYPE, an entity declaration or an external
  entity reference raises before anything is expanded. No .xlsx part legitimately carries a DTD.
* What is not an .xlsx is named: .ods, .xlsb, Strict Open XML, other Office zips.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pyexpat import ExpatError, ParserCreate, XMLParserType

from payroll_exchange.cells import VISIBLE, save_as_xlsx, unreadable, xstring_decode
from payroll_exchange.errors import ExchangeError
from payroll_exchange.exceldates import MAC_EPOCH, WINDOWS_EPOCH, format_kind

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main "
RELS = "http://schemas.openxmlformats.org/package/2006/relationships "
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships "
STRICT = "http://purl.oclc.org/ooxml/"
T, RPH, SI = (MAIN + tag for tag in ("t", "rPh", "si"))

MAX_SHEET_BYTES = 500 * 1024 * 1024  # uncompressed; a 1,000,000-row × 6-column sheet is ~400 MB
MAX_PART_BYTES = 200 * 1024 * 1024  # shared strings; workbook, rels and styles are a few KB
MAX_TOTAL_BYTES = 800 * 1024 * 1024  # all parts together, counted as they are inflated
CHUNK = 1 << 16  # inflate and parse 64 KB at a time: large enough to amortize the calls
# What zipfile and zlib raise on a damaged or unusual entry (a bad CRC, a truncated stream, an
# encrypted entry, a compression method zipfile lacks).
_INFLATE_FAILURES = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError,
                     ValueError, struct.error)


def refused(code: str, zh: str, en: str) -> ExchangeError:
    return unreadable(zh, en, code)


def damaged(zh: str, en: str) -> ExchangeError:
    return refused("sheet_unreadable", f"{zh}请在 Excel 中打开并重新保存。",
                   f"{en} Open it in Excel and save it again.")


def _refuse_dtd(*_: object) -> None:
    raise refused("sheet_xml_refused", "文件中含有 DTD 或实体声明（可用于“XML 炸弹”攻击），已拒绝读取。"
                  "请在 Excel 中打开并重新保存。",
                  "the file carries a DTD or entity declarations (the shape of an XML bomb) and was "
                  "refused. Open it in Excel and save it again.")


def expat_parser() -> XMLParserType:
    # Namespace-aware ("uri local" names) so that a writer's prefix (x:c) does not matter.
    parser = ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.UnparsedEntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.buffer_text = True  # one CharacterData call per text run instead of one per line
    return parser


def xml_damaged(name: str, error: ExpatError) -> ExchangeError:
    return refused("sheet_xml_damaged", f"文件部件 {name} 的 XML 已损坏（第 {error.lineno} 行第 {error.offset} 列："
                   f"{error}）。请在 Excel 中打开并重新保存。",
                   f"the XML of the part {name} is damaged (line {error.lineno}, column {error.offset}: "
                   f"{error}). Open it in Excel and save it again.")


class Archive:
    """The zip, with every part's size checked before it is opened and inflated bytes counted."""

    def __init__(self, data: bytes) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, struct.error, UnicodeDecodeError,
                NotImplementedError):  # the last: a zip "version" past what zipfile reads
            raise damaged("文件不是有效的 .xlsx（zip 结构已损坏）。", "the file is not a valid .xlsx (its zip "
                          "structure is damaged).") from None
        self.parts: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            key = info.filename.replace("\\", "/").lower()
            if key in self.parts:
                raise refused("sheet_zip_duplicate", f"zip 中有两个同名的部件 {info.filename}（可能是被篡改的文件）。"
                              "请在 Excel 中打开并重新保存。",
                              f"the zip holds two parts named {info.filename} (the file may have been tampered "
                              "with). Open it in Excel and save it again.")
            self.parts[key] = info
        self.inflated = 0

    def has(self, name: str) -> bool:
        return name.lower() in self.parts

    def chunks(self, name: str, limit: int) -> Iterator[bytes]:
        info = self.parts.get(name.lower())
        if info is None:
            raise damaged(f"缺少文件部件 {name}。", f"the part {name} is missing.")
        if info.file_size > limit:
            raise refused("sheet_too_large", f"{name} 解压后有 {info.file_size:,} 字节，超过上限 {limit:,}。",
                          f"{name} would inflate to {info.file_size:,} bytes, over the limit of {limit:,}.")
        try:
            stream = self.zip.open(info)
        except _INFLATE_FAILURES as exc:
            raise self._inflate_failed(name, exc) from None
        with stream:
            while True:
                try:
                    chunk = stream.read(CHUNK)
                except _INFLATE_FAILURES as exc:
                    raise self._inflate_failed(name, exc) from None
                if not chunk:
                    return
                self.inflated += len(chunk)
                if self.inflated > MAX_TOTAL_BYTES:
                    raise refused("sheet_too_large", f"解压后的内容超过上限 {MAX_TOTAL_BYTES:,} 字节。",
                                  f"the parts inflate to more than {MAX_TOTAL_BYTES:,} bytes.")
                yield chunk

    @staticmethod
    def _inflate_failed(name: str, exc: Exception) -> ExchangeError:
        return damaged(f"文件部件 {name} 无法解压（{type(exc).__name__}）。",
                       f"the part {name} cannot be inflated ({type(exc).__name__}).")

    def parse(self, name: str, limit: int, start: Callable[[str, dict[str, str]], None],
              end: Callable[[str], None] | None = None, text: Callable[[str], None] | None = None) -> None:
        """Parse a small part whole, through the guarded parser."""
        parser = expat_parser()
        parser.StartElementHandler = start
        if end is not None:
            parser.EndElementHandler = end
        if text is not None:
            parser.CharacterDataHandler = text
        try:
            for chunk in self.chunks(name, limit):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except ExpatError as exc:
            raise xml_damaged(name, exc) from None


def _relationships(archive: Archive, rels_name: str, folder: str) -> dict[str, tuple[str, str]]:
    """Id → (type, part name) of a .rels part; targets resolved as openpyxl resolves them."""
    found: dict[str, tuple[str, str]] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        if name.endswith(" Relationship") and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            part = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), part)

    if archive.has(rels_name):
        archive.parse(rels_name, MAX_PART_BYTES, start)
    return found


def _int(text: str | None, part: str) -> int:
    if text is None:
        return 0
    try:
        return int(text)
    except ValueError:
        raise damaged(f"文件部件 {part} 中的编号 {text!r} 无效。", f"the part {part} holds an invalid number "
                      f"{text!r}.") from None


def _format_kinds(archive: Archive, name: str | None) -> dict[str, str]:
    """Cell style index (the ``s`` attribute, as text) → DATE / TIME_OF_DAY / DURATION for the
    styles that show a number as one. Only ``<numFmts>`` and ``<cellXfs>`` count: a number format
    inside ``<dxfs>`` belongs to a conditional format and never changes what a cell holds."""
    custom: dict[int, str] = {}
    formats: list[int] = []
    where = {"numFmts": False, "cellXfs": False}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == MAIN + "numFmt" and where["numFmts"]:
            custom[_int(attrs.get("numFmtId"), name or "")] = attrs.get("formatCode", "")
        elif tag == MAIN + "xf" and where["cellXfs"]:
            formats.append(_int(attrs.get("numFmtId"), name or ""))
        elif tag in (MAIN + "numFmts", MAIN + "cellXfs"):
            where[tag.rsplit(" ", 1)[-1]] = True

    def end(tag: str) -> None:
        if tag in (MAIN + "numFmts", MAIN + "cellXfs"):
            where[tag.rsplit(" ", 1)[-1]] = False

    if name is not None and archive.has(name):
        archive.parse(name, MAX_PART_BYTES, start, end)
    kinds: dict[str, str] = {}
    for index, number_format in enumerate(formats):
        kind = format_kind(number_format, custom.get(number_format))
        if kind is not None:
            kinds[str(index)] = kind
    return kinds


def _shared_strings(archive: Archive, name: str | None) -> list[str]:
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
            strings.append(xstring_decode("".join(parts)))
        elif tag == RPH:
            state["phonetic"] -= 1

    def text(data: str) -> None:
        if state["collect"]:
            parts.append(data)

    if name is not None and archive.has(name):
        archive.parse(name, MAX_PART_BYTES, start, end, text)
    return strings


@dataclass(slots=True)
class Book:
    """The workbook's worksheets (name, state, part), in the order the workbook lists them."""

    archive: Archive
    sheets: list[tuple[str, str, str]]
    strings_part: str | None
    styles_part: str | None
    epoch: datetime

    def strings(self) -> list[str]:
        return _shared_strings(self.archive, self.strings_part)

    def format_kinds(self) -> dict[str, str]:
        return _format_kinds(self.archive, self.styles_part)


def _not_a_workbook(archive: Archive) -> None:
    """Name the zips that are spreadsheets we do not read."""
    if archive.has("mimetype"):
        kind = b"".join(archive.chunks("mimetype", 4096))
        if b"opendocument.spreadsheet" in kind:
            raise save_as_xlsx("sheet_ods", "文件是 OpenDocument 表格（.ods，LibreOffice 或 WPS 保存），不能读取。",
                               "the file is an OpenDocument spreadsheet (.ods, saved by LibreOffice or WPS), "
                               "which we do not read.")


def book_open(data: bytes) -> Book:
    archive = Archive(data)
    _not_a_workbook(archive)
    package = _relationships(archive, "_rels/.rels", "")
    if any(kind.startswith(STRICT) for kind, _ in package.values()):
        raise _strict_refused()
    workbook = next((part for kind, part in package.values() if kind.endswith("/officeDocument")),
                    "xl/workbook.xml")
    if workbook.lower().endswith(".bin") or archive.has("xl/workbook.bin"):
        raise save_as_xlsx("sheet_xlsb", "文件是 Excel 二进制工作簿 (.xlsb)，不能读取。",
                           "the file is an Excel Binary Workbook (.xlsb), which we do not read.")
    if not archive.has(workbook):
        raise refused("sheet_type", "文件是 zip 压缩包，但不是 Excel 工作簿。请使用 .xlsx、.xls 或 .csv 文件。",
                      "the file is a zip archive but not an Excel workbook. Use an .xlsx, .xls or .csv file.")
    folder, base = posixpath.split(workbook)
    rels = _relationships(archive, posixpath.join(folder, "_rels", base + ".rels"), folder)
    listed: list[tuple[str, str, str]] = []
    epoch = [WINDOWS_EPOCH]
    root: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if not root:
            root.append(tag)
        if tag == MAIN + "sheet":
            listed.append((attrs.get("name", ""), attrs.get("state", VISIBLE), attrs.get(DOC_RELS + "id", "")))
        elif tag == MAIN + "workbookPr" and attrs.get("date1904") in ("1", "true"):
            epoch[0] = MAC_EPOCH

    archive.parse(workbook, MAX_PART_BYTES, start)
    if root and root[0].startswith(STRICT):
        raise _strict_refused()
    if root != [MAIN + "workbook"]:
        raise refused("sheet_type", "文件是 Office 文档，但不是 Excel 工作簿。请使用 .xlsx、.xls 或 .csv 文件。",
                      "the file is an Office document but not an Excel workbook. Use an .xlsx, .xls or .csv "
                      "file.")
    sheets = [(name, state if state in ("hidden", "veryHidden") else VISIBLE, rels[rid][1])
              for name, state, rid in listed if rid in rels and "chartsheet" not in rels[rid][0]]
    if not sheets:
        raise damaged("工作簿中没有工作表。", "the workbook has no worksheet.")
    by_type = {kind.rsplit("/", 1)[-1]: part for kind, part in rels.values()}
    return Book(archive, sheets, by_type.get("sharedStrings"), by_type.get("styles"), epoch[0])


def _strict_refused() -> ExchangeError:
    return save_as_xlsx("sheet_strict", "文件是“Strict Open XML 电子表格”，不能读取。",
                        "the file is a Strict Open XML Spreadsheet, which we do not read.")
