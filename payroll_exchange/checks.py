"""The rules of DOMAIN.md "Rules", applied to a whole file: every problem at once.

Each problem is a RowError with the row (the record's ``seq``; None for the header), the field,
a stable code and a message in zh-hans and English that names the field in the user's words
and says what to do next. The row loop is the hot path of the 100,000-row benchmark, so the
common (valid) case uses str methods and byte sums only and creates no exception.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import compress, repeat
from operator import attrgetter, itemgetter, mod, mul

from payroll_exchange.columnar import cycle_collection_paused, digits_all, luhn_all_valid, resident_ids_valid
from payroll_exchange.errors import ErrorSink, RowError
from payroll_exchange.messages import row_error
from payroll_exchange.records import (
    CURRENCY,
    FORMAT_VERSION,
    ID_TYPE_RESIDENT,
    ID_TYPES,
    PAYROLL_VERSIONS,
    EmployeeFile,
    PayrollFile,
    PayrollRow,
)

_ZERO = Decimal(0)
_CENT = Decimal("0.01")
NAME_MAX = 60
REMARK_MAX = 100
ID_NUMBER_MAX = 32
BATCH_NO_MAX = 32
AMOUNT_MAX = Decimal("9999999999999.99")  # no real single payment comes near it
_FORBIDDEN = ("|", "\r", "\n")  # they would break a line of the file (see formats.py)

# Full-width digits (０–９) as Chinese input methods type them; spaces of every width are dropped.
_ACCOUNT_TABLE = str.maketrans("０１２３４５６７８９", "0123456789", " \u3000\t\xa0-")
# Luhn: the digit sum of a doubled digit (5 → 10 → 1, 9 → 18 → 9).
_LUHN_DOUBLE = str.maketrans("0123456789", "0246813579")
# ISO 7064 MOD 11-2 for resident IDs (GB 11643): weight of position i is 2^(17-i) mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHT_ASCII = 48 * sum(_ID_WEIGHTS)  # sum over ASCII codes, minus the weight of "0" × 48
_ID_CHECK_CHARS = "10X98765432"
_BIRTH = itemgetter(slice(6, 14))  # the birth date (YYYYMMDD) of a resident ID
_MONTH_DAY = itemgetter(slice(4, 8))
_MONTH_DAYS = frozenset(f"{day:%m%d}" for day in (date(2024, 1, 1) + timedelta(days=n) for n in range(366)))

_ID_TYPE_NAMES: dict[str, str] = {name: code for code, name in ID_TYPES.items()}
_ID_TYPE_NAMES.update({"身份证": "0", "二代身份证": "0", "港澳通行证": "3", "台胞证": "4",
                       "外国人永久居留证": "5"})

# code → (zh-hans detail, English detail); the where ("第 12 行 账号：") is added by row_error.
MESSAGES: dict[str, tuple[str, str]] = {
    "seq_duplicate": ("序号 {value} 已在前面出现。请重新生成文件。",
                      "sequence number {value} appears twice. Make the file again."),
    "account_missing": ("为空。请填写收款账号。", "is empty. Enter the payee's account number."),
    "account_digits": ("{value!r} 含有数字以外的字符。请只填写数字。",
                       "{value!r} contains characters other than digits. Enter digits only."),
    "account_luhn": ("{value} 是银联卡号（62 开头），但校验位不对，可能输错了一位。请对照银行卡重新输入。",
                     "{value} is a UnionPay card number (starts with 62) but its check digit is wrong: "
                     "a digit is probably mistyped. Copy it again from the card."),
    "account_length": ("{value} 有 {length} 位。62 开头的银联卡号应为 16–19 位，其他账号应为 9–20 位。请核对账号。",
                       "{value} has {length} digits. A UnionPay card (starts with 62) has 16 to 19 digits, "
                       "other accounts 9 to 20. Check the account number."),
    "account_duplicate": ("{value} 与第 {first} 行重复。同一文件中一个账号只能出现一次，请合并或删除重复的行。",
                          "{value} already appears in row {first}. An account may appear only once in a "
                          "file: merge or remove the repeated row."),
    "name_missing": ("为空。请填写收款人姓名。", "is empty. Enter the payee's name."),
    "name_char": ("含有竖线“|”或换行。请删除这些字符。", "contains '|' or a line break. Remove them."),
    "name_length": ("超过 {limit} 个字。请核对户名。", "is longer than {limit} characters. Check the name."),
    "id_type_unknown": ("{value!r} 不是可用的证件类型。请填写代码 0、1、2、3、4、5、9 或名称，如“居民身份证”。",
                        "{value!r} is not a known ID type. Enter a code 0, 1, 2, 3, 4, 5, 9 or a name "
                        "such as 居民身份证."),
    "id_number_missing": ("为空。请填写证件号码。", "is empty. Enter the ID number."),
    "id_number_char": ("含有竖线“|”或换行，或超过 {limit} 个字符。请核对证件号码。",
                       "contains '|' or a line break, or is longer than {limit} characters. Check the ID "
                       "number."),
    "id_number_length": ("居民身份证号码应为 18 位，{value!r} 有 {length} 位。请核对证件号码。",
                         "a resident ID number has 18 characters, {value!r} has {length}. Check the ID "
                         "number."),
    "id_number_chars": ("{value!r} 的前 17 位应全是数字，最后一位是数字或 X。请核对证件号码。",
                        "the first 17 characters of {value!r} must be digits and the last a digit or X. "
                        "Check the ID number."),
    "id_number_check": ("{value} 的校验位不对，可能输错了一位。请对照身份证重新输入。",
                        "the check character of {value} is wrong: a character is probably mistyped. "
                        "Copy it again from the ID card."),
    "id_number_birth": ("{value} 中的出生日期 {birth} 不是真实的过去日期。请对照身份证重新输入。",
                        "the birth date {birth} in {value} is not a real date in the past. Copy it "
                        "again from the ID card."),
    "amount_not_positive": ("{value} 必须大于 0。请填写应发金额。",
                            "{value} must be more than 0. Enter the amount to pay."),
    "amount_decimals": ("{value} 超过两位小数。金额以元为单位，最多到分。",
                        "{value} has more than two decimals. Amounts are yuan, down to the fen (0.01)."),
    "amount_over_limit": ("{value} 超过协议的单笔发放限额 {limit} 元。请拆分或与银行联系调整限额。",
                          "{value} is over the agreement's single payment limit of {limit} yuan. Split "
                          "the payment or ask the bank to change the limit."),
    "remark_char": ("含有竖线“|”或换行，或超过 {limit} 个字。请修改备注。",
                    "contains '|' or a line break, or is longer than {limit} characters. Edit the remark."),
    "format_version": ("{value!r} 不受支持（应为 {expected}）。请升级客户端后重新生成文件。",
                       "{value!r} is not supported (expected {expected}). Update the client and make the "
                       "file again."),
    "header_missing": ("为空。请在生成文件时选择或填写。", "is empty. Choose or enter it when making the file."),
    "batch_no_invalid": ("{value!r} 只能由字母、数字、“-”和“_”组成，最多 {limit} 位。请重新填写批次号。",
                         "{value!r} may hold only letters, digits, '-' and '_', at most {limit}. Enter the "
                         "batch number again."),
    "currency": ("{value!r} 不受支持，代发工资只能使用人民币 CNY。", "{value!r} is not supported: payroll is paid "
                 "in CNY only."),
    "pay_date_past": ("{value} 早于今天 {today}。请选择今天或以后的日期。",
                      "{value} is before today, {today}. Choose today or a later date."),
    "pay_date_too_far": ("{value} 晚于 {latest}（今天起 {days} 天内）。请选择更早的日期，或临近时再提交。",
                         "{value} is after {latest} ({days} days from today). Choose an earlier date or "
                         "submit the file closer to the pay date."),
    "record_count_mismatch": ("文件头为 {expected} 笔，实际有 {found} 笔。请重新生成文件。",
                              "the header says {expected} records, the file has {found}. Make the file again."),
    "total_mismatch": ("文件头为 {expected} 元，各笔合计 {found} 元。请重新生成文件。",
                       "the header says {expected} yuan, the rows add up to {found}. Make the file again."),
    "no_rows": ("文件中没有任何记录。请检查数据起始行和所选工作表。",
                "the file holds no records. Check the first data row and the chosen sheet."),
    "operation": ("{value!r} 应为 add（新增）或 delete（删除）。", "{value!r} must be add or delete."),
}


def _error(code: str, row: int | None, field: str | None, **values: object) -> RowError:
    zh, en = MESSAGES[code]
    return row_error(code, row, field, zh.format(**values), en.format(**values))


def account_normalize(text: str) -> str:
    """Full-width digits to ASCII; spaces (ASCII, ideographic, no-break, tab) and hyphens dropped.
    Anything else is left for the checks to refuse, so the user sees what they typed."""
    if text.isascii() and text.isdigit():
        return text  # the common case, measured: skips a translate on 100,000 rows
    return text.strip().translate(_ACCOUNT_TABLE)


def id_type_parse(text: str) -> str | None:
    """An ID type as a sheet holds it (code, full-width code or Chinese name) → its code."""
    value = text.strip().translate(_ACCOUNT_TABLE)
    if value in ID_TYPES:
        return value
    return _ID_TYPE_NAMES.get(value)


def luhn_valid(digits: str) -> bool:
    """Luhn over ASCII digits. Same answer as stdnum.luhn.is_valid (a test compares them) at about
    a fifth of its cost, which matters on 100,000 accounts."""
    r = digits[::-1]
    total = sum(r[0::2].encode()) + sum(r[1::2].translate(_LUHN_DOUBLE).encode()) - 48 * len(r)
    return total % 10 == 0


def resident_id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of 17 ASCII digits (as stdnum.iso7064.mod_11_2)."""
    total = sum(map(mul, first17.encode(), _ID_WEIGHTS)) - _ID_WEIGHT_ASCII
    return _ID_CHECK_CHARS[total % 11]


