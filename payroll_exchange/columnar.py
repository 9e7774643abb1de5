"""Whole-column fast paths for the common case: a file or sheet in which every row is valid.

Issue 15 (P8, P9) asks parse + check of 100,000 rows within 4× a plain ``csv`` read of the same
bytes, and the client's sheet → encrypted file within 10×. The row loops in ``formats``,
``checks`` and ``sheets`` spend most of their time in the interpreter: a handful of method calls
per field per row. Here each column is tested as a whole by C-level passes (``str.join`` then one
``isdigit``; ``map`` over a str method; one regex over the joined column; ``set`` sizes), and
Luhn and the ID check character are computed for every row at once with byte tables and big
integer additions.

Every function here only *recognizes* the clean case and returns None otherwise: the caller then
runs its row loop, unchanged, which finds and words every problem exactly as before. So what is
accepted or refused, and every message, is the row loop's by construction; these functions can
only decide that the row loop would have found nothing (tests/exchange/test_columnar.py runs
both on valid and on broken files and compares).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from itertools import repeat
from operator import attrgetter, itemgetter, sub

from payroll_exchange.cells import ErrorText, FormulaText
from payroll_exchange.records import ID_TYPE_RESIDENT, PayrollRow

_ZERO = Decimal(0)
_CENT = Decimal("0.01")

# An amount as payroll_load reads it: optional "-", then digits with at most one ".", at least one
# digit (``body.replace(".", "", 1).isdigit()`` on ASCII). [0-9], not \d: \d matches any Unicode digit.
_FILE_AMOUNTS = re.compile(r"(?:-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)\n)*")
# An amount cell amounts.amount_cell takes on its first line: ASCII digits, at most one ".", at most
# two places after it, at least one digit.
_CELL_AMOUNTS = re.compile(r"(?:(?:[0-9]+(?:\.[0-9]{0,2})?|\.[0-9]{1,2})\n)*")


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Reading a file builds a row object per record and keeps them all, and CPython's cycle
    collector then walks the hundreds of thousands of live rows again and again although they
    hold no cycles. Measured on 100k rows: building the PayrollRows 77 ms with the collector,
    18 ms without; the sheet read 1.10-1.24 s → 0.88 s CPU. Refcounting still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def digits_all(column: Sequence[str]) -> bool:
    """Every value non-empty and ASCII digits only: one join, two C passes."""
    joined = "".join(column)
    return joined.isdigit() and joined.isascii() and "" not in column


# ---------------------------------------------------------------- payroll_load


def payroll_lines_columnar(chunk: str) -> list[PayrollRow] | None:
    """The PayrollRows of a chunk of version 1 record lines (whole lines, LF-separated), or None
    when any line would not read cleanly (wrong field count, seq not digits, amount not a number)."""
    lines = chunk.split("\n")
    count = len(lines)
    # Seven fields on every line: six "|" on each (counted in C), so the flat split below is
    # exactly seven fields per line and the columns are plain slices.
    if list(map(str.count, lines, repeat("|"))).count(6) != count:
        return None
    flat = chunk.replace("\n", "|").split("|")
    seqs = flat[0::7]
    amounts = flat[3::7]
    if not digits_all(seqs):
        return None
    if not _FILE_AMOUNTS.fullmatch("\n".join(amounts) + "\n"):
        return None
    # Decimal built once from the validated text; int from validated digits: neither can raise.
    return list(map(PayrollRow, map(int, seqs), flat[1::7], shared(flat[2::7]), map(Decimal, amounts), flat[4::7],
                    flat[5::7], shared(flat[6::7])))


def shared(column: list[str]) -> list[str]:
    """The column with each repeated value one str object (issue 15, P6): a file's remark is
    mostly the same 十二月工资 and names repeat (张伟), yet the split makes an object per row, 80-90
    bytes each: on 1M rows ~170 MB of the worker's peak. Equal strings are interchangeable; the
    memo is one chunk's (≤ ~12k rows), so it is small and goes with the chunk."""
    memo: dict[str, str] = {}
    return list(map(memo.setdefault, column, column))


# ---------------------------------------------------------------- payroll_check

