"""Damaged real workbooks: whatever is done to them, the readers raise only ExchangeError, and never hang.

The seeds are the LibreOffice-made fixtures (tests/fixtures/sheets/). Hypothesis drops, duplicates
and renames zip entries, flips and truncates XML bytes, changes cell types and points shared
strings and styles out of range, and damages .xls and CSV bytes; every case is read through
``sheet_rows`` (and the payroll mapping on top) under a 10 s alarm. Derandomized, so that CI sees
the same cases every run.
"""

from __future__ import annotations

import io
import os
import re
import signal
import struct
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payroll_exchange.errors import ExchangeError
from payroll_exchange.sheets import ColumnMap, SheetOptions, payroll_sheet_read, sheet_rows

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sheets"
XLSX_SEEDS = ("payroll_clean.xlsx", "hidden_rows.xlsx", "autofilter.xlsx", "two_sheets.xlsx", "hidden_sheet.xlsx",
              "template_formulas.xlsx", "dates_east_asian.xlsx", "total_row.xlsx")
XLS_SEEDS = ("payroll_clean.xls", "autofilter.xls", "two_sheets.xls", "template_formulas.xls", "dates_east_asian.xls")
TEXT_SEEDS = ("payroll_utf8.csv", "payroll_gb18030.csv", "payroll_utf16.csv", "payroll_tab.xls")
SEEDS = {name: (FIXTURES / name).read_bytes() for name in XLSX_SEEDS + XLS_SEEDS + TEXT_SEEDS}
COLUMNS = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5, remark=6)
TIMEOUT_SECONDS = 10
EXAMPLES = int(os.environ.get("SHEET_PROPERTY_EXAMPLES", "120"))  # more, by hand, to hunt for bugs
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class ReadTimeout(BaseException):  # noqa: N818 — a BaseException, so no reader's `except Exception` can hide it
    """The read took longer than TIMEOUT_SECONDS."""


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise ReadTimeout(f"the read did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def read_all(data: bytes, filename: str) -> None:
    """Read the bytes as the client does; only ExchangeError may come out, within the deadline."""
    with deadline(TIMEOUT_SECONDS):
        for options in (SheetOptions(), SheetOptions(hidden_rows="include")):
            with suppress(ExchangeError):
                list(sheet_rows(data=data, filename=filename))
            with suppress(ExchangeError):
                payroll_sheet_read(data=data, filename=filename, columns=COLUMNS, options=options)


# ---------------------------------------------------------------- zip (.xlsx) mutations


def entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def rezip(parts: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we write on purpose
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, body in parts:
                archive.writestr(name, body)
    return buffer.getvalue()


def xml_parts(parts: list[tuple[str, bytes]]) -> list[int]:
    return [i for i, (name, _) in enumerate(parts) if name.endswith((".xml", ".rels"))]


# kind → (pattern, the replacement of a match given one drawn value, the values drawn from)
SUBSTITUTIONS: dict[str, tuple[re.Pattern[bytes], Callable[[re.Match[bytes], bytes], bytes], list[bytes]]] = {
    "cell_type": (re.compile(rb'(<c [^>]*?)(?: t="[^"]*")?([ />])'),
                  lambda m, v: m.group(1) + b' t="' + v + b'"' + m.group(2),
                  [b"s", b"n", b"str", b"b", b"e", b"inlineStr", b"d", b"", b"zz"]),
    "shared_index": (re.compile(rb"<v>\d+</v>"), lambda m, v: b"<v>" + v + b"</v>",
                     [b"-1", b"99999", b"4294967296", b"1.5", b"", b"x", b"1e3", b"00"]),
    "style_index": (re.compile(rb' s="\d+"'), lambda m, v: b' s="' + v + b'"',
                    [b"999", b"-1", b"x", b"", b"4294967296"]),
    "reference": (re.compile(rb' r="[A-Z]*\d+"'), lambda m, v: b' r="' + v + b'"',
                  [b"A0", b"XFE1", b"A1048577", b"", b"1A", b"AAAA1", b"a1", b"A-1"]),
}


@st.composite
def xlsx_damaged(draw: st.DrawFn) -> tuple[str, bytes]:
    seed = draw(st.sampled_from(XLSX_SEEDS))
    parts = entries(SEEDS[seed])
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["drop", "duplicate", "rename", "recase", "flip", "truncate", "cell_type",
                                     "shared_index", "style_index", "reference", "container"]))
        targets = xml_parts(parts) or list(range(len(parts)))
        if not parts:
            break
        i = draw(st.sampled_from(targets))
        name, body = parts[i]
        if kind == "drop":
            del parts[i]
        elif kind == "duplicate":
            other = draw(st.binary(max_size=200)) if draw(st.booleans()) else body
            parts.insert(draw(st.integers(0, len(parts))), (name, other))
        elif kind == "rename":
            parts[i] = (draw(st.sampled_from(["xl/worksheets/sheet9.xml", "xl/workbook.xml", "xl/sharedStrings.xml",
                                              "xl/styles.xml", "[Content_Types].xml", "_rels/.rels", "x" + name,
                                              name + "/"])), body)
        elif kind == "recase":
            parts[i] = (name.upper() if draw(st.booleans()) else name.swapcase(), body)
        elif kind == "flip":
            if body:
                data = bytearray(body)
                for _ in range(draw(st.integers(1, 8))):
                    data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
                parts[i] = (name, bytes(data))
        elif kind == "truncate":
            parts[i] = (name, body[:draw(st.integers(0, len(body)))])
        elif kind in SUBSTITUTIONS:
            pattern, make, choices = SUBSTITUTIONS[kind]
            parts[i] = (name, pattern.sub(lambda m, make=make, choices=choices: make(m, draw(st.sampled_from(choices))),
                                          body, count=draw(st.integers(1, 20))))
        elif kind == "container":
            data = bytearray(rezip(parts))
            for _ in range(draw(st.integers(1, 6))):
                data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
            return seed, bytes(data)
    return seed, rezip(parts)


