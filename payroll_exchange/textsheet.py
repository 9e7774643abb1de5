"""Text sheets: CSV and tab-separated text, and which encoding their bytes are in.

UTF-8 (with or without BOM) and UTF-16 with a BOM are unambiguous. Anything else is what a
Chinese Excel saves (GB18030, a superset of GBK/GB2312), but a Big5, Shift-JIS or cp1252 file
decodes as GB18030 too, into other characters: names would be paid garbled. So GB18030 is used
only while the decoded text is plausible Chinese (``_implausible``); otherwise the file is
refused naming what was tried, and ``--encoding`` (``SheetOptions.encoding``) is used as given.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

from payroll_exchange.cells import unreadable

ENCODINGS_OFFERED = ("gb18030", "big5", "utf-16", "cp1252")

# Decoded as GB18030, Big5's commonest rows (lead bytes A4–A7) land in GB2312's kana, Greek and
# Cyrillic rows or in the user-defined areas (the Private Use Area).
_FOREIGN = re.compile(
    "[\ue000-\uf8ff\U000f0000-\U0010ffff"  # Private Use Area (GBK's user-defined areas)
    "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"  # hiragana, katakana, half-width katakana
    "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"  # Hangul
    "\u0400-\u052f"  # Cyrillic
    "\u0370-\u03ff\u1f00-\u1fff]"  # Greek
)
# cp1252's accented letters pair with the next byte into one ideograph that runs into the
# lowercase letters of a Latin word: premi鑢e, M黮ler, Fran鏾is, 蓵ic (Éric). Chinese text seldom
# writes a lowercase letter right after a hanzi; when it does, --encoding gb18030 reads it.
_HANZI_IN_WORD = re.compile("[\u3400-\u9fff][a-z]")
_NOT_LOWERCASE = bytes(b for b in range(256) if not 0x61 <= b <= 0x7A)


def _implausible(data: bytes, text: str) -> str | None:
    """The first piece of ``text`` (``data`` decoded as GB18030) that real Chinese text would not
    hold, or None. Measured on bench_parse's 100,000-row CSV: C-speed passes only (a regex
    search, two encodes), about a third of a plain csv read of the same file."""
    found = _FOREIGN.search(text)
    if found:
        return found.group()
    if data.translate(None, _NOT_LOWERCASE):  # any lowercase ASCII at all: look for garbled words
        found = _HANZI_IN_WORD.search(text)
        if found:
            return found.group()
    # Shift-JIS kanji and kana decode into GBK's extension hanzi (山田太郎 → 嶳揷懢榊), outside
    # GB2312's 6,763 that Chinese text is made of; a few rare name characters are not "most".
    outside = text.encode("gb2312", errors="replace").count(b"?") - text.count("?")
    wide = len(text) - len(text.encode("ascii", errors="ignore"))
    if outside and outside * 2 > wide:
        return next(c for c in text if not c.isascii() and c.encode("gb2312", errors="replace") == b"?")
    return None


def _encoding_refused(tried_zh: str, detail_zh: str, detail_en: str) -> Exception:
    offered = "、".join(ENCODINGS_OFFERED)
    return unreadable(
        f"按 {tried_zh} 解码{detail_zh}，文字会被读错。请用“--encoding 编码”指明文件的编码（{offered}），"
        "或在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重试。",
        f"{detail_en}, so names would be read wrong. Give the file's encoding with "
        f"--encoding ({', '.join(ENCODINGS_OFFERED)}), or save it from Excel as CSV UTF-8 and try again.",
        "sheet_encoding")


def text_decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    """(text, encoding used). ``encoding`` is used as given; without it, UTF-8 / UTF-16 with a
    BOM, else UTF-8, else GB18030 when plausible. Raises ExchangeError ``sheet_encoding``."""
    if encoding:
        try:
            name = codecs.lookup(encoding).name
            "".encode(name)  # LookupError for codecs that are not text encodings (rot13, base64, hex)
        except LookupError:
            raise unreadable(f"不认识编码 {encoding!r}。可用的编码有 {'、'.join(ENCODINGS_OFFERED)}。",
                             f"{encoding!r} is not an encoding we know. Use one of "
                             f"{', '.join(ENCODINGS_OFFERED)}.", "sheet_encoding") from None
        if name == "utf-8":
            name = "utf-8-sig"
        if name.startswith("utf-16") and b"\x00" not in data:
            # Every CSV has ASCII commas and line ends, which UTF-16 writes with a zero byte: bytes
            # without one are not UTF-16, and decoding them anyway gives a line of nonsense.
            raise unreadable(f"文件不是 {encoding} 编码（其中没有 UTF-16 文本必有的零字节）。请确认文件的编码，"
                             "或不加 --encoding 重试。",
                             f"the file is not in {encoding} (it has none of the zero bytes UTF-16 text always "
                             "has). Check the file's encoding, or try again without --encoding.",
                             "sheet_encoding")
        try:
            return data.decode(name), encoding
        except UnicodeDecodeError as exc:
            raise unreadable(f"文件不是 {encoding} 编码（第 {exc.start + 1} 个字节起无法解码）。请确认文件的编码。",
                             f"the file is not in {encoding} (it cannot be decoded from byte {exc.start + 1}). "
                             "Check the file's encoding.", "sheet_encoding") from None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text": UTF-16 with a BOM
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise _encoding_refused("UTF-16", "失败",
                                    "decoded as UTF-16 (it has a UTF-16 mark), it cannot be decoded") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise _encoding_refused("UTF-8 和 GB18030", "都失败",
                                "the file cannot be decoded as UTF-8 nor as GB18030") from None
    strange = _implausible(data, text)
    if strange is not None:
        raise _encoding_refused("UTF-8 失败；按 GB18030", f"得到“{strange}”这样不像中文的文字",
                                f"the file is not UTF-8, and decoded as GB18030 it gives {strange!r}, which "
                                "is not Chinese text")
    return text, "gb18030"


def _failing_record_line(text: str, delimiter: str) -> int:
    """The line where the record csv cannot read starts (read again: only on that error)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 0
    try:
        for _ in reader:
            line = reader.line_num
    except csv.Error:
        pass
    return line + 1


