"""Amount cells as spreadsheets hold them: the money the user sees, or a refusal that says why.

Two kinds of cell reach us:

* a **number cell** (``NumericText``: the double's ``repr``, or an integer's digits). Excel shows a
  stored ``3300.0000000000005`` as ``3300.00``: a double within 1e-6 of a two-decimal value *is*
  that value. Anything else past the cent is refused, quoting the number as Excel shows it in the
  General format (15 significant digits: ``2833.33333333333``), never Python's ``repr``.
* **text** as typed: ``8,500.00``, ``￥8500``, ``８５００．００元``, ``3 000.50``. A comma used as the
  decimal point (``450,50``, ``3000，5``, ``3.000,50``) or separators in the wrong places
  (``1,2,3,4.00``) are refused quoting the cell as typed: read as today they would pay 45050.00
  or 1234.00.

``amount_cell`` returns the Decimal (as typed or stored; a double snapped to the cent) or None
with one RowError appended, each class of refusal with its own code. Zero and negative amounts
are read: the row checks refuse them in their own words (``amount_not_positive``).
"""

from __future__ import annotations

import re
from decimal import Context, Decimal, InvalidOperation

from payroll_exchange.errors import RowError
from payroll_exchange.messages import row_error

CENT = Decimal("0.01")
FLOAT_TOLERANCE = Decimal("0.000001")  # a double this close to a cent value is that value
_WIDE = Context(prec=60)  # quantizing a large amount must not raise

# Full-width digits and signs to ASCII; the currency marks dropped. Spaces of every width become a
# plain space: they may separate groups of three (3 000.50), never stand for a decimal point.
_TYPED_TABLE = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)},
                              "．": ".", "，": ",", "－": "-", "−": "-", "＋": "+",
                              "¥": None, "￥": None, "元": None,
                              "\u3000": " ", "\xa0": " ", "\u2009": " ", "\u202f": " ", "\t": " "})
_SPACES = re.compile(r" +")
_PLAIN = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_GROUPED = re.compile(r"\d{1,3}(?:(?P<sep>[, ])\d{3})(?:(?P=sep)\d{3})*(?:\.\d*)?")
_DECIMAL_COMMA = re.compile(r"[\d., ]*\d,\d{1,2}")  # ends in ",5" or ",50": a comma as decimal point
_DASHES = frozenset({"-", "--", "—", "–", "－", "/"})


def excel_general(value: float) -> str:
    """A number as Excel shows it in the General format: at most 15 significant digits."""
    text = f"{value:.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}E{exponent[0]}{int(exponent[1:]):02d}"
    return text


def _quoted(text: str) -> tuple[str, str]:
    return f"“{text}”", f'"{text}"'


def _missing(row: int, typed: str) -> RowError:
    if typed:
        zh, en = _quoted(typed)
        return row_error("amount_missing", row, "amount",
                         f"{zh} 不是金额（只有一条横线）。请填写应发金额，不发的人请删除该行。",
                         f"{en} is not an amount (a dash only). Enter the amount to pay, or delete the row of "
                         "someone who is not paid.")
    return row_error("amount_missing", row, "amount", "没有填写金额。请填写以元为单位的金额，如 3500.00。",
                     "no amount. Enter the amount in yuan, such as 3500.00.")


def _decimal_comma(row: int, typed: str) -> RowError:
    zh, en = _quoted(typed)
    return row_error("amount_decimal_comma", row, "amount",
                     f"{zh} 用逗号作了小数点，无法确定金额。请用小数点写金额，如 450.50；"
                     "千位分隔符只能是每 3 位一组的逗号，如 3,000.50。",
                     f"{en} uses a comma as the decimal point, so the amount is not certain. Write it with a "
                     "decimal point, such as 450.50; a thousands separator is a comma between groups of 3 "
                     "digits, such as 3,000.50.")