def account_problem(account: str, row: int) -> RowError | None:
    if not account:
        return _error("account_missing", row, "account")
    if not (account.isascii() and account.isdigit()):
        return _error("account_digits", row, "account", value=account)
    length = len(account)
    if account.startswith("62") and 16 <= length <= 19:
        return None if luhn_valid(account) else _error("account_luhn", row, "account", value=account)
    if not 9 <= length <= 20:
        return _error("account_length", row, "account", value=account, length=length)
    return None


def _birth_valid(text: str, today: date) -> bool:
    try:
        born = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= today


def id_problem(id_type: str, id_number: str, row: int, today: date, births: dict[str, bool]) -> RowError | None:
    """Resident IDs: length, digits, check character, birth date. The region code (first six
    digits) is deliberately not checked: real IDs carry codes that have since been retired."""
    if id_type == ID_TYPE_RESIDENT:
        if len(id_number) != 18:
            if not id_number:
                return _error("id_number_missing", row, "id_number")
            return _error("id_number_length", row, "id_number", value=id_number, length=len(id_number))
        first17 = id_number[:17]
        last = id_number[17]
        if not (first17.isascii() and first17.isdigit() and last in "0123456789Xx"):
            return _error("id_number_chars", row, "id_number", value=id_number)
        if resident_id_check_char(first17) != last.upper():
            return _error("id_number_check", row, "id_number", value=id_number)
        birth = id_number[6:14]
        valid = births.get(birth)
        if valid is None:
            valid = births[birth] = _birth_valid(birth, today)
        if not valid:
            return _error("id_number_birth", row, "id_number", value=id_number,
                          birth=f"{birth[:4]}-{birth[4:6]}-{birth[6:]}")
        return None
    if id_type not in ID_TYPES:
        return _error("id_type_unknown", row, "id_type", value=id_type)
    if not id_number.strip():
        return _error("id_number_missing", row, "id_number")
    if len(id_number) > ID_NUMBER_MAX or "|" in id_number or "\n" in id_number or "\r" in id_number:
        return _error("id_number_char", row, "id_number", limit=ID_NUMBER_MAX)
    return None