_DIGIT_VALUE = bytes.maketrans(b"0123456789", bytes(range(10)))
# Luhn: the digit sum of a doubled digit (5 → 10 → 1, 9 → 18 → 9).
_DOUBLED_VALUE = bytes.maketrans(b"0123456789", bytes((0, 2, 4, 6, 8, 1, 3, 5, 7, 9)))
_LUHN_WIDTH = 20  # the longest account the checks accept
_MULTIPLES_OF_TEN = bytes(range(0, 256, 10))
# ISO 7064 MOD 11-2 (GB 11643), as checks.resident_id_check_char: weight of position i is 2^(17-i) mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_RESIDUES = tuple(bytes.maketrans(b"0123456789", bytes(w * d % 11 for d in range(10))) for w in _ID_WEIGHTS)
_ID_CHECK_CHAR = bytes(b"10X98765432"[v % 11] for v in range(256))


def _lane_sums(columns: list[bytes]) -> bytes:
    """Byte-wise sums of equally long byte strings, every sum below 256: each string read as one
    big integer (one byte a lane), so that a few big-integer additions add all rows at once
    with no carry between lanes."""
    total = sum(int.from_bytes(column, "big") for column in columns)
    return total.to_bytes(len(columns[0]), "big")


def luhn_sums(accounts: Sequence[str]) -> bytes:
    """The Luhn digit sum of each account (ASCII digits, at most _LUHN_WIDTH of them), one byte
    each: the account is valid by Luhn when its byte is a multiple of 10. Left zeros add nothing
    to Luhn, so every account is padded to the same width and digit k of all of them is one slice."""
    padded = "".join(map(str.zfill, accounts, repeat(_LUHN_WIDTH))).encode("ascii")
    # Counted from the right, the digits at odd offsets are doubled: with an even width, the even k.
    return _lane_sums([padded[k::_LUHN_WIDTH].translate(_DOUBLED_VALUE if k % 2 == 0 else _DIGIT_VALUE)
                       for k in range(_LUHN_WIDTH)])


def luhn_all_valid(accounts: Sequence[str]) -> bool:
    """Every account valid by Luhn (ASCII digits, at most 20 each)."""
    return not luhn_sums(accounts).translate(None, _MULTIPLES_OF_TEN)


def resident_ids_valid(ids: Sequence[str]) -> bool:
    """Every ID 18 ASCII characters, the first 17 digits, the 18th its check character (X or x
    for 10): the conditions id_problem tests before the birth date."""
    joined = "".join(ids)
    count = len(ids)
    if not count or len(joined) != 18 * count or min(map(len, ids)) != 18 or not joined.isascii():
        return False
    data = joined.encode("ascii")
    columns = [data[k::18] for k in range(17)]
    if not all(column.isdigit() for column in columns):
        return False
    residues = _lane_sums([column.translate(table) for column, table in zip(columns, _ID_RESIDUES, strict=True)])
    return residues.translate(_ID_CHECK_CHAR) == data[17::18].upper()


# ---------------------------------------------------------------- payroll_sheet_read

_PLAIN = frozenset({str, type(None)})


def _column(cell_lists: Sequence[list], column: int | None, width: int) -> list:
    """Column ``column`` (1-based) of every row; None where a row is too short (as sheets._cell)."""
    if column is None:
        return [None] * len(cell_lists)
    if column <= width:
        return list(map(itemgetter(column - 1), cell_lists))
    return [cells[column - 1] if column <= len(cells) else None for cells in cell_lists]


def _stripped(cells: list) -> list[str]:
    """sheets._text_cell of plain cells: None → "", else stripped."""
    if None in cells:
        return [(cell or "").strip() for cell in cells]
    return list(map(str.strip, cells))


def _cell_amounts_plain(amounts: list[str]) -> bool:
    """Every cell ASCII digits with at most one ".", at most two places after it, one digit at least:
    what amounts.amount_cell takes on its first line. That also rules out a formula (=…) or an
    error value (#N/A)."""
    joined = "".join(amounts)
    if not (joined.isascii() and joined.replace(".", "").isdigit()):
        return False
    count = len(amounts)
    dots = joined.count(".")
    if dots == 0:
        return "" not in amounts  # whole yuan
    if dots == count:
        # The common sheet, every amount with a point: one each (none without, as many as cells),
        # at most two places, a digit besides it. Whole-column passes; measured 12 ms on 100k
        # cells against the regex's 23 ms.
        points = list(map(str.find, amounts, repeat(".")))
        lengths = list(map(len, amounts))
        return min(points) >= 0 and min(lengths) >= 2 and max(map(sub, lengths, points)) <= 3
    text = "\n".join(amounts) + "\n"  # some with a point, some without (the cells hold no LF: joined is digits)
    return _CELL_AMOUNTS.fullmatch(text) is not None