def _rows(text: str, delimiter: str) -> list[tuple[int, list[str | None]]]:
    """The non-blank rows, numbered as the user sees them; blank cells None. One pass."""
    rows: list[tuple[int, list[str | None]]] = []
    append = rows.append
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, record in enumerate(reader, 1):
            # Most records have no blank cell: two C-level passes find that, and the record is the
            # row as it is (measured: a third of this loop's time on 100k rows went to the list).
            if "" not in record and not any(map(str.isspace, record)):
                if record:
                    append((number, record))
                continue
            cells = [cell if cell and not cell.isspace() else None for cell in record]
            if cells.count(None) != len(cells):
                append((number, cells))
    except csv.Error as exc:  # a field past csv's limit (131,072 characters): an unclosed quote
        line = _failing_record_line(text, delimiter)
        raise unreadable(f"从第 {line} 行起的文本无法按 CSV 读取（{exc}），多半是引号没有配对。"
                         "请在 Excel 中打开核对后，另存为“Excel 工作簿 (*.xlsx)”后重新导入。",
                         f"the text from line {line} cannot be read as CSV ({exc}), most likely an unmatched "
                         'quote. Open it in Excel, check it, save it as "Excel Workbook (*.xlsx)" and import '
                         "again.", "sheet_csv_damaged") from None
    return rows


def text_rows(data: bytes, *, filename: str, encoding: str | None,
              tab_only: bool = False) -> tuple[str, str, list[tuple[int, list[str | None]]]]:
    """(kind "csv" or "tsv", encoding used, the non-blank rows numbered as the user sees them).

    ``tab_only``: the file came under a spreadsheet name (工资.xls exported by an HR system as
    tab-separated text); it is read only if every non-blank row has the same number of fields."""
    text, used = text_decode(data, encoding)
    end = text.find("\n")
    first_line = (text if end < 0 else text[:end]).lstrip("\ufeff")
    if tab_only:
        rows = _rows(text, "\t")
        if "\t" not in first_line or len({len(cells) for _, cells in rows}) != 1:
            raise unreadable(f"{filename!r} 名为 .xls，却不是 Excel 文件，也不是各行字段数相同的制表符分隔文本。"
                             "请在 Excel 中打开，另存为“Excel 工作簿 (*.xlsx)”后重新导入。",
                             f"{filename!r} is named .xls but is neither an Excel file nor tab-separated "
                             'text with the same number of fields on every row. Open it in Excel, save it as '
                             '"Excel Workbook (*.xlsx)" and import again.', "sheet_type")
        return "tsv", used, rows
    if "\t" in first_line and "," not in first_line:
        kind, delimiter = "tsv", "\t"
    elif ";" in first_line and "," not in first_line:
        raise unreadable("文件用分号“;”分隔字段（欧洲地区设置的 Excel 这样保存）。请用逗号分隔的 CSV，"
                         "或另存为“Excel 工作簿 (*.xlsx)”后重新导入。",
                         'the fields are separated by semicolons ";" (as Excel saves under European '
                         'settings). Use a comma-separated CSV, or save it as "Excel Workbook (*.xlsx)" '
                         "and import again.", "sheet_delimiter")
    else:
        kind, delimiter = "csv", ","
    return kind, used, _rows(text, delimiter)
