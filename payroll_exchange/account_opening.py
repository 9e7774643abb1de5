"""批量开户: the batch account opening request (client → bank) and its result (bank → client).

Pure Python, like ``formats``: the enterprise client writes the request and reads the result,
the bank's back office reads the request and writes the result. Same line rules as every other
exchange file (UTF-8, ``|`` between fields, nothing escaped, LF; see docs/formats.md):

    ACCOUNT_OPENING|1|agreement_no|payer_unit_no|record_count
    seq|id_type|id_number|name|mobile|remark

    ACCOUNT_OPENING_RESULT|1|agreement_no|request_file_id|opened_count|refused_count
    seq|id_type|id_number|name|result_code|account|message

Both travel in the CMS envelope of ``envelope.py``: the request signed with the enterprise's USB
key and encrypted for the bank, the result signed by the bank and encrypted for the enterprise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from payroll_exchange import checks
from payroll_exchange.errors import RowError
from payroll_exchange.formats import (  # the shared line rules of every exchange file
    _count_parse,
    _header_value,
    _line_error,
    _line_join,
    _lines_encode,
    _lines_split,
    _seq_error,
    _version_require,
)
from payroll_exchange.messages import row_error
from payroll_exchange.records import FORMAT_VERSION

KIND_REQUEST = "ACCOUNT_OPENING"
KIND_RESULT = "ACCOUNT_OPENING_RESULT"
# Envelope kinds (envelope.KINDS). The result travels as "account_opening" too: envelope.KINDS has
# no result kind yet. The recipient header (bank vs enterprise certificate), the payload's first
# line and the signer checks of both readers keep the two directions apart.
ENVELOPE_KIND_REQUEST = "account_opening"
ENVELOPE_KIND_RESULT = "account_opening_result"

REQUEST_HEADER_FIELDS = ("agreement_no", "payer_unit_no", "record_count")
REQUEST_ROW_FIELDS = ("seq", "id_type", "id_number", "name", "mobile", "remark")
RESULT_HEADER_FIELDS = ("agreement_no", "request_file_id", "opened_count", "refused_count")
RESULT_ROW_FIELDS = ("seq", "id_type", "id_number", "name", "result_code", "account", "message")

RESULT_OPENED = "0000"
# Reason codes of a refused row: the row breaks a rule of the request format (the client checks
# them too, so they only appear for a file made by other software), or it repeats a person.
RESULT_REASONS: dict[str, tuple[str, str]] = {
    "ID01": ("证件类型或证件号码无效", "invalid ID type or ID number"),
    "NM01": ("姓名无效", "invalid name"),
    "MB01": ("手机号码无效", "invalid mobile phone number"),
    "RM01": ("备注无效", "invalid remark"),
    "DUPL": ("同一证件在本文件中重复", "the same ID appears twice in this file"),
}
ACCOUNT_LENGTH = 19  # a UnionPay debit card number: 62 + 16 digits + Luhn check digit
MOBILE_LENGTH = 11
MESSAGE_MAX = 100

# Labels of the fields only these files have; the others come from messages.FIELD_LABELS.
_OWN_LABELS: dict[str, tuple[str, str]] = {
    "mobile": ("手机号码", "mobile phone"),
    "request_file_id": ("申请文件标识", "request file id"),
    "opened_count": ("开户成功笔数", "opened count"),
    "refused_count": ("开户失败笔数", "refused count"),
}


@dataclass(slots=True)
class AccountOpeningHeader:
    format_version: str
    agreement_no: str
    payer_unit_no: str
    record_count: int


@dataclass(slots=True)
class AccountOpeningRow:
    seq: int
    id_type: str  # one-character code, see records.ID_TYPES
    id_number: str
    name: str
    mobile: str  # 11 digits starting with 1
    remark: str


@dataclass(slots=True)
class AccountOpeningFile:
    header: AccountOpeningHeader
    rows: list[AccountOpeningRow]


@dataclass(slots=True)
class AccountOpeningResultHeader:
    format_version: str
    agreement_no: str
    request_file_id: str  # the envelope file id of the request this answers
    opened_count: int
    refused_count: int


@dataclass(slots=True)
class AccountOpeningResultRow:
    seq: int
    id_type: str
    id_number: str
    name: str
    result_code: str  # "0000" opened, else a key of RESULT_REASONS
    account: str  # the new account number when opened, else ""
    message: str


@dataclass(slots=True)
class AccountOpeningResultFile:
    header: AccountOpeningResultHeader
    rows: list[AccountOpeningResultRow]


# ---------------------------------------------------------------- errors


def _error(code: str, row: int | None, field: str | None, zh: str, en: str) -> RowError:
    """messages.row_error, with the labels of this file's own fields."""
    if field not in _OWN_LABELS:
        return row_error(code, row, field, zh, en)
    zh_label, en_label = _OWN_LABELS[field]
    if row is None:
        return RowError(code=code, row=None, field=field, zh=f"文件头 {zh_label}：{zh}", en=f"header, {en_label}: {en}")
    return RowError(code=code, row=row, field=field, zh=f"第 {row} 行 {zh_label}：{zh}",
                    en=f"row {row}, {en_label}: {en}")


