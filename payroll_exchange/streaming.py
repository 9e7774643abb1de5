"""Pre-validation of a large payroll file without every row in memory (issue 15, P6: the row
objects of a 1M-row file are ~430 MB, and with them the worker peaked at 607 MB against an aim of
512 MB). A version 1 file is read a chunk of lines at a time and a clean file is recognized across
chunks; what this module does not recognize as clean, the whole-file loaders and checks
(formats.payroll_load, checks.payroll_check) read and word as before, so it changes no outcome.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from itertools import islice
from operator import lt

from payroll_exchange.checks import (
    _SEQ,
    _ZERO,
    AMOUNT_MAX,
    CLEAN_SLICE,
    _payroll_header_errors,
    _slice_clean_total,
)
from payroll_exchange.columnar import payroll_lines_columnar
from payroll_exchange.errors import ErrorSink
from payroll_exchange.formats import (
    KIND_PAYROLL,
    PAYROLL_HEADER_FIELDS,
    PAYROLL_V2_HEADER_FIELDS,
    _Lines,
    _lines_split,
    _payroll_v1_header,
    payroll_load,
)
from payroll_exchange.records import PAYROLL_CORRECTION_VERSION, PayrollFile, PayrollHeader, PayrollRow


class PayrollStream:
    """A version 1 payroll file whose header is read and whose rows are not yet: ``chunks`` reads
    them a chunk of lines at a time (issue 15, P6: the row objects of a 1M-row file are ~430 MB,
    a chunk's ~5 MB). A chunk that would not read cleanly is handed out as None: the caller then
    reads the file whole with payroll_load, which words every problem."""

    __slots__ = ("header", "lines")

    def __init__(self, header: PayrollHeader, lines: _Lines) -> None:
        self.header, self.lines = header, lines

    def chunks(self) -> Iterator[list[PayrollRow] | None]:
        return map(payroll_lines_columnar, self.lines.chunks())


def payroll_stream_open(data: bytes, *, errors: ErrorSink | None = None) -> tuple[PayrollStream | PayrollFile,
                                                                                    ErrorSink]:
    """payroll_load's refusals of the file as a whole, the same; then a version 1 file as a
    PayrollStream (no row read, no error yet), a version 2 file (a correction) read whole."""
    kind_zh, kind_en = "代发工资文件", "payroll file"
    h, lines = _lines_split(data, KIND_PAYROLL, kind_zh, kind_en, 2 + len(PAYROLL_HEADER_FIELDS), optional=1,
                            versions={PAYROLL_CORRECTION_VERSION: (2 + len(PAYROLL_V2_HEADER_FIELDS), 0)})
    if h[1] == PAYROLL_CORRECTION_VERSION:
        return payroll_load(data, errors=errors)
    return PayrollStream(_payroll_v1_header(h, kind_zh, kind_en), lines), [] if errors is None else errors



class PayrollCleanRun:
    """Recognizes, a chunk of rows at a time, a file in which payroll_check would find no problem
    at all (issue 15, P6: pre-validation then never holds every row). Holds only what spans
    chunks: the accounts seen, the running total (added in row order), the row count and the last
    seq (seqs rising from chunk to chunk cannot repeat). ``add`` or ``finish`` False: the file is
    not recognized and payroll_check on the whole file says what is wrong."""

    __slots__ = ("accounts_seen", "count", "header", "last_seq", "limit", "today", "total")

    def __init__(self, *, header: PayrollHeader, today: date, single_limit: Decimal | None,
                 max_days_ahead: int = 15) -> None:
        self.header, self.today = header, today
        self.limit = single_limit if single_limit is not None else AMOUNT_MAX
        self.accounts_seen: set[str] = set()
        self.total: Decimal | None = _ZERO
        self.count = self.last_seq = 0
        if _payroll_header_errors(PayrollFile(header, []), today, max_days_ahead):
            self.total = None

    @property
    def clean(self) -> bool:
        return self.total is not None

    def add(self, rows: list[PayrollRow]) -> bool:
        if self.total is None or not rows:
            return self.clean
        seqs = list(map(_SEQ, rows))
        if not (seqs[0] > self.last_seq and all(map(lt, seqs, islice(seqs, 1, None)))):
            self.total = None
            return False
        for start in range(0, len(rows), CLEAN_SLICE):
            self.total = _slice_clean_total(rows[start : start + CLEAN_SLICE], self.limit, self.today,
                                            self.accounts_seen, self.total)
            if self.total is None:
                return False
        self.count += len(rows)
        self.last_seq = seqs[-1]
        return True

    def finish(self) -> bool:
        """Every row added: the count and the total are the header's."""
        h = self.header
        return (self.total is not None and self.count > 0 and self.count == h.record_count
                and self.total == h.total_amount)
