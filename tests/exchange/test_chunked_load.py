"""Issue 15, P6: payroll_load decodes the file a chunk of lines at a time and the whole-column row
checks run a slice of rows at a time, to keep a 1M-row file's memory down. Chunks and slices are
made small here so that a few dozen rows span several of them: what is read, refused and worded
must be what one whole pass gives (the chunk and slice sizes as shipped)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from payroll_exchange import checks, formats
from payroll_exchange.errors import ExchangeError
from payroll_exchange.formats import payroll_dump, payroll_load
from payroll_exchange.records import PayrollFile
from payroll_exchange.streaming import PayrollCleanRun, payroll_stream_open
from tests.exchange.test_columnar import LIMIT, TODAY, payroll_of, valid_rows


def load_and_check(data: bytes):  # noqa: ANN201
    loaded, load_errors = payroll_load(data)
    return loaded.rows, load_errors, checks.payroll_check(payroll=loaded, today=TODAY, single_limit=LIMIT)


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch):
    """Chunks of ~200 bytes (three or four lines) and slices of 7 rows."""
    def switch() -> None:
        monkeypatch.setattr(formats, "_CHUNK_BYTES", 200)
        monkeypatch.setattr(checks, "CLEAN_SLICE", 7)
    return switch


def test_a_valid_file_in_small_chunks_and_slices_reads_as_in_one(small_pieces) -> None:
    # Given a valid 40-row file with names and remarks that repeat (三月工资)
    rows = valid_rows()
    data = payroll_dump(payroll_of(rows))
    whole = load_and_check(data)
    # When it is read in 200-byte chunks and checked in 7-row slices
    small_pieces()
    pieces = load_and_check(data)
    # Then the rows, no load error and no check error: the same as one pass
    assert pieces == whole == (rows, [], [])
    # and a repeated remark is one str object within a chunk
    loaded, _ = payroll_load(data)
    first, second = loaded.rows[0].remark, loaded.rows[1].remark  # rows 1 and 2: the first chunk
    assert first == second == "三月工资"
    assert first is second


def test_an_account_repeated_in_a_later_slice_is_refused_as_in_one_pass(small_pieces) -> None:
    # Given a file whose row 30 repeats row 2's account (different 7-row slices, different chunks)
    rows = valid_rows()
    rows[29] = replace(rows[29], account=rows[1].account)
    data = payroll_dump(payroll_of(rows))
    whole = load_and_check(data)
    small_pieces()
    pieces = load_and_check(data)
    # Then the same duplicate error, worded the same
    assert pieces == whole
    assert [(e.code, e.row) for e in pieces[2]] == [("account_duplicate", 30)]


def test_a_bad_amount_late_in_the_file_is_refused_as_in_one_pass(small_pieces) -> None:
    rows = valid_rows()
    rows[35] = replace(rows[35], amount=rows[35].amount + rows[35].amount / 1000)  # a third decimal place
    data = payroll_dump(payroll_of(rows))
    whole = load_and_check(data)
    small_pieces()
    pieces = load_and_check(data)
    assert pieces == whole
    assert [(e.code, e.row) for e in pieces[2]] == [("amount_decimals", 36)]


def test_a_byte_that_is_not_utf8_far_into_the_file_is_named_by_its_offset(small_pieces) -> None:
    # Given a valid file with one byte that is not UTF-8 in row 33's name
    data = payroll_dump(payroll_of(valid_rows()))
    at = data.index("员工33".encode())
    broken = data[:at] + b"\xff" + data[at + 1:]
    with pytest.raises(ExchangeError) as whole:
        payroll_load(broken)
    # When it is read in 200-byte chunks
    small_pieces()
    with pytest.raises(ExchangeError) as pieces:
        payroll_load(broken)
    # Then the refusal names the same absolute byte offset, before any row is read
    assert (pieces.value.code, pieces.value.zh) == (whole.value.code, whole.value.zh)
    assert pieces.value.code == "file_encoding"
    assert f"第 {at} 字节起" in pieces.value.zh


def test_a_bom_and_windows_line_ends_read_as_the_plain_file(small_pieces) -> None:
    data = payroll_dump(payroll_of(valid_rows()))
    small_pieces()
    windows = "\ufeff".encode() + data.replace(b"\n", b"\r\n")
    assert load_and_check(windows) == load_and_check(data) == (valid_rows(), [], [])


def stream_accepts(data: bytes) -> bool:
    """streaming.PayrollCleanRun over the chunks of payroll_stream_open, as pre-validation runs it."""
    stream, errors = payroll_stream_open(data)
    assert errors == []
    run = PayrollCleanRun(header=stream.header, today=TODAY, single_limit=LIMIT)
    return run.clean and all(rows is not None and run.add(rows) for rows in stream.chunks()) and run.finish()


def header_changed(payroll: PayrollFile, **fields: object) -> PayrollFile:
    return PayrollFile(replace(payroll.header, **fields), payroll.rows)


def row_changed(payroll: PayrollFile, index: int, **fields: object) -> PayrollFile:
    rows = list(payroll.rows)
    rows[index] = replace(rows[index], **fields)
    return PayrollFile(payroll.header, rows)


DAMAGES = {
    "valid": lambda p: p,
    "account repeated far apart": lambda p: row_changed(p, 29, account=p.rows[1].account),
    "seq repeated": lambda p: row_changed(p, 20, seq=3),
    "total one cent off": lambda p: header_changed(p, total_amount=p.header.total_amount + Decimal("0.01")),
    "record count off": lambda p: header_changed(p, record_count=p.header.record_count + 1),
    "pay date past": lambda p: header_changed(p, pay_date=TODAY - timedelta(days=1)),
    "currency": lambda p: header_changed(p, currency="USD"),
    "amount over the limit late": lambda p: row_changed(p, 38, amount=LIMIT + 1),
    "empty name": lambda p: row_changed(p, 12, name=""),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_the_chunked_pass_accepts_only_what_payroll_check_finds_clean(damage, small_pieces) -> None:
    # Given a file, valid or damaged in one place (chunks of a few lines, slices of 7 rows)
    rows = valid_rows()
    damaged = DAMAGES[damage](payroll_of(rows))
    data = payroll_dump(damaged)
    small_pieces()
    _rows, load_errors, check_errors = load_and_check(data)
    # Then the chunked pass accepts the file exactly when the whole pass finds nothing in it
    assert stream_accepts(data) is (not load_errors and not check_errors)
    assert (damage == "valid") is (not check_errors)
