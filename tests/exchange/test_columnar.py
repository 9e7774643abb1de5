"""The whole-column fast paths (payroll_exchange/columnar.py) change nothing: for valid files and for
files broken in one field at a time, payroll_load, payroll_check, payroll_dump and payroll_sheet_read
give the same rows, the same errors (codes, rows, messages) and the same bytes as the row loops
alone (the fast paths switched off)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payroll_exchange import checks, columnar, formats, sheets
from payroll_exchange.account_opening import luhn_complete
from payroll_exchange.checks import resident_id_check_char
from payroll_exchange.errors import ExchangeError
from payroll_exchange.formats import payroll_dump, payroll_load
from payroll_exchange.records import PayrollFile, PayrollHeader, PayrollRow
from payroll_exchange.sheets import ColumnMap

TODAY = date(2026, 3, 2)
LIMIT = Decimal("50000")
COLUMNS = ColumnMap(id_type=1, id_number=2, name=3, account=4, amount=5, remark=6)


def resident(n: int, born: str = "19850612") -> str:
    first17 = f"310115{born}{n % 1000:03d}"
    return first17 + resident_id_check_char(first17)


def valid_rows(count: int = 40) -> list[PayrollRow]:
    rows = []
    for n in range(1, count + 1):
        # UnionPay cards of 16 and 19 digits (Luhn), ordinary accounts of 9 and 20 digits (none)
        account = (luhn_complete(f"6222{n:014d}") if n % 4 == 0 else luhn_complete(f"62{n:013d}") if n % 4 == 1
                   else f"{100000000 + n}" if n % 4 == 2 else f"1{n:019d}")
        born = f"19{60 + n % 40}0{1 + n % 9}1{n % 10}"
        id_type, id_number = ("1", f"E{n:08d}") if n % 7 == 0 else ("0", resident(n, born))
        rows.append(PayrollRow(n, account, f"员工{n}", Decimal(f"{1000 + n}.{n % 100:02d}"), id_type, id_number,
                               "三月工资" if n % 3 else ""))
    return rows


def payroll_of(rows: list[PayrollRow]) -> PayrollFile:
    total = sum((r.amount for r in rows if r.amount.is_finite()), Decimal(0))
    return PayrollFile(PayrollHeader("1", "AG20260001", "310001234", "B202603001", date(2026, 3, 5), "CNY",
                                     len(rows), total, "工资"), rows)


@pytest.fixture
def row_loops_only(monkeypatch: pytest.MonkeyPatch):
    """Switch every fast path off: each caller then runs its row loop."""
    def switch() -> None:
        monkeypatch.setattr(formats, "payroll_lines_columnar", lambda chunk: None)
        monkeypatch.setattr(formats, "payroll_lines_text", lambda rows: None)
        monkeypatch.setattr(checks, "_rows_clean_total", lambda rows, limit, today: None)
        monkeypatch.setattr(sheets, "payroll_sheet_columnar", lambda *args, **kwargs: None)
    return switch


def load_and_check(data: bytes):  # noqa: ANN201
    loaded, load_errors = payroll_load(data)
    return loaded, load_errors, checks.payroll_check(payroll=loaded, today=TODAY, single_limit=LIMIT)


def dump_or_error(payroll: PayrollFile) -> bytes | tuple[str, str]:
    try:
        return payroll_dump(payroll)
    except ExchangeError as exc:
        return exc.code, exc.zh


def sheet_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([["证件类型", "证件号码", "姓名", "账号", "金额", "备注"], *rows])
    return out.getvalue().encode("utf-8-sig")


def sheet_read(data: bytes):  # noqa: ANN201
    try:
        read = sheets.payroll_sheet_read(data=data, filename="工资.csv", columns=COLUMNS)
    except ExchangeError as exc:
        return exc.code, exc.zh
    return read.rows, read.errors


def test_fast_paths_take_a_valid_file_whole() -> None:
    rows = valid_rows()
    data = payroll_dump(payroll_of(rows))
    body = data.decode().split("\n", 1)[1].rstrip("\n")
    assert columnar.payroll_lines_columnar(body) == rows
    assert checks._rows_clean_total(rows, LIMIT, TODAY) == sum((r.amount for r in rows), Decimal(0))
    assert columnar.payroll_lines_text(rows) == body
    loaded, load_errors, check_errors = load_and_check(data)
    assert (loaded.rows, load_errors, check_errors) == (rows, [], [])


# One field broken at a time: (row index, field, value). The fast paths must hand each to the row loop.
BROKEN = [
    (3, "account", "6222000000000000004"),  # Luhn wrong on a UnionPay card
    (3, "account", "62220000000003"),  # UnionPay prefix, 14 digits: no Luhn, valid length
    (5, "account", "1234a6789"), (5, "account", "１２３４５６７８９"), (5, "account", "12345678"),
    (5, "account", "123456789012345678901"), (5, "account", ""), (6, "account", "100000002"),  # duplicate of row 2
    (7, "name", ""), (7, "name", "   "), (7, "name", "长" * 61), (7, "name", "张\r三"),
    (8, "id_number", "310115198506120010"), (8, "id_number", "31011519850612001x"),
    (8, "id_number", "310115198513120010"), (8, "id_number", "310115202702300010"),
    (8, "id_number", "310115190002290010"), (8, "id_number", "310115200002290010"),
    (8, "id_number", "31011518991231001X"), (8, "id_number", "3101151985061200"), (8, "id_number", ""),
    (8, "id_number", "３10115198506120010"), (8, "id_type", "7"), (8, "id_type", "1"),
    (13, "id_number", "  "), (13, "id_number", "E" * 33),
    (9, "amount", Decimal("-5.00")), (9, "amount", Decimal("0")), (9, "amount", Decimal("50000.01")),
    (9, "amount", Decimal("1.005")), (9, "amount", Decimal("1.230")), (9, "amount", Decimal("100")),
    (9, "amount", Decimal("NaN")), (9, "amount", Decimal("Infinity")), (9, "amount", Decimal("sNaN")),
    (10, "remark", "备" * 101), (10, "remark", "a|b"),
]


@pytest.mark.parametrize(("index", "field", "value"), BROKEN)
def test_a_file_broken_in_one_field_is_judged_as_by_the_row_loop(index, field, value, row_loops_only) -> None:
    rows = valid_rows()
    rows[index] = replace(rows[index], **{field: value})
    payroll = payroll_of(rows)
    fast_rows = checks.payroll_check(payroll=payroll, today=TODAY, single_limit=LIMIT)
    fast_dump = dump_or_error(payroll)
    row_loops_only()
    assert fast_rows == checks.payroll_check(payroll=payroll, today=TODAY, single_limit=LIMIT)
    assert fast_dump == dump_or_error(payroll)


LINE_BREAKS = [
    ("seq", "a1"), ("seq", ""), ("seq", "٣"), ("amount", "-1.50"), ("amount", "1,000.00"), ("amount", ".5"),
    ("amount", "5."), ("amount", "."), ("amount", "--5"), ("amount", "１.00"), ("amount", ""), ("amount", "1e3"),
    ("fields", "|extra"), ("fields", None), ("blank", None),
]


@pytest.mark.parametrize(("what", "value"), LINE_BREAKS)
def test_a_broken_line_is_read_as_by_the_row_loop(what, value, row_loops_only) -> None:
    lines = payroll_dump(payroll_of(valid_rows())).decode().split("\n")
    fields = lines[12].split("|")
    if what == "seq":
        fields[0] = value
    elif what == "amount":
        fields[3] = value
    elif what == "fields":
        fields = fields[:-1] if value is None else [*fields, value]
    lines[12] = "|".join(fields) if what != "blank" else ""
    data = "\n".join(lines).encode()
    fast = load_and_check(data)
    row_loops_only()
    assert fast == load_and_check(data)


@settings(max_examples=60, deadline=None)
@given(damage=st.lists(st.tuples(st.integers(0, 39), st.sampled_from(["account", "name", "id_number", "id_type",
                                                                     "remark"]),
                                 st.text(alphabet="0123456789X x.-|６\u3000", max_size=21)), max_size=3))
def test_random_field_damage_is_judged_as_by_the_row_loop(damage) -> None:
    rows = valid_rows()
    for index, field, value in damage:
        rows[index] = replace(rows[index], **{field: value})
    payroll = payroll_of(rows)
    fast = (checks.payroll_check(payroll=payroll, today=TODAY, single_limit=LIMIT), dump_or_error(payroll))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(formats, "payroll_lines_text", lambda rows: None)
        patch.setattr(checks, "_rows_clean_total", lambda rows, limit, today: None)
        assert fast == (checks.payroll_check(payroll=payroll, today=TODAY, single_limit=LIMIT),
                        dump_or_error(payroll))


def sheet_rows() -> list[list[str]]:
    return [[r.id_type, r.id_number, r.name, r.account, f"{r.amount}", r.remark] for r in valid_rows()]


CELL_BREAKS = [
    (4, " 1,234.50 "), (4, "￥8500"), (4, "8500.5"), (4, "8500.505"), (4, "450,50"), (4, ""), (4, "-"),
    (4, "3300.0000000000005"), (4, "12\n34"), (3, "6.22202E+18"), (3, " 6222 0000 0000 0000 "),
    (3, "１００００００００"), (1, "31011519850612001x"), (1, " 310115198506120010 "), (1, "３10115198506120010"),
    (1, "3.10115E+17"), (0, "居民身份证"), (0, "护照"), (0, "身份证"), (0, "０"), (0, "X"), (2, " 王 五 "), (2, ""),
    (5, " 备注 "),
]


@pytest.mark.parametrize(("column", "value"), CELL_BREAKS)
def test_a_sheet_cell_is_read_as_by_the_row_loop(column, value, row_loops_only) -> None:
    rows = sheet_rows()
    rows[11][column] = value
    data = sheet_csv(rows)
    fast = sheet_read(data)
    row_loops_only()
    assert fast == sheet_read(data)


def test_a_valid_sheet_is_read_column_by_column_with_the_row_loops_result(row_loops_only) -> None:
    data = sheet_csv(sheet_rows())
    read = sheets.payroll_sheet_read(data=data, filename="工资.csv", columns=COLUMNS)
    assert [r.seq for r in read.rows] == list(range(2, 42))
    assert read.errors == []
    _, sheet = sheets._mapped_open(data, "工资.csv", COLUMNS, sheets.SheetOptions())
    assert columnar.payroll_sheet_columnar(sheet, COLUMNS, checks.id_type_parse, checks.account_normalize,
                                           sheets._ID_TABLE) == read.rows  # the fast path took it
    row_loops_only()
    assert sheet_read(data) == (read.rows, read.errors)


def sheet_xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["证件类型", "证件号码", "姓名", "账号", "金额", "备注"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


XLSX_CELLS = [(4, 1234.5), (4, 3300.0000000000005), (4, 8500), (4, "=E2*2"), (3, 100000000012), (3, 6.22202e18),
              (1, 310115198506120010), (2, "=C2"), (5, 7), (0, 0), (4, "8,500.00"), (5, None), (4, None)]


@pytest.mark.parametrize(("column", "value"), XLSX_CELLS)
def test_an_xlsx_cell_is_read_as_by_the_row_loop(column, value, row_loops_only) -> None:
    rows: list[list] = [[*row[:4], float(row[4]), row[5]] for row in sheet_rows()]  # amounts as number cells
    rows[11][column] = value
    data = sheet_xlsx(rows)

    def read():  # noqa: ANN202
        try:
            found = sheets.payroll_sheet_read(data=data, filename="工资.xlsx", columns=COLUMNS)
        except ExchangeError as exc:
            return exc.code, exc.zh
        return found.rows, found.errors

    fast = read()
    row_loops_only()
    assert fast == read()