def name_problem(name: str, row: int) -> RowError | None:
    if not name or name.isspace():
        return _error("name_missing", row, "name")
    if len(name) > NAME_MAX:
        return _error("name_length", row, "name", limit=NAME_MAX)
    if "|" in name or "\n" in name or "\r" in name:
        return _error("name_char", row, "name")
    return None


def _header_checks(header: PayrollFile | EmployeeFile, fields: tuple[str, ...]) -> list[RowError]:
    h = header.header
    errors: list[RowError] = []
    # Payroll is read in version 1 and version 2 (a correction, issue 13); other kinds in version 1.
    versions = PAYROLL_VERSIONS if isinstance(header, PayrollFile) else (FORMAT_VERSION,)
    if h.format_version not in versions:
        errors.append(_error("format_version", None, "format_version", value=h.format_version,
                             expected=FORMAT_VERSION))
    for field in fields:
        value = getattr(h, field)
        if not value.strip():
            errors.append(_error("header_missing", None, field))
        elif any(c in value for c in _FORBIDDEN):
            errors.append(_error("name_char", None, field))
    return errors


def _seq_duplicates(seqs: list[int]) -> list[RowError]:
    if len(set(seqs)) == len(seqs):
        return []
    seen: set[int] = set()
    errors = []
    for seq in seqs:
        if seq in seen:
            errors.append(_error("seq_duplicate", seq, "seq", value=seq))
        seen.add(seq)
    return errors