def payroll_sheet_columnar(sheet: Sequence[tuple[int, list]], columns, id_type_parse, account_normalize,  # noqa: ANN001
                           id_table: dict[int, int | None], *, marked: bool = True) -> list[PayrollRow] | None:
    """The PayrollRows sheets._payroll_sheet_read's row loop would make, when it would report no
    problem: no formula or error cell, no number cell in the account and ID columns, no
    ``+`` there (the trace of 6.22202E+18), every amount plain ASCII digits with at most two places.
    None otherwise, and the row loop reads the sheet. ``columns`` is a sheets.ColumnMap; the
    functions are those of checks.py (passed in: checks imports this module). ``marked``: the
    reader may give marker cells (NumericText, FormulaText, ErrorText); a text sheet's are plain."""
    if not sheet:
        return []
    numbers = list(map(itemgetter(0), sheet))
    cell_lists = list(map(itemgetter(1), sheet))
    width = min(map(len, cell_lists))
    amounts = _column(cell_lists, columns.amount, width)
    if None in amounts or not _cell_amounts_plain(amounts):
        return None
    id_type_cells = _column(cell_lists, columns.id_type, width)
    name_cells = _column(cell_lists, columns.name, width)
    remark_cells = _column(cell_lists, columns.remark, width)
    id_number_cells = _column(cell_lists, columns.id_number, width)
    account_cells = _column(cell_lists, columns.account, width)
    # Text columns may hold number cells (their text is used); the digit columns only text.
    if marked and not (set(map(type, id_number_cells)) | set(map(type, account_cells)) <= _PLAIN
            and all(not issubclass(kind, (FormulaText, ErrorText)) for kind in set(map(type, id_type_cells))
                    | set(map(type, name_cells)) | set(map(type, remark_cells)))):
        return None
    id_numbers = _stripped(id_number_cells)
    accounts = _stripped(account_cells)
    joined_ids = "".join(id_numbers)
    joined_accounts = "".join(accounts)
    if "+" in joined_ids or "+" in joined_accounts:
        return None
    # The ID type of each distinct cell once (a column holds a handful of distinct values).
    kinds = {cell: id_type_parse(text) or text for cell in set(id_type_cells) for text in [(cell or "").strip()]}
    id_types = list(map(kinds.__getitem__, id_type_cells))
    if not (joined_ids.isascii() and " " not in joined_ids and "\t" not in joined_ids):
        # the resident ID table changes only full-width and space characters, absent in the common case
        id_numbers = [n.translate(id_table) if t == ID_TYPE_RESIDENT else n
                      for t, n in zip(id_types, id_numbers, strict=True)]
    if not (joined_accounts.isascii() and joined_accounts.isdigit()):
        accounts = list(map(account_normalize, accounts))
    return list(map(PayrollRow, numbers, accounts, _stripped(name_cells), map(Decimal, amounts), id_types,
                    id_numbers, _stripped(remark_cells)))


# ---------------------------------------------------------------- payroll_dump

_DUMP_FIELDS = ("account", "name", "id_type", "id_number", "remark")


def payroll_lines_text(rows: Sequence[PayrollRow]) -> str | None:
    """The record lines payroll_dump writes for version 1 rows (LF between them), when no field holds "|", CR or LF
    and every amount has exactly two places (then formats._amount_text writes ``format(a, "f")``
    as it is); None otherwise, and the row loop writes them or says which field is wrong."""
    if not rows:
        return ""
    # str() of a Decimal with exactly two places is its format(…, "f") (plain notation whenever the
    # exponent is -2), at half the cost; any other exponent, an infinity or a NaN does not end in
    # ".dd" (scientific notation ends in its exponent), and the row loop writes or refuses it.
    amounts = list(map(str, map(attrgetter("amount"), rows)))
    joined = "".join(map(itemgetter(slice(-3, -2)), amounts))
    if joined != "." * len(amounts):
        return None
    columns = [list(map(attrgetter(name), rows)) for name in _DUMP_FIELDS]
    account, name, id_type, id_number, remark = columns
    lines = list(map("|".join, zip(map(str, map(attrgetter("seq"), rows)), account, name, amounts, id_type,
                                   id_number, remark, strict=True)))
    text = "\n".join(lines)
    if text.count("|") != 6 * len(lines) or text.count("\n") != len(lines) - 1 or "\r" in text:
        return None
    return text
