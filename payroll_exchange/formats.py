"""The bytes of each exchange file: UTF-8 text, one header line, then one line per record.

Fields are separated by ``|`` because names, remarks and amounts never need it, while commas
(amounts like 1,000.00), tabs and quotes turn up in real spreadsheets. Nothing is escaped: a
field holding ``|``, CR or LF is refused when the file is written, so a file can never be
corrupted by its own content. docs/formats.md describes every field, with examples.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from payroll_exchange.columnar import cycle_collection_paused, payroll_lines_columnar, payroll_lines_text
from payroll_exchange.errors import ErrorSink, ExchangeError, RowError
from payroll_exchange.messages import field_label, row_error
from payroll_exchange.records import (
    FORMAT_VERSION,
    PAYROLL_CORRECTION_VERSION,
    PAYROLL_VERSIONS,
    RETURN_DIGEST_VERSION,
    RETURN_VERSIONS,
    EmployeeFile,
    EmployeeHeader,
    EmployeeRow,
    PayrollFile,
    PayrollHeader,
    PayrollRow,
    ReturnFile,
    ReturnHeader,
    ReturnRow,
)

SEP = "|"
KIND_PAYROLL = "PAYROLL"
KIND_EMPLOYEES = "EMPLOYEES"
KIND_RETURN = "RETURN"

PAYROLL_HEADER_FIELDS = ("agreement_no", "payer_unit_no", "batch_no", "pay_date", "currency",
                         "record_count", "total_amount", "purpose")
PAYROLL_ROW_FIELDS = ("seq", "account", "name", "amount", "id_type", "id_number", "remark")
# Version 2 (a correction, issue 13): the header adds the 核对码 (may be empty), then the original
# batch number and the original file's digest (may be empty); each record adds the original seq.
PAYROLL_V2_HEADER_FIELDS = (*PAYROLL_HEADER_FIELDS, "check_code", "original_batch_no", "original_digest")
PAYROLL_V2_ROW_FIELDS = (*PAYROLL_ROW_FIELDS, "original_seq")
EMPLOYEE_HEADER_FIELDS = ("agreement_no", "payer_unit_no", "operation", "record_count")
EMPLOYEE_ROW_FIELDS = ("seq", "id_type", "id_number", "name", "account")
RETURN_HEADER_FIELDS = ("agreement_no", "payer_unit_no", "batch_no", "pay_date", "success_count",
                        "success_amount", "failure_count", "failure_amount", "fee_charged")
RETURN_ROW_FIELDS = ("seq", "account", "name", "amount", "result_code", "message")
RETURN_V2_HEADER_FIELDS = (*RETURN_HEADER_FIELDS, "payroll_digest")  # version 2: the answered file's digest

# An amount the loader could not read. Rows keep it so that one bad cell does not also show
# up as a wrong record count; the checks skip it because the loader already reported it.
AMOUNT_UNREADABLE = Decimal("NaN")
_CENT = Decimal("0.01")
_FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_cell(text: str) -> str:
    """Text written back out (report CSV, return list) that a spreadsheet would run as a
    formula gets a leading apostrophe, which Excel and LibreOffice show as plain text."""
    return "'" + text if text.startswith(_FORMULA_LEADERS) else text


def file_digest(data: bytes) -> str:
    """SHA-256 of the plain file, lowercase hex: the checklist prints it, the kiosk shows it."""
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- writing


def _amount_text(value: Decimal) -> str:
    if not value.is_finite():
        raise ExchangeError("amount_unwritable", f"金额 {value} 不是数字，无法写入文件。",
                            f"amount {value} is not a number and cannot be written.")
    # Two places when exact (100 → 100.00); more places are written as they are, never rounded:
    # the checks refuse them, and silently rounding money would hide the mistake.
    if value.as_tuple().exponent >= -2:  # type: ignore[operator]
        value = value.quantize(_CENT)
    return format(value, "f")


def _line_join(values: Sequence[str], names: Sequence[str], row: int | None) -> str:
    line = SEP.join(values)
    if line.count(SEP) != len(values) - 1 or "\n" in line or "\r" in line:
        for value, name in zip(values, names, strict=True):
            if SEP in value or "\n" in value or "\r" in value:
                where_zh = f"第 {row} 行" if row is not None else "文件头"
                where_en = f"row {row}" if row is not None else "header"
                raise ExchangeError(
                    "field_delimiter",
                    f"{where_zh} {field_label(name)} 含有竖线“|”或换行，文件无法写入。请删除这些字符后重试。",
                    f"{where_en}, {field_label(name, 'en')} contains '|' or a line break, so the file "
                    "cannot be written. Remove those characters and try again.",
                )
    return line


def _version_require(version: str, versions: tuple[str, ...] = (FORMAT_VERSION,)) -> None:
    if version not in versions:
        raise ExchangeError("format_version", f"不支持的格式版本 {version!r}，本程序写入版本 {FORMAT_VERSION}。",
                            f"unsupported format version {version!r}; this program writes version "
                            f"{FORMAT_VERSION}.")


def _lines_encode(lines: list[str]) -> bytes:
    lines.append("")  # every line, the last included, ends with LF
    return "\n".join(lines).encode("utf-8")


def _payroll_v2_dump(f: PayrollFile) -> bytes:
    h = f.header
    if not h.original_batch_no:
        raise ExchangeError("correction_original_missing", "更正文件必须注明原批次号。",
                            "a correction file must name the original batch number.")
    lines = [_line_join((KIND_PAYROLL, h.format_version, h.agreement_no, h.payer_unit_no, h.batch_no,
                         h.pay_date.isoformat(), h.currency, str(h.record_count), _amount_text(h.total_amount),
                         h.purpose, h.check_code, h.original_batch_no, h.original_digest),
                        ("kind", "format_version", *PAYROLL_V2_HEADER_FIELDS), None)]
    for r in f.rows:
        lines.append(_line_join((str(r.seq), r.account, r.name, _amount_text(r.amount), r.id_type,
                                 r.id_number, r.remark, str(r.original_seq)), PAYROLL_V2_ROW_FIELDS, r.seq))
    return _lines_encode(lines)


@cycle_collection_paused()  # a tuple and a line per row, none in a cycle (columnar.py)
def payroll_dump(f: PayrollFile) -> bytes:
    h = f.header
    _version_require(h.format_version, PAYROLL_VERSIONS)
    if h.format_version == PAYROLL_CORRECTION_VERSION:
        return _payroll_v2_dump(f)
    code = (h.check_code,) if h.check_code else ()  # 核对码: an optional last field (issue 13)
    lines = [_line_join((KIND_PAYROLL, h.format_version, h.agreement_no, h.payer_unit_no, h.batch_no,
                         h.pay_date.isoformat(), h.currency, str(h.record_count),
                         _amount_text(h.total_amount), h.purpose, *code),
                        ("kind", "format_version", *PAYROLL_HEADER_FIELDS, "check_code")[:11 if code else 10],
                        None)]
    # Rows that need no refusal and no rounding are written column by column (columnar.py: a
    # third of the row loop's time on 100k rows); any other file by the row loop, which words it.
    body = payroll_lines_text(f.rows) if f.rows else None
    if body is not None:
        return f"{lines[0]}\n{body}\n".encode()
    for r in f.rows:
        lines.append(_line_join((str(r.seq), r.account, r.name, _amount_text(r.amount), r.id_type,
                                 r.id_number, r.remark), PAYROLL_ROW_FIELDS, r.seq))
    return _lines_encode(lines)


def employee_dump(f: EmployeeFile) -> bytes:
    h = f.header
    _version_require(h.format_version)
    lines = [_line_join((KIND_EMPLOYEES, h.format_version, h.agreement_no, h.payer_unit_no,
                         h.operation, str(h.record_count)),
                        ("kind", "format_version", *EMPLOYEE_HEADER_FIELDS), None)]
    for r in f.rows:
        lines.append(_line_join((str(r.seq), r.id_type, r.id_number, r.name, r.account),
                                EMPLOYEE_ROW_FIELDS, r.seq))
    return _lines_encode(lines)


def return_dump(f: ReturnFile) -> bytes:
    h = f.header
    _version_require(h.format_version, RETURN_VERSIONS)
    v2 = h.format_version == RETURN_DIGEST_VERSION
    if v2 and not h.payroll_digest:
        raise ExchangeError("return_digest_missing", "回盘文件（版本 2）必须注明所回复的工资文件摘要。",
                            "a return file (version 2) must carry the digest of the payroll file it answers.")
    lines = [_line_join((KIND_RETURN, h.format_version, h.agreement_no, h.payer_unit_no, h.batch_no,
                         h.pay_date.isoformat(), str(h.success_count), _amount_text(h.success_amount),
                         str(h.failure_count), _amount_text(h.failure_amount),
                         _amount_text(h.fee_charged), *((h.payroll_digest,) if v2 else ()),
                         *((h.original_batch_no,) if v2 and h.original_batch_no else ())),
                        ("kind", "format_version", *(RETURN_V2_HEADER_FIELDS if v2 else RETURN_HEADER_FIELDS),
                         "original_batch_no")[:13 if v2 and h.original_batch_no else 12 if v2 else 11], None)]
    for r in f.rows:
        lines.append(_line_join((str(r.seq), r.account, r.name, _amount_text(r.amount), r.result_code,
                                 r.message), RETURN_ROW_FIELDS, r.seq))
    return _lines_encode(lines)


# ---------------------------------------------------------------- reading


def _unreadable(kind_zh: str, kind_en: str, zh: str, en: str, code: str = "file_unreadable") -> ExchangeError:
    return ExchangeError(code, f"无法读取{kind_zh}：{zh}", f"cannot read the {kind_en}: {en}")


# Record lines are handed out one chunk of text at a time: the list of every line of a 50 MB
# upload of short malformed lines cost ~300 MB (2.6 million str objects); one chunk's lines, ~6 MB
# (benchmarks/bench_memory.py). A chunk is cut from the bytes and decoded on its own (issue 15,
# P6): the text of a whole 1M-row file is ~140 MB (names make it two bytes a character), held
# beside the bytes and every row object at the end of the load; a chunk's text is ~2 MB.
_CHUNK_BYTES = 1 << 20
_BOM = "\ufeff".encode()


def _record_chunks(data: bytes, start: int, size: int) -> Iterator[str]:
    """``data[start:size]`` decoded, in pieces of whole lines (about _CHUNK_BYTES each), LF between
    lines. A cut at LF is a character boundary in UTF-8, so each piece decodes on its own."""
    while start < size:
        cut = data.find(b"\n", min(start + _CHUNK_BYTES, size - 1), size)
        cut = size if cut < 0 else cut
        yield data[start:cut].decode("utf-8")
        start = cut + 1


class _Lines:
    """The record lines, as ``split("\n")`` of the decoded ``data[start:size]`` would give them;
    ``chunks`` hands the same lines out a chunk at a time (payroll_load's whole-column fast path)."""

    __slots__ = ("data", "size", "start")

    def __init__(self, data: bytes, start: int, size: int) -> None:
        self.data, self.start, self.size = data, start, size

    def chunks(self) -> Iterator[str]:
        return _record_chunks(self.data, self.start, self.size)

    def __iter__(self) -> Iterator[str]:
        for chunk in self.chunks():
            yield from chunk.split("\n")


def _utf8_require(data: bytes, kind_zh: str, kind_en: str) -> None:
    """The whole file is UTF-8, or the refusal names the first byte that is not: checked before
    the header, as when the file was decoded whole. Decoded a piece at a time and each piece
    dropped, so the check never holds the text of the file (a cut at LF is a character boundary)."""
    if data.isascii():
        return
    start, size = 0, len(data)
    while start < size:
        cut = data.find(b"\n", min(start + _CHUNK_BYTES, size - 1), size)
        cut = size if cut < 0 else cut + 1
        try:
            data[start:cut].decode("utf-8")
        except UnicodeDecodeError as exc:
            offset = start + exc.start
            raise _unreadable(kind_zh, kind_en, f"第 {offset} 字节起不是 UTF-8 文本。请使用本系统生成的原始文件。",
                              f"the bytes from offset {offset} are not UTF-8 text. Use the file this "
                              "system wrote, unchanged.", "file_encoding") from None
        start = cut


def _lines_split(data: bytes, kind: str, kind_zh: str, kind_en: str, header_len: int, optional: int = 0,
                 versions: dict[str, tuple[int, int]] | None = None) -> tuple[list[str], _Lines]:
    """(header fields, record lines) or ExchangeError when the file is not ours as a whole."""
    _utf8_require(data, kind_zh, kind_en)
    data = data.removeprefix(_BOM)  # an editor may add a BOM; it carries no data
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")  # a file that went through a Windows editor
    size = len(data)
    while size and data[size - 1] == 10:  # rstrip of LF without a copy of the bytes
        size -= 1
    header_end = data.find(b"\n", 0, size)
    header_end = size if header_end < 0 else header_end
    first = data[:header_end].decode("utf-8")
    header = first.split(SEP)
    if not first or header[0] != kind:
        raise _unreadable(kind_zh, kind_en, f"第一行应为以 {kind}| 开头的文件头。请确认选择了正确的文件。",
                          f"the first line must be a header starting with {kind}|. Check that you chose "
                          "the right file.", "file_header")
    if versions and len(header) > 1 and header[1] in versions:  # a kind read in several versions
        header_len, optional = versions[header[1]]
    elif len(header) < 2 or header[1] != FORMAT_VERSION:
        version = header[1] if len(header) > 1 else ""
        raise _unreadable(kind_zh, kind_en,
                          f"格式版本 {version!r} 不受支持（应为 {FORMAT_VERSION}）。请升级客户端后重新生成文件。",
                          f"format version {version!r} is not supported (expected {FORMAT_VERSION}). "
                          "Update the client and make the file again.", "format_version")
    if not header_len <= len(header) <= header_len + optional:
        raise _unreadable(kind_zh, kind_en, f"文件头应有 {header_len} 个字段，实有 {len(header)} 个。",
                          f"the header must have {header_len} fields, it has {len(header)}.", "file_header")
    return header, _Lines(data, header_end + 1, size)


def _header_value(parse: Callable[[str], object], text: str, name: str, kind_zh: str, kind_en: str) -> object:
    try:
        return parse(text)
    except (ValueError, ArithmeticError):
        raise _unreadable(kind_zh, kind_en, f"文件头 {field_label(name)} {text!r} 无法识别。",
                          f"the header's {field_label(name, 'en')} {text!r} cannot be read.",
                          "file_header") from None


def _count_parse(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ValueError(text)
    return int(text)


def _decimal_parse(text: str) -> Decimal:
    body = text[1:] if text[:1] == "-" else text
    if not (body.isascii() and body.replace(".", "", 1).isdigit()):
        raise InvalidOperation(text)
    return Decimal(text)


def _line_error(line_no: int, expected: int, found: int) -> RowError:
    return row_error("line_fields", line_no - 1, None,
                     f"文件第 {line_no} 行应有 {expected} 个以“|”分隔的字段，实有 {found} 个，"
                     "本行未读取。请重新生成文件。",
                     f"file line {line_no} must have {expected} fields separated by '|', it has {found}; "
                     "the line was not read. Make the file again.")


def _seq_error(line_no: int, text: str) -> RowError:
    return row_error("seq_syntax", line_no - 1, "seq", f"{text!r} 不是正整数，本行未读取。请重新生成文件。",
                     f"{text!r} is not a positive whole number; the line was not read. Make the file again.")


def _amount_error(row: int, text: str) -> RowError:
    return row_error("amount_syntax", row, "amount",
                     f"{text!r} 不是金额。请填写以元为单位的数字，如 3500.00。",
                     f"{text!r} is not an amount. Enter a number of yuan such as 3500.00.")


def payroll_load(data: bytes, *, errors: ErrorSink | None = None) -> tuple[PayrollFile, ErrorSink]:
    """The rows that parse and the line errors of those that do not (into ``errors``, a list by
    default: the platform passes a sink that counts while it parses)."""
    with cycle_collection_paused():
        return _payroll_load(data, errors)


def _payroll_load(data: bytes, errors: ErrorSink | None) -> tuple[PayrollFile, ErrorSink]:
    kind_zh, kind_en = "代发工资文件", "payroll file"
    h, lines = _lines_split(data, KIND_PAYROLL, kind_zh, kind_en, 2 + len(PAYROLL_HEADER_FIELDS), optional=1,
                            versions={PAYROLL_CORRECTION_VERSION: (2 + len(PAYROLL_V2_HEADER_FIELDS), 0)})
    if h[1] == PAYROLL_CORRECTION_VERSION:
        return _payroll_v2_load(h, lines, errors, kind_zh, kind_en)

    header = _payroll_v1_header(h, kind_zh, kind_en)
    rows: list[PayrollRow] = []
    errors = [] if errors is None else errors
    line_no = 2  # of the chunk's first line
    for chunk in lines.chunks():
        # A chunk whose every line reads cleanly is read column by column (columnar.py: 100k rows
        # in about a third of the row loop's time); any other goes through the row loop below,
        # which words every problem.
        clean = payroll_lines_columnar(chunk)
        if clean is not None:
            rows += clean
            line_no += len(clean)
            continue
        chunk_lines = chunk.split("\n")
        _payroll_v1_lines(chunk_lines, line_no, rows, errors)
        line_no += len(chunk_lines)
    return PayrollFile(header, rows), errors


def _payroll_v1_header(h: list[str], kind_zh: str, kind_en: str) -> PayrollHeader:
    def value(parse: Callable[[str], object], i: int) -> object:
        return _header_value(parse, h[i], PAYROLL_HEADER_FIELDS[i - 2], kind_zh, kind_en)

    return PayrollHeader(h[1], h[2], h[3], h[4], value(date.fromisoformat, 5), h[6],  # type: ignore[arg-type]
                         value(_count_parse, 7), value(_decimal_parse, 8), h[9],  # type: ignore[arg-type]
                         h[10] if len(h) > 10 else "")


def _payroll_v1_lines(lines: list[str], first_line_no: int, rows: list[PayrollRow], errors: ErrorSink) -> None:
    """payroll_load's row loop over some lines: str methods only, no exception on a good row."""
    append = rows.append
    share = {}.setdefault  # one str per repeated name or remark, as columnar.shared
    for line_no, line in enumerate(lines, first_line_no):
        parts = line.split(SEP)
        if len(parts) != 7:
            errors.append(_line_error(line_no, 7, len(parts)))
            continue
        seq_text, account, name, amount_text, id_type, id_number, remark = parts
        if not (seq_text.isdigit() and seq_text.isascii()):
            errors.append(_seq_error(line_no, seq_text))
            continue
        seq = int(seq_text)
        body = amount_text[1:] if amount_text[:1] == "-" else amount_text
        if body.isascii() and body.replace(".", "", 1).isdigit():
            amount = Decimal(amount_text)
        else:
            errors.append(_amount_error(seq, amount_text))
            amount = AMOUNT_UNREADABLE
        append(PayrollRow(seq, account, share(name, name), amount, id_type, id_number, share(remark, remark)))


def _payroll_v2_load(h: list[str], lines: _Lines, errors: ErrorSink | None, kind_zh: str,
                     kind_en: str) -> tuple[PayrollFile, ErrorSink]:
    """Version 2, a correction: the original batch in the header, the original seq on each row."""

    def value(parse: Callable[[str], object], i: int) -> object:
        return _header_value(parse, h[i], PAYROLL_V2_HEADER_FIELDS[i - 2], kind_zh, kind_en)

    if not h[11]:
        raise _unreadable(kind_zh, kind_en, "更正文件（版本 2）的文件头缺少原批次号。请在客户端重新制作更正文件。",
                          "the header of a correction file (version 2) lacks the original batch number. Make "
                          "the correction file again in the client.", "file_header")
    header = PayrollHeader(h[1], h[2], h[3], h[4], value(date.fromisoformat, 5), h[6],  # type: ignore[arg-type]
                           value(_count_parse, 7), value(_decimal_parse, 8), h[9],  # type: ignore[arg-type]
                           h[10], h[11], h[12])
    rows: list[PayrollRow] = []
    errors = [] if errors is None else errors
    for line_no, line in enumerate(lines, 2):
        parts = line.split(SEP)
        if len(parts) != 8:
            errors.append(_line_error(line_no, 8, len(parts)))
            continue
        seq_text, account, name, amount_text, id_type, id_number, remark, original_text = parts
        if not (seq_text.isdigit() and seq_text.isascii()):
            errors.append(_seq_error(line_no, seq_text))
            continue
        seq = int(seq_text)
        if not (original_text.isdigit() and original_text.isascii()) or int(original_text) < 1:
            errors.append(row_error("original_seq_syntax", seq, "original_seq",
                                    f"原序号 {original_text!r} 不是正整数，本行未读取。请在客户端重新制作更正文件。",
                                    f"the original seq {original_text!r} is not a positive whole number; the line "
                                    "was not read. Make the correction file again in the client."))
            continue
        try:
            amount = _decimal_parse(amount_text)
        except InvalidOperation:
            errors.append(_amount_error(seq, amount_text))
            amount = AMOUNT_UNREADABLE
        rows.append(PayrollRow(seq, account, name, amount, id_type, id_number, remark, int(original_text)))
    return PayrollFile(header, rows), errors


def employee_load(data: bytes, *, errors: ErrorSink | None = None) -> tuple[EmployeeFile, ErrorSink]:
    kind_zh, kind_en = "员工信息盘片", "employee file"
    h, lines = _lines_split(data, KIND_EMPLOYEES, kind_zh, kind_en, 2 + len(EMPLOYEE_HEADER_FIELDS))
    if h[4] not in ("add", "delete"):
        raise _unreadable(kind_zh, kind_en, f"操作类型 {h[4]!r} 应为 add（新增）或 delete（删除）。",
                          f"the operation {h[4]!r} must be add or delete.", "file_header")
    count = _header_value(_count_parse, h[5], "record_count", kind_zh, kind_en)
    header = EmployeeHeader(h[1], h[2], h[3], h[4], count)  # type: ignore[arg-type]
    rows: list[EmployeeRow] = []
    errors = [] if errors is None else errors
    for line_no, line in enumerate(lines, 2):
        parts = line.split(SEP)
        if len(parts) != 5:
            errors.append(_line_error(line_no, 5, len(parts)))
            continue
        seq_text, id_type, id_number, name, account = parts
        if not (seq_text.isdigit() and seq_text.isascii()):
            errors.append(_seq_error(line_no, seq_text))
            continue
        rows.append(EmployeeRow(int(seq_text), id_type, id_number, name, account))
    return EmployeeFile(header, rows), errors


def return_load(data: bytes) -> tuple[ReturnFile, list[RowError]]:
    kind_zh, kind_en = "回盘文件", "return file"
    h, lines = _lines_split(data, KIND_RETURN, kind_zh, kind_en, 2 + len(RETURN_HEADER_FIELDS),
                            versions={RETURN_DIGEST_VERSION: (2 + len(RETURN_V2_HEADER_FIELDS), 1)})

    def value(parse: Callable[[str], object], i: int) -> object:
        return _header_value(parse, h[i], RETURN_HEADER_FIELDS[i - 2], kind_zh, kind_en)

    header = ReturnHeader(h[1], h[2], h[3], h[4], value(date.fromisoformat, 5),  # type: ignore[arg-type]
                          value(_count_parse, 6), value(_decimal_parse, 7),  # type: ignore[arg-type]
                          value(_count_parse, 8), value(_decimal_parse, 9),  # type: ignore[arg-type]
                          value(_decimal_parse, 10), h[11] if h[1] == RETURN_DIGEST_VERSION else "",  # type: ignore[arg-type]
                          h[12] if len(h) > 12 else "")  # a correction's original batch (更正, issue 13)
    rows: list[ReturnRow] = []
    errors: list[RowError] = []
    for line_no, line in enumerate(lines, 2):
        parts = line.split(SEP)
        if len(parts) != 6:
            errors.append(_line_error(line_no, 6, len(parts)))
            continue
        seq_text, account, name, amount_text, result_code, message = parts
        if not (seq_text.isdigit() and seq_text.isascii()):
            errors.append(_seq_error(line_no, seq_text))
            continue
        seq = int(seq_text)
        try:
            amount = _decimal_parse(amount_text)
        except InvalidOperation:
            errors.append(_amount_error(seq, amount_text))
            amount = AMOUNT_UNREADABLE
        rows.append(ReturnRow(seq, account, name, amount, result_code, message))
    return ReturnFile(header, rows), errors