@cycle_collection_paused()  # the column lists and error records are acyclic (columnar.py)
def payroll_check(*, payroll: PayrollFile, today: date, single_limit: Decimal | None,
                  max_days_ahead: int = 15, errors: ErrorSink | None = None) -> ErrorSink:
    """Header, rows, totals, duplicate accounts and the pay-date window; every error at once, into
    ``errors`` (a list by default; the platform passes a sink that counts and keeps only the first)."""
    h = payroll.header
    rows = payroll.rows
    errors = [] if errors is None else errors
    errors.extend(_payroll_header_errors(payroll, today, max_days_ahead))
    if not rows:
        errors.append(_error("no_rows", None, None))
    if h.record_count != len(rows):
        errors.append(_error("record_count_mismatch", None, "record_count", expected=h.record_count,
                             found=len(rows)))

    amounts_readable = True
    # No limit still needs a ceiling: the remainder below needs a quotient within the precision.
    limit = single_limit if single_limit is not None else AMOUNT_MAX
    # The common case, a file with no row problem, is recognized column by column (about a fifth of
    # the row loop's time on 100k rows); otherwise the row loop finds and words every problem.
    total = _rows_clean_total(rows, limit, today)
    if total is None:
        total, amounts_readable = _rows_check(rows, limit, today, errors)
    if amounts_readable and total != h.total_amount:
        errors.append(_error("total_mismatch", None, "total_amount", expected=h.total_amount, found=total))
    errors.extend(_seq_duplicates(list(map(_SEQ, rows))))
    return errors


def _payroll_header_errors(payroll: PayrollFile, today: date, max_days_ahead: int) -> list[RowError]:
    """payroll_check's problems of the header alone, in its order."""
    h = payroll.header
    errors = _header_checks(payroll, ("agreement_no", "payer_unit_no", "purpose"))
    batch = h.batch_no
    if not batch or len(batch) > BATCH_NO_MAX or not (batch.isascii() and batch.replace("-", "").replace(
            "_", "").isalnum()):
        errors.append(_error("batch_no_invalid", None, "batch_no", value=batch, limit=BATCH_NO_MAX))
    if h.currency != CURRENCY:
        errors.append(_error("currency", None, "currency", value=h.currency))
    latest = today + timedelta(days=max_days_ahead)
    if h.pay_date < today:
        errors.append(_error("pay_date_past", None, "pay_date", value=h.pay_date, today=today))
    elif h.pay_date > latest:
        errors.append(_error("pay_date_too_far", None, "pay_date", value=h.pay_date, latest=latest,
                             days=max_days_ahead))
    return errors