_MOBILE_PREFIXES = ("+86", "0086", "86")  # the country code, as written in HR sheets: +86 139 0000 1111


def mobile_normalize(text: str) -> str:
    """Full-width digits to ASCII, spaces and hyphens dropped (138-0013-8000), as for accounts;
    the mainland country code (+86, 0086, 86 before 11 digits) and brackets around it dropped."""
    value = checks.account_normalize(text.replace("（", "(").replace("）", ")").replace("＋", "+"))
    value = value.replace("(", "").replace(")", "")
    for prefix in _MOBILE_PREFIXES:
        rest = value[len(prefix):]
        if value.startswith(prefix) and len(rest) == MOBILE_LENGTH and rest.isdigit() and rest[0] == "1":
            return rest
    return value


def mobile_problem(mobile: str, row: int) -> RowError | None:
    if not mobile:
        return _error("mobile_missing", row, "mobile", "为空。请填写本人手机号码。",
                      "is empty. Enter the employee's own mobile phone number.")
    if not (mobile.isascii() and mobile.isdigit() and len(mobile) == MOBILE_LENGTH and mobile[0] == "1"):
        return _error("mobile_invalid", row, "mobile",
                      f"{mobile!r} 不是手机号码。手机号码为 11 位数字，以 1 开头。请核对。",
                      f"{mobile!r} is not a mobile phone number: 11 digits starting with 1. Check it.")
    return None


def remark_problem(remark: str, row: int) -> RowError | None:
    if remark and (len(remark) > checks.REMARK_MAX or "|" in remark or "\n" in remark or "\r" in remark):
        return row_error("remark_char", row, "remark",
                         f"含有竖线“|”或换行，或超过 {checks.REMARK_MAX} 个字。请修改备注。",
                         f"contains '|' or a line break, or is longer than {checks.REMARK_MAX} characters. "
                         "Edit the remark.")
    return None


def unionpay_account_valid(account: str) -> bool:
    """A new account of this bank: 19 ASCII digits, 62…, valid Luhn check digit."""
    return (len(account) == ACCOUNT_LENGTH and account.isascii() and account.isdigit()
            and account.startswith("62") and checks.luhn_valid(account))


def luhn_complete(body: str) -> str:
    """``body`` (ASCII digits) followed by the Luhn check digit that makes it valid."""
    return next(body + d for d in "0123456789" if checks.luhn_valid(body + d))


# ---------------------------------------------------------------- the request


def account_opening_row_problems(row: AccountOpeningRow, today: date,
                                 births: dict[str, bool] | None = None) -> list[RowError]:
    """Every problem of one row (ID type and number, name, mobile, remark)."""
    seq = row.seq
    problems = [
        checks.id_problem(row.id_type, row.id_number, seq, today, {} if births is None else births),
        checks.name_problem(row.name, seq),
        mobile_problem(row.mobile, seq),
        remark_problem(row.remark, seq),
    ]
    return [p for p in problems if p is not None]


def _person_key(row: AccountOpeningRow | AccountOpeningResultRow) -> tuple[str, str]:
    return row.id_type, row.id_number.upper()