def _grouping(row: int, typed: str) -> RowError:
    zh, en = _quoted(typed)
    return row_error("amount_grouping", row, "amount",
                     f"{zh} 的千位分隔符位置不对（应从小数点往左每 3 位一组，如 1,234,567.00），无法确定金额。"
                     "请改正后重新导入。",
                     f"{en} has its thousands separators in the wrong places (groups of 3 digits to the left of "
                     "the decimal point, such as 1,234,567.00), so the amount is not certain. Correct it and "
                     "import again.")


def _syntax(row: int, typed: str) -> RowError:
    zh, en = _quoted(typed)
    return row_error("amount_syntax", row, "amount",
                     f"{zh} 不是金额。请填写以元为单位的数字，如 3500.00。",
                     f"{en} is not an amount. Enter a number of yuan such as 3500.00.")


def _past_cents(row: int, shown: str, number: bool) -> RowError:
    zh, en = _quoted(shown)
    where_zh, where_en = ("单元格中的数值是 ", "the cell holds the number ") if number else ("", "")
    return row_error("amount_past_cents", row, "amount",
                     f"{where_zh}{zh}，超过两位小数（金额以元为单位，最多到分）。"
                     "请在 Excel 中把它改为两位小数（例如用 ROUND(…, 2) 后“选择性粘贴 → 数值”）再导入。",
                     f"{where_en}{en} has more than two decimals (amounts are yuan, to the cent). Make it two "
                     "decimals in Excel (for instance ROUND(…, 2), then Paste Special → Values) and import again.")


def _number_cell(text: str, row: int, errors: list[RowError]) -> Decimal | None:
    try:
        exact = Decimal(text)
    except InvalidOperation:
        errors.append(_syntax(row, text))
        return None
    if not exact.is_finite():
        errors.append(_syntax(row, text))
        return None
    cents = exact.quantize(CENT, context=_WIDE)
    if exact == cents:
        return exact  # as stored: 8500 stays Decimal("8500")
    if abs(exact - cents) <= FLOAT_TOLERANCE:
        return cents
    errors.append(_past_cents(row, excel_general(float(exact)), number=True))
    return None


def _typed_cell(typed: str, row: int, errors: list[RowError]) -> Decimal | None:
    value = _SPACES.sub(" ", typed.translate(_TYPED_TABLE)).strip()
    if not value or value in _DASHES:
        errors.append(_missing(row, typed.strip()))
        return None
    sign = ""
    if value[0] in "+-":
        sign, value = ("-" if value[0] == "-" else ""), value[1:].lstrip()
    if not (value.isascii() and value.replace(",", "").replace(".", "").replace(" ", "").isdigit()):
        errors.append(_syntax(row, typed.strip()))
        return None
    if _PLAIN.fullmatch(value):
        digits = value
    elif _GROUPED.fullmatch(value):
        digits = value.replace(",", "").replace(" ", "")
    else:
        errors.append((_decimal_comma if _DECIMAL_COMMA.fullmatch(value) else _grouping)(row, typed.strip()))
        return None
    amount = Decimal(sign + digits)
    cents = amount.quantize(CENT, context=_WIDE)
    if amount != cents:
        errors.append(_past_cents(row, typed.strip(), number=False))
        return None
    return amount


def amount_cell(text: str | None, row: int, errors: list[RowError], *, number: bool) -> Decimal | None:
    """The amount of one cell in yuan (at most two places), or None after appending why not. ``number``:
    the spreadsheet stored the cell as a number (``NumericText``), else ``text`` is as typed."""
    if text is None:
        errors.append(_missing(row, ""))
        return None
    if text.isascii():  # the common case first, typed or stored: 8500, 4350.5, 8500.00
        dot = text.find(".")
        if (text if dot < 0 else text[:dot] + text[dot + 1:]).isdigit() and (dot < 0 or len(text) - dot <= 3):
            return Decimal(text)
    if number:
        return _number_cell(text.strip(), row, errors)
    return _typed_cell(text, row, errors)