_SEQ = attrgetter("seq")
# One column at a time: a list per attribute is built in C; tuples per row (zip) cost 4× as much.
_ROW_FIELDS = tuple(map(attrgetter, ("account", "name", "amount", "id_type", "id_number", "remark")))


# Rows per slice of the whole-column passes (issue 15, P6): the columns, joins and byte tables of
# all 1M rows at once added ~170 MB to the worker's peak (tracemalloc/VmHWM on the 1M-row file);
# a slice's are a tenth of 100k rows' and the passes cost the same per row.
CLEAN_SLICE = 100_000


def _rows_clean_total(rows: list[PayrollRow], limit: Decimal, today: date) -> Decimal | None:
    """The rows' total when _rows_check would find no problem in any row, else None (then
    _rows_check runs and says what is wrong). Only whole-column passes (columnar.py), a slice of
    rows at a time: every condition holds for all rows when it holds for each slice, except that
    no account repeats (one set of them across slices) and the total (added on in row order)."""
    if not rows:
        return _ZERO
    accounts_seen: set[str] = set()
    total = _ZERO
    for start in range(0, len(rows), CLEAN_SLICE):
        total = _slice_clean_total(rows[start : start + CLEAN_SLICE], limit, today, accounts_seen, total)
        if total is None:
            return None
    return total


def _slice_clean_total(rows: list[PayrollRow], limit: Decimal, today: date, accounts_seen: set[str],
                       total: Decimal) -> Decimal | None:
    accounts, names, amounts, id_types, id_numbers, remarks = (list(map(field, rows)) for field in _ROW_FIELDS)
    lengths = list(map(len, accounts))
    if not (digits_all(accounts) and min(lengths) >= 9 and max(lengths) <= 20):
        return None
    seen_before = len(accounts_seen)
    accounts_seen.update(accounts)
    if len(accounts_seen) != seen_before + len(accounts):  # an account repeats, here or in an earlier slice
        return None
    # Luhn applies to UnionPay cards only (62…, 16-19 digits): picked out in C, then checked at once.
    cards = list(compress(accounts, map(str.startswith, accounts, repeat("62"))))
    if cards and not (min(map(len, cards)) >= 16 and max(map(len, cards)) <= 19):
        cards = [a for a in cards if 16 <= len(a) <= 19]
    if cards and not luhn_all_valid(cards):
        return None
    joined = "".join(names)
    if ("" in names or max(map(len, names)) > NAME_MAX or "|" in joined or "\n" in joined or "\r" in joined
            or any(map(str.isspace, names))):
        return None
    joined = "".join(remarks)
    if max(map(len, remarks)) > REMARK_MAX or "|" in joined or "\n" in joined or "\r" in joined:
        return None
    if not _ids_clean(id_types, id_numbers, today):
        return None
    try:
        total = sum(amounts, total)  # in row order, as the row loop adds them: the same rounding
        if total.is_nan() or min(amounts) <= _ZERO or max(amounts) > limit or any(map(mod, amounts, repeat(_CENT))):
            return None
    except (ArithmeticError, TypeError):
        return None  # a signalling NaN, an infinity: the row loop decides
    return total


def _ids_clean(id_types: list[str], id_numbers: list[str], today: date) -> bool:
    """id_problem would return None for every row."""
    kinds = set(id_types)
    if not kinds <= ID_TYPES.keys():
        return False
    if kinds == {ID_TYPE_RESIDENT}:
        residents = id_numbers
    else:
        residents = [n for t, n in zip(id_types, id_numbers, strict=True) if t == ID_TYPE_RESIDENT]
        others = [n for t, n in zip(id_types, id_numbers, strict=True) if t != ID_TYPE_RESIDENT]
        joined = "".join(others)
        if (not all(map(str.strip, others)) or max(map(len, others)) > ID_NUMBER_MAX or "|" in joined
                or "\n" in joined or "\r" in joined):
            return False
        if not residents:
            return True
    if not resident_ids_valid(residents):
        return False
    # The birth dates as _birth_valid judges them, on the distinct dates (some 16,000 in 100k rows;
    # a date() each cost 16 ms): eight ASCII digits compare as the dates they write, and a real
    # month and day is one of 366 texts, 29 February only in a leap year.
    dates = set(map(_BIRTH, residents))
    if min(dates) < "19000101" or max(dates) > f"{today:%Y%m%d}" or not set(map(_MONTH_DAY, dates)) <= _MONTH_DAYS:
        return False
    return all(_birth_valid(birth, today) for birth in dates if birth.endswith("0229"))