def account_opening_header_check(*, request: AccountOpeningFile) -> list[RowError]:
    """The problems that concern the file as a whole: version, header, record count, sequence
    numbers. The bank refuses a file with any of them without opening a single account."""
    h = request.header
    rows = request.rows
    errors: list[RowError] = []
    if h.format_version != FORMAT_VERSION:
        errors.append(row_error("format_version", None, "format_version",
                                f"{h.format_version!r} 不受支持（应为 {FORMAT_VERSION}）。请升级客户端后重新生成文件。",
                                f"{h.format_version!r} is not supported (expected {FORMAT_VERSION}). Update the "
                                "client and make the file again."))
    for field in ("agreement_no", "payer_unit_no"):
        value = getattr(h, field)
        if not value.strip() or any(c in value for c in "|\r\n"):
            errors.append(row_error("header_missing", None, field, "为空或含有非法字符。请在生成文件时选择协议。",
                                    "is empty or holds forbidden characters. Choose the agreement when making "
                                    "the file."))
    if not rows:
        errors.append(row_error("no_rows", None, None, "文件中没有任何记录。请检查数据起始行和所选工作表。",
                                "the file holds no records. Check the first data row and the chosen sheet."))
    if h.record_count != len(rows):
        errors.append(row_error("record_count_mismatch", None, "record_count",
                                f"文件头为 {h.record_count} 笔，实际有 {len(rows)} 笔。请重新生成文件。",
                                f"the header says {h.record_count} records, the file has {len(rows)}. Make the "
                                "file again."))
    seqs: set[int] = set()
    for r in rows:
        if r.seq in seqs:
            errors.append(row_error("seq_duplicate", r.seq, "seq", f"序号 {r.seq} 已在前面出现。请重新生成文件。",
                                    f"sequence number {r.seq} appears twice. Make the file again."))
        seqs.add(r.seq)
    return errors


def person_repeats(rows: list[AccountOpeningRow]) -> dict[int, int]:
    """seq of each row whose person (ID type + number) appeared before → seq of the first."""
    people: dict[tuple[str, str], int] = {}
    repeats: dict[int, int] = {}
    for r in rows:
        if r.id_number:
            first = people.setdefault(_person_key(r), r.seq)
            if first != r.seq:
                repeats[r.seq] = first
    return repeats


def account_opening_check(*, request: AccountOpeningFile, today: date) -> list[RowError]:
    """Every problem at once: the header's, every row's, and a person only once per file."""
    errors = account_opening_header_check(request=request)
    births: dict[str, bool] = {}
    repeats = person_repeats(request.rows)
    for r in request.rows:
        errors.extend(account_opening_row_problems(r, today, births))
        if r.seq in repeats:
            errors.append(row_error("id_number_duplicate", r.seq, "id_number",
                                    f"{r.id_number} 与第 {repeats[r.seq]} 行重复。同一人只能申请开立一个账户，"
                                    "请删除重复的行。",
                                    f"{r.id_number} already appears in row {repeats[r.seq]}. One person may ask "
                                    "for one account: remove the repeated row."))
    return errors


def account_opening_dump(f: AccountOpeningFile) -> bytes:
    h = f.header
    _version_require(h.format_version)
    lines = [_line_join((KIND_REQUEST, h.format_version, h.agreement_no, h.payer_unit_no, str(h.record_count)),
                        ("kind", "format_version", *REQUEST_HEADER_FIELDS), None)]
    for r in f.rows:
        lines.append(_line_join((str(r.seq), r.id_type, r.id_number, r.name, r.mobile, r.remark),
                                REQUEST_ROW_FIELDS, r.seq))
    return _lines_encode(lines)


def account_opening_load(data: bytes) -> tuple[AccountOpeningFile, list[RowError]]:
    kind_zh, kind_en = "批量开户文件", "account opening file"
    h, lines = _lines_split(data, KIND_REQUEST, kind_zh, kind_en, 2 + len(REQUEST_HEADER_FIELDS))
    count = _header_value(_count_parse, h[4], "record_count", kind_zh, kind_en)
    header = AccountOpeningHeader(h[1], h[2], h[3], count)  # type: ignore[arg-type]
    rows: list[AccountOpeningRow] = []
    errors: list[RowError] = []
    width = len(REQUEST_ROW_FIELDS)
    for line_no, line in enumerate(lines, 2):
        parts = line.split("|")
        if len(parts) != width:
            errors.append(_line_error(line_no, width, len(parts)))
            continue
        seq_text, id_type, id_number, name, mobile, remark = parts
        if not (seq_text.isdigit() and seq_text.isascii()):
            errors.append(_seq_error(line_no, seq_text))
            continue
        rows.append(AccountOpeningRow(int(seq_text), id_type, id_number, name, mobile, remark))
    return AccountOpeningFile(header, rows), errors


# ---------------------------------------------------------------- the result


