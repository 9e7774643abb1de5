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

import re
from collections.abc import Sequence
from decimal import Decimal
from itertools import repeat

from payroll_exchange.records import PayrollRow

_ZERO = Decimal(0)
_CENT = Decimal("0.01")

# An amount as payroll_load reads it: optional "-", then digits with at most one ".", at least one
# digit (``body.replace(".", "", 1).isdigit()`` on ASCII). [0-9], not \d: \d matches any Unicode digit.
_FILE_AMOUNTS = re.compile(r"(?:-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)\n)*")
# An amount cell amounts.amount_cell takes on its first line: ASCII digits, at most one ".", at most
# two places after it, at least one digit.
_CELL_AMOUNTS = re.compile(r"(?:(?:[0-9]+(?:\.[0-9]{0,2})?|\.[0-9]{1,2})\n)*")


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
    return list(map(PayrollRow, map(int, seqs), flat[1::7], flat[2::7], map(Decimal, amounts), flat[4::7],
                    flat[5::7], flat[6::7]))


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