def _rows_check(rows: list[PayrollRow], limit: Decimal, today: date, errors: ErrorSink) -> tuple[Decimal, bool]:
    """Every row problem, row by row: (total of the readable amounts, every amount readable)."""
    accounts: dict[str, int] = {}
    births: dict[str, bool] = {}
    total = _ZERO
    amounts_readable = True
    append = errors.append
    setdefault = accounts.setdefault
    for r in rows:
        seq = r.seq
        account = r.account
        # Each field: the valid case is tested inline (a function call per field per row costs
        # ~0.1 s on 100,000 rows); the *_problem function explains a failure.
        if not (account.isdigit() and account.isascii() and (
                luhn_valid(account) if account.startswith("62") and 16 <= len(account) <= 19
                else 9 <= len(account) <= 20)):
            append(account_problem(account, seq))  # type: ignore[arg-type]
        first = setdefault(account, seq)
        if first != seq and account:
            append(_error("account_duplicate", seq, "account", value=account, first=first))
        name = r.name
        if not name or len(name) > NAME_MAX or "|" in name or "\n" in name or "\r" in name or name.isspace():
            append(name_problem(name, seq))  # type: ignore[arg-type]
        id_number = r.id_number
        if not (r.id_type == "0" and len(id_number) == 18 and id_number[:17].isdigit()
                and id_number.isascii() and resident_id_check_char(id_number[:17]) == id_number[17].upper()
                and births.get(id_number[6:14])):
            problem = id_problem(r.id_type, id_number, seq, today, births)
            if problem is not None:
                append(problem)
        amount = r.amount
        if amount.is_nan():
            amounts_readable = False  # payroll_load or the sheet reader already reported it
        else:
            total += amount
            if amount <= _ZERO:
                append(_error("amount_not_positive", seq, "amount", value=amount))
            elif amount > limit:
                append(_error("amount_over_limit", seq, "amount", value=amount, limit=limit))
            elif amount % _CENT:
                append(_error("amount_decimals", seq, "amount", value=amount))
        remark = r.remark
        if remark and (len(remark) > REMARK_MAX or "|" in remark or "\n" in remark or "\r" in remark):
            append(_error("remark_char", seq, "remark", limit=REMARK_MAX))
    return total, amounts_readable


def employee_check(*, employees: EmployeeFile, today: date, errors: ErrorSink | None = None) -> ErrorSink:
    """The payroll rules minus the money: header, operation, count, rows, duplicate accounts."""
    h = employees.header
    rows = employees.rows
    errors = [] if errors is None else errors
    errors.extend(_header_checks(employees, ("agreement_no", "payer_unit_no")))
    if h.operation not in ("add", "delete"):
        errors.append(_error("operation", None, "operation", value=h.operation))
    if not rows:
        errors.append(_error("no_rows", None, None))
    if h.record_count != len(rows):
        errors.append(_error("record_count_mismatch", None, "record_count", expected=h.record_count,
                             found=len(rows)))
    accounts: dict[str, int] = {}
    births: dict[str, bool] = {}
    for r in rows:
        seq = r.seq
        for problem in (account_problem(r.account, seq), name_problem(r.name, seq),
                        id_problem(r.id_type, r.id_number, seq, today, births)):
            if problem is not None:
                errors.append(problem)
        first = accounts.setdefault(r.account, seq)
        if first != seq and r.account:
            errors.append(_error("account_duplicate", seq, "account", value=r.account, first=first))
    errors.extend(_seq_duplicates([r.seq for r in rows]))
    return errors