def account_opening_result_check(*, result: AccountOpeningResultFile) -> list[RowError]:
    """What the client checks before it trusts a result: counts, and an account exactly on the
    opened rows, each a valid 19-digit UnionPay number used once."""
    h = result.header
    rows = result.rows
    errors: list[RowError] = []
    opened = [r for r in rows if r.result_code == RESULT_OPENED]
    for field, stated, found in (("opened_count", h.opened_count, len(opened)),
                                 ("refused_count", h.refused_count, len(rows) - len(opened))):
        if stated != found:
            errors.append(_error("result_count_mismatch", None, field,
                                 f"文件头为 {stated} 笔，明细有 {found} 笔。请联系银行。",
                                 f"the header says {stated}, the rows have {found}. Contact the bank."))
    accounts: dict[str, int] = {}
    for r in rows:
        if r.result_code == RESULT_OPENED:
            if not unionpay_account_valid(r.account):
                errors.append(row_error("result_account_invalid", r.seq, "account",
                                        f"{r.account!r} 不是有效的 19 位银联卡号。请联系银行。",
                                        f"{r.account!r} is not a valid 19-digit UnionPay number. Contact the bank."))
            first = accounts.setdefault(r.account, r.seq)
            if first != r.seq:
                errors.append(row_error("account_duplicate", r.seq, "account",
                                        f"{r.account} 与第 {first} 行重复。请联系银行。",
                                        f"{r.account} already appears in row {first}. Contact the bank."))
        elif r.result_code not in RESULT_REASONS or r.account:
            errors.append(row_error("result_code_invalid", r.seq, "result_code",
                                    f"结果码 {r.result_code!r} 无法识别或未开户的行带有账号。请联系银行。",
                                    f"result code {r.result_code!r} is unknown, or a row not opened carries an "
                                    "account. Contact the bank."))
    return errors


def account_opening_result_dump(f: AccountOpeningResultFile) -> bytes:
    h = f.header
    _version_require(h.format_version)
    lines = [_line_join((KIND_RESULT, h.format_version, h.agreement_no, h.request_file_id, str(h.opened_count),
                         str(h.refused_count)), ("kind", "format_version", *RESULT_HEADER_FIELDS), None)]
    for r in f.rows:
        lines.append(_line_join((str(r.seq), r.id_type, r.id_number, r.name, r.result_code, r.account, r.message),
                                RESULT_ROW_FIELDS, r.seq))
    return _lines_encode(lines)


def account_opening_result_load(data: bytes) -> tuple[AccountOpeningResultFile, list[RowError]]:
    kind_zh, kind_en = "批量开户结果文件", "account opening result file"
    h, lines = _lines_split(data, KIND_RESULT, kind_zh, kind_en, 2 + len(RESULT_HEADER_FIELDS))
    opened = _header_value(_count_parse, h[4], "opened_count", kind_zh, kind_en)
    refused = _header_value(_count_parse, h[5], "refused_count", kind_zh, kind_en)
    header = AccountOpeningResultHeader(h[1], h[2], h[3], opened, refused)  # type: ignore[arg-type]
    rows: list[AccountOpeningResultRow] = []
    errors: list[RowError] = []
    width = len(RESULT_ROW_FIELDS)
    for line_no, line in enumerate(lines, 2):
        parts = line.split("|")
        if len(parts) != width:
            errors.append(_line_error(line_no, width, len(parts)))
            continue
        seq_text, id_type, id_number, name, result_code, account, message = parts
        if not (seq_text.isdigit() and seq_text.isascii()):
            errors.append(_seq_error(line_no, seq_text))
            continue
        rows.append(AccountOpeningResultRow(int(seq_text), id_type, id_number, name, result_code, account, message))
    return AccountOpeningResultFile(header, rows), errors


def row_refusal(problems: list[RowError], *, repeated: bool = False) -> tuple[str, str] | None:
    """(reason code, message) of a row the bank does not open, from its first problem; None
    when the row can be opened."""
    if problems:
        field = problems[0].field or ""
        code = {"id_type": "ID01", "id_number": "ID01", "name": "NM01", "mobile": "MB01"}.get(field, "RM01")
    elif repeated:
        code = "DUPL"
    else:
        return None
    zh, en = RESULT_REASONS[code]
    return code, f"{zh} {en}"[:MESSAGE_MAX]


__all__ = [
    "ACCOUNT_LENGTH",
    "ENVELOPE_KIND_REQUEST",
    "ENVELOPE_KIND_RESULT",
    "KIND_REQUEST",
    "KIND_RESULT",
    "RESULT_OPENED",
    "RESULT_REASONS",
    "AccountOpeningFile",
    "AccountOpeningHeader",
    "AccountOpeningResultFile",
    "AccountOpeningResultHeader",
    "AccountOpeningResultRow",
    "AccountOpeningRow",
    "account_opening_check",
    "account_opening_dump",
    "account_opening_header_check",
    "account_opening_load",
    "account_opening_result_check",
    "account_opening_result_dump",
    "account_opening_result_load",
    "account_opening_row_problems",
    "luhn_complete",
    "mobile_normalize",
    "mobile_problem",
    "person_repeats",
    "row_refusal",
    "unionpay_account_valid",
]