@PROPERTY
@given(case=xlsx_damaged())
def test_damaged_xlsx_raise_only_exchange_error(case: tuple[str, bytes]) -> None:
    seed, data = case
    read_all(data, seed)


# ---------------------------------------------------------------- .xls and text mutations


@st.composite
def bytes_damaged(draw: st.DrawFn, seeds: tuple[str, ...]) -> tuple[str, bytes]:
    seed = draw(st.sampled_from(seeds))
    data = bytearray(SEEDS[seed])
    kind = draw(st.sampled_from(["flip", "truncate", "splice", "zero_run"]))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 12))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif kind == "truncate":
        del data[draw(st.integers(0, len(data))):]
    elif kind == "splice":
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=64))
    else:
        at = draw(st.integers(0, len(data) - 1))
        data[at:at + draw(st.integers(1, 512))] = b"\xff" * draw(st.integers(1, 512))
    return seed, bytes(data)


@PROPERTY
@given(case=bytes_damaged(XLS_SEEDS))
def test_damaged_xls_raise_only_exchange_error(case: tuple[str, bytes]) -> None:
    seed, data = case
    read_all(data, seed)


@PROPERTY
@given(case=bytes_damaged(TEXT_SEEDS))
def test_damaged_text_sheets_raise_only_exchange_error(case: tuple[str, bytes]) -> None:
    seed, data = case
    read_all(data, seed)


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(seed=st.sampled_from(XLSX_SEEDS + XLS_SEEDS), cut=st.integers(0, 4096))
def test_a_workbook_under_another_kind_of_name_raises_only_exchange_error(seed: str, cut: int) -> None:
    data = SEEDS[seed]
    for filename in ("工资.csv", "工资.txt", "工资.xls", "工资.xlsx", "工资"):
        read_all(data[:cut] if cut else data, filename)


def test_an_xls_directory_entry_that_is_its_own_sibling_is_refused_as_damaged() -> None:
    """Found by the property above: xlrd's compound-document reader recursed without end
    (RecursionError, not an ExchangeError) on a directory entry pointing at itself."""
    data = bytearray(SEEDS["payroll_clean.xls"])
    directory = (struct.unpack_from("<i", data, 0x30)[0] + 1) * 512  # first directory sector, 512-byte sectors
    entry = data.index("Workbook".encode("utf-16-le"), directory)
    struct.pack_into("<i", data, entry + 0x44, (entry - directory) // 128)  # left sibling = itself
    with pytest.raises(ExchangeError) as caught, deadline(TIMEOUT_SECONDS):
        list(sheet_rows(data=bytes(data), filename="工资.xls"))
    assert caught.value.code == "sheet_xls_damaged"


# ---------------------------------------------------------------- the harness itself


def test_the_deadline_stops_a_read_that_hangs() -> None:
    def forever() -> None:
        while True:
            pass

    with pytest.raises(ReadTimeout), deadline(1):
        forever()


def test_the_harness_reports_a_raw_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    import payroll_exchange.sheets as sheets

    def broken(**_: object) -> Callable[[], None]:
        raise IndexError("list index out of range")

    monkeypatch.setattr(sheets, "sheet_rows", broken)
    monkeypatch.setitem(globals(), "sheet_rows", broken)
    with pytest.raises(IndexError):
        read_all(SEEDS["payroll_clean.xlsx"], "payroll_clean.xlsx")
