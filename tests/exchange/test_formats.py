"""The line formats: write-then-read returns the same records; damaged files are refused clearly."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payroll_exchange.agreement_package import agreement_dump, agreement_load
from payroll_exchange.errors import ExchangeError
from payroll_exchange.formats import (
    AMOUNT_UNREADABLE,
    employee_dump,
    employee_load,
    file_digest,
    neutralize_cell,
    payroll_dump,
    payroll_load,
    return_dump,
    return_load,
)
from payroll_exchange.records import (
    AgreementPackage,
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

# Any text a user might type except what would break a line: the delimiter and line ends
# (refused on write, see test_dump_refuses_delimiter_and_line_breaks).
text = st.text(alphabet=st.characters(blacklist_characters="|\r\n", blacklist_categories=("Cs",)), max_size=20)
money = st.decimals(min_value=Decimal("-99999999.99"), max_value=Decimal("99999999.99"), places=2)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
seqs = st.integers(min_value=0, max_value=10**9)
counts = st.integers(min_value=0, max_value=10**9)

payroll_rows = st.builds(PayrollRow, seqs, text, text, money, text, text, text)
payroll_files = st.builds(PayrollFile, st.builds(PayrollHeader, st.just("1"), text, text, text, days, text,
                                                 counts, money, text), st.lists(payroll_rows, max_size=5))
employee_files = st.builds(EmployeeFile,
                           st.builds(EmployeeHeader, st.just("1"), text, text, st.sampled_from(["add", "delete"]),
                                     counts),
                           st.lists(st.builds(EmployeeRow, seqs, text, text, text, text), max_size=5))
return_files = st.builds(ReturnFile, st.builds(ReturnHeader, st.just("1"), text, text, text, days, counts, money,
                                               counts, money, money),
                         st.lists(st.builds(ReturnRow, seqs, text, text, money, text, text), max_size=5))
agreements = st.builds(AgreementPackage, text, text, text, days, days, money, money, text, text,
                       st.binary(max_size=200))


@settings(max_examples=200)
@given(payroll_files)
def test_payroll_roundtrip(f: PayrollFile) -> None:
    assert payroll_load(payroll_dump(f)) == (f, [])


@settings(max_examples=200)
@given(employee_files)
def test_employee_roundtrip(f: EmployeeFile) -> None:
    assert employee_load(employee_dump(f)) == (f, [])


@settings(max_examples=200)
@given(return_files)
def test_return_roundtrip(f: ReturnFile) -> None:
    assert return_load(return_dump(f)) == (f, [])


@settings(max_examples=100)
@given(agreements)
def test_agreement_roundtrip(p: AgreementPackage) -> None:
    assert agreement_load(agreement_dump(p)) == p


def sample_payroll() -> PayrollFile:
    header = PayrollHeader("1", "AG20260001", "310001234", "B202603001", date(2026, 3, 5), "CNY", 2,
                           Decimal("12850.50"), "工资")
    return PayrollFile(header, [
        PayrollRow(1, "6222020200112345679", "王伟", Decimal("8500"), "0", "11010519491231002X", "三月工资"),
        PayrollRow(2, "6217000010012345677", "李娜", Decimal("4350.5"), "1", "E12345678", ""),
    ])


def test_payroll_bytes_are_as_documented() -> None:
    assert payroll_dump(sample_payroll()) == (
        "PAYROLL|1|AG20260001|310001234|B202603001|2026-03-05|CNY|2|12850.50|工资\n"
        "1|6222020200112345679|王伟|8500.00|0|11010519491231002X|三月工资\n"
        "2|6217000010012345677|李娜|4350.50|1|E12345678|\n").encode()


@pytest.mark.parametrize(("field", "value", "where"), [
    ("name", "王|伟", "row 1, account name"),
    ("name", "王\n伟", "row 1, account name"),
    ("remark", "奖金\r", "row 1, remark"),
    ("account", "6222|0202", "row 1, account number"),
])
def test_dump_refuses_delimiter_and_line_breaks(field: str, value: str, where: str) -> None:
    f = sample_payroll()
    setattr(f.rows[0], field, value)
    with pytest.raises(ExchangeError) as refused:
        payroll_dump(f)
    assert refused.value.code == "field_delimiter"
    assert refused.value.en.startswith(where)


def test_dump_refuses_delimiter_in_header() -> None:
    f = sample_payroll()
    f.header.purpose = "工资|奖金"
    with pytest.raises(ExchangeError) as refused:
        payroll_dump(f)
    assert refused.value.en.startswith("header, purpose")


def test_dump_refuses_unknown_version_and_nan() -> None:
    f = sample_payroll()
    f.rows[0].amount = AMOUNT_UNREADABLE
    with pytest.raises(ExchangeError) as refused:
        payroll_dump(f)
    assert refused.value.code == "amount_unwritable"
    f = sample_payroll()
    f.header.format_version = "3"  # version 2 is a correction (tests/exchange/test_corrections.py)
    with pytest.raises(ExchangeError) as refused:
        payroll_dump(f)
    assert refused.value.code == "format_version"


HEADER = "PAYROLL|1|AG20260001|310001234|B202603001|2026-03-05|CNY|2|12850.50|工资\n"


@pytest.mark.parametrize(("data", "code"), [
    (b"", "file_header"),
    (b"\n\n", "file_header"),
    (b"PAYROLL|1|AG1\n", "file_header"),  # too few header fields
    (HEADER.replace("PAYROLL", "EMPLOYEES").encode(), "file_header"),  # another kind of file
    (HEADER.replace("|1|", "|3|", 1).encode(), "format_version"),
    (HEADER.replace("|1|", "|2|", 1).encode(), "file_header"),  # version 2 (a correction) has 15 fields
    (HEADER.encode("gbk"), "file_encoding"),
    (HEADER.replace("2026-03-05", "2026-02-30").encode(), "file_header"),
    (HEADER.replace("|2|12850.50", "|two|12850.50").encode(), "file_header"),
    (HEADER.replace("12850.50", "1e4").encode(), "file_header"),
])
def test_load_refuses_unreadable_file(data: bytes, code: str) -> None:
    with pytest.raises(ExchangeError) as refused:
        payroll_load(data)
    assert refused.value.code == code
    assert refused.value.zh.startswith("无法读取代发工资文件")
    assert refused.value.en.startswith("cannot read the payroll file")


def test_load_collects_every_row_problem() -> None:
    data = (HEADER + "1|6222020200112345679|王伟|8500.00|0|11010519491231002X\n"  # 6 fields
            "x|6222020200112345679|王伟|8500.00|0|11010519491231002X|\n"
            "3|6217000010012345677|李娜|4,350.50|1|E12345678|\n"
            "4|6217000010012345677|李娜|NaN|1|E12345678|\n"
            "5|6217000010012345677|李娜|１００|1|E12345678|\n").encode()
    f, errors = payroll_load(data)
    assert [(e.code, e.row, e.field) for e in errors] == [
        ("line_fields", 1, None), ("seq_syntax", 2, "seq"), ("amount_syntax", 3, "amount"),
        ("amount_syntax", 4, "amount"), ("amount_syntax", 5, "amount")]
    assert [r.seq for r in f.rows] == [3, 4, 5]
    assert all(r.amount.is_nan() for r in f.rows)
    assert errors[0].en.startswith("row 1: file line 2 must have 7 fields")


def test_load_accepts_crlf_bom_and_missing_final_newline() -> None:
    data = payroll_dump(sample_payroll())
    windows = b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")
    assert payroll_load(windows) == (sample_payroll(), [])
    assert payroll_load(data.rstrip(b"\n")) == (sample_payroll(), [])


def test_employee_load_refuses_unknown_operation() -> None:
    with pytest.raises(ExchangeError) as refused:
        employee_load(b"EMPLOYEES|1|AG1|310001234|update|0\n")
    assert refused.value.code == "file_header"
    assert "add" in refused.value.en


def test_agreement_load_refuses_missing_field() -> None:
    package = AgreementPackage("上海某某科技有限公司", "AG20260001", "310001234", date(2026, 1, 1),
                               date(2028, 12, 31), Decimal("1.50"), Decimal("50000.00"), "1001234509000123456",
                               "ab" * 32, b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    data = agreement_dump(package)
    assert agreement_load(data) == package
    damaged = b"\n".join(line for line in data.split(b"\n") if not line.startswith(b"single_limit"))
    with pytest.raises(ExchangeError) as refused:
        agreement_load(damaged)
    assert refused.value.code == "file_header"
    assert "single_limit" in refused.value.en


@pytest.mark.parametrize(("cell", "shown"), [
    ("=1+2", "'=1+2"), ("+8613800000000", "'+8613800000000"), ("-100", "'-100"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("王伟", "王伟"), ("", ""), ("a=b", "a=b"),
])
def test_neutralize_cell(cell: str, shown: str) -> None:
    assert neutralize_cell(cell) == shown


def test_file_digest_is_sha256_hex() -> None:
    data = payroll_dump(sample_payroll())
    assert file_digest(data) == hashlib.sha256(data).hexdigest()
    assert file_digest(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
