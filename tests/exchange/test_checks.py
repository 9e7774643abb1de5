"""Row checks: one table per rule, real-looking data, exact codes, rows and fields."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.iso7064 import mod_11_2

from payroll_exchange.checks import (
    account_normalize,
    employee_check,
    id_type_parse,
    luhn_valid,
    payroll_check,
    resident_id_check_char,
)
from payroll_exchange.formats import AMOUNT_UNREADABLE
from payroll_exchange.records import (
    EmployeeFile,
    EmployeeHeader,
    EmployeeRow,
    PayrollFile,
    PayrollHeader,
    PayrollRow,
)

TODAY = date(2026, 3, 2)
CARD = "622202" + "020011234567"
CARD = CARD + luhn.calc_check_digit(CARD)  # 19-digit ICBC-style UnionPay card, valid Luhn
CARD2 = "6217000010012345" + "67"
CARD2 = CARD2 + luhn.calc_check_digit(CARD2)
RESIDENT_ID = "11010519491231002X"  # the GB 11643 example: valid check character X


def resident_id(region: str, birth: str, order: str = "123") -> str:
    """A resident ID with a correct check character, computed by stdnum (not by our code)."""
    body = region + birth + order
    return body + mod_11_2.calc_check_digit(body)


def payroll_of(*rows: PayrollRow, **header: object) -> PayrollFile:
    values: dict[str, object] = {
        "format_version": "1", "agreement_no": "AG20260001", "payer_unit_no": "310001234",
        "batch_no": "B202603001", "pay_date": date(2026, 3, 5), "currency": "CNY",
        "record_count": len(rows), "total_amount": sum((r.amount for r in rows), Decimal(0)),
        "purpose": "工资"}
    values.update(header)
    return PayrollFile(PayrollHeader(**values), list(rows))  # type: ignore[arg-type]


def row_of(**fields: object) -> PayrollRow:
    values: dict[str, object] = {"seq": 12, "account": CARD, "name": "王伟", "amount": Decimal("8500.00"),
                                 "id_type": "0", "id_number": RESIDENT_ID, "remark": "三月工资"}
    values.update(fields)
    return PayrollRow(**values)  # type: ignore[arg-type]


def found(errors: list) -> list[tuple[str, int | None, str | None]]:
    return [(e.code, e.row, e.field) for e in errors]


def check(payroll: PayrollFile, single_limit: Decimal | None = Decimal("50000")) -> list:
    return payroll_check(payroll=payroll, today=TODAY, single_limit=single_limit)


@pytest.mark.parametrize(("typed", "normalized"), [
    ("6222020200112345678", "6222020200112345678"),
    ("６２２２０２０２００１１２３４５６７８", "6222020200112345678"),  # full-width digits
    ("6222 0202 0011 2345 678", "6222020200112345678"),  # grouped as printed on the card
    ("6222\u30000202\u30000011", "622202020011"),  # ideographic space from a Chinese IME
    (" 6222020200112345678\xa0", "6222020200112345678"),  # no-break space pasted from a web page
    ("6222-0202-0011", "622202020011"),
    ("6222\t0202", "62220202"),
    ("62220A02", "62220A02"),  # letters stay, for the check to name them
])
def test_account_normalize(typed: str, normalized: str) -> None:
    assert account_normalize(typed) == normalized


@pytest.mark.parametrize(("typed", "code"), [
    ("0", "0"), ("居民身份证", "0"), ("身份证", "0"), (" 居民身份证 ", "0"), ("０", "0"),
    ("1", "1"), ("护照", "1"), ("2", "2"), ("军官证", "2"), ("3", "3"), ("港澳居民来往内地通行证", "3"),
    ("4", "4"), ("台湾居民来往大陆通行证", "4"), ("5", "5"), ("外国人永久居留身份证", "5"),
    ("9", "9"), ("其他", "9"), ("6", None), ("驾驶证", None), ("", None),
])
def test_id_type_parse(typed: str, code: str | None) -> None:
    assert id_type_parse(typed) == code


def test_valid_row_has_no_error() -> None:
    assert check(payroll_of(row_of(), row_of(seq=13, account=CARD2, id_number=resident_id("310115", "19850704")))) == []


@pytest.mark.parametrize(("fields", "expected"), [
    ({"account": ""}, ("account_missing", 12, "account")),
    ({"account": "6222 0202 0011 2345 678"}, ("account_digits", 12, "account")),  # not normalized
    ({"account": "６２２２０２０２００１１２３４５６７８"}, ("account_digits", 12, "account")),
    ({"account": CARD[:-1] + str((int(CARD[-1]) + 1) % 10)}, ("account_luhn", 12, "account")),
    ({"account": "6222020200112345"}, ("account_luhn", 12, "account")),  # 16 digits, bad Luhn
    ({"account": "12345678"}, ("account_length", 12, "account")),  # 8 digits: too short
    ({"account": "1" * 21}, ("account_length", 12, "account")),
    ({"account": "62" + "1" * 19}, ("account_length", 12, "account")),  # 21 digits starting 62
    ({"name": ""}, ("name_missing", 12, "name")),
    ({"name": "  "}, ("name_missing", 12, "name")),
    ({"name": "王|伟"}, ("name_char", 12, "name")),
    ({"name": "王\n伟"}, ("name_char", 12, "name")),
    ({"name": "王" * 61}, ("name_length", 12, "name")),
    ({"id_type": "7"}, ("id_type_unknown", 12, "id_type")),
    ({"id_type": "居民身份证"}, ("id_type_unknown", 12, "id_type")),  # files carry codes only
    ({"id_number": ""}, ("id_number_missing", 12, "id_number")),
    ({"id_number": "11010519491231002"}, ("id_number_length", 12, "id_number")),  # 17 chars
    ({"id_number": "110105194912310"}, ("id_number_length", 12, "id_number")),  # first generation
    ({"id_number": "1101051949123100XX"}, ("id_number_chars", 12, "id_number")),
    ({"id_number": "11010519491231002Y"}, ("id_number_chars", 12, "id_number")),
    ({"id_number": "110105194912310021"}, ("id_number_check", 12, "id_number")),
    ({"id_number": resident_id("110105", "19490230")}, ("id_number_birth", 12, "id_number")),  # 30 Feb
    ({"id_number": resident_id("110105", "20260303")}, ("id_number_birth", 12, "id_number")),  # tomorrow
    ({"id_number": resident_id("110105", "18991231")}, ("id_number_birth", 12, "id_number")),
    ({"id_type": "1", "id_number": ""}, ("id_number_missing", 12, "id_number")),
    ({"id_type": "1", "id_number": "E1234|5678"}, ("id_number_char", 12, "id_number")),
    ({"amount": Decimal("0")}, ("amount_not_positive", 12, "amount")),
    ({"amount": Decimal("-100.00")}, ("amount_not_positive", 12, "amount")),
    ({"amount": Decimal("100.005")}, ("amount_decimals", 12, "amount")),
    ({"amount": Decimal("50000.01")}, ("amount_over_limit", 12, "amount")),
    ({"remark": "=HYPERLINK(\"x\")|"}, ("remark_char", 12, "remark")),
    ({"remark": "奖" * 101}, ("remark_char", 12, "remark")),
])
def test_row_check_table(fields: dict, expected: tuple) -> None:
    row = row_of(**fields)
    assert found(check(payroll_of(row))) == [expected]


@pytest.mark.parametrize("fields", [
    {"id_number": "11010519491231002x"},  # lower-case x is accepted
    {"id_number": resident_id("110107", "19800101")},  # retired district code (Shijingshan era)
    {"id_number": resident_id("110103", "19750312")},  # 崇文区, merged into 东城区 in 2010
    {"id_number": resident_id("310103", "19680825")},  # 卢湾区, merged into 黄浦区 in 2011
    {"id_number": resident_id("632000", "19910101")},  # a prefecture-level code no longer issued
    {"id_number": resident_id("512200", "19700601")},  # 万县地区, gone since 1997
    {"id_number": resident_id("999999", "20000229")},  # unknown region, leap day: still valid
    {"id_number": resident_id("110105", "20260302")},  # born today
    {"amount": Decimal("50000.00")},  # exactly the limit
    {"amount": Decimal("0.01")},
    {"amount": Decimal("100.500")},  # trailing zero: still whole fen
    {"account": "123456789"},  # 9-digit non-card account
    {"account": "1" * 20},
    {"account": "6212345678901"},  # 13 digits starting 62: not a card number, no Luhn
    {"id_type": "1", "id_number": "E12345678"},  # passport
    {"id_type": "3", "id_number": "H12345678"},
    {"id_type": "9", "id_number": "其他证件 123"},
    {"remark": ""},
])
def test_row_check_accepts(fields: dict) -> None:
    assert check(payroll_of(row_of(**fields))) == []


def test_no_limit_given_means_only_the_sanity_ceiling() -> None:
    assert check(payroll_of(row_of(amount=Decimal("900000.00"))), single_limit=None) == []


def test_every_error_of_every_row_at_once() -> None:
    payroll = payroll_of(row_of(seq=1, account="12", name=""),
                         row_of(seq=2, account=CARD2, id_number="110105194912310021", amount=Decimal("0")))
    assert found(check(payroll)) == [("account_length", 1, "account"), ("name_missing", 1, "name"),
                                     ("id_number_check", 2, "id_number"), ("amount_not_positive", 2, "amount")]


def test_messages_name_row_and_field_in_user_words() -> None:
    [error] = check(payroll_of(row_of(account="12345678")))
    assert error.zh.startswith("第 12 行 账号：12345678 有 8 位")
    assert error.en.startswith("row 12, account number: 12345678 has 8 digits")
    assert "核对" in error.zh
    assert "Check the account number" in error.en


def test_duplicate_account_names_both_rows() -> None:
    payroll = payroll_of(row_of(seq=3), row_of(seq=7, id_number=resident_id("310115", "19850704")))
    [error] = check(payroll)
    assert (error.code, error.row, error.field) == ("account_duplicate", 7, "account")
    assert "第 3 行" in error.zh
    assert "row 3" in error.en


def test_duplicate_sequence_number() -> None:
    payroll = payroll_of(row_of(seq=3), row_of(seq=3, account=CARD2))
    assert found(check(payroll)) == [("seq_duplicate", 3, "seq")]


@pytest.mark.parametrize(("pay_date", "expected"), [
    (date(2026, 3, 2), []),  # today
    (date(2026, 3, 17), []),  # today + 15
    (date(2026, 3, 1), [("pay_date_past", None, "pay_date")]),
    (date(2026, 3, 18), [("pay_date_too_far", None, "pay_date")]),
])
def test_pay_date_window(pay_date: date, expected: list) -> None:
    assert found(check(payroll_of(row_of(), pay_date=pay_date))) == expected


@pytest.mark.parametrize(("header", "expected"), [
    ({"record_count": 2}, [("record_count_mismatch", None, "record_count")]),
    ({"total_amount": Decimal("8500.01")}, [("total_mismatch", None, "total_amount")]),
    ({"currency": "USD"}, [("currency", None, "currency")]),
    ({"format_version": "3"}, [("format_version", None, "format_version")]),
    ({"agreement_no": ""}, [("header_missing", None, "agreement_no")]),
    ({"payer_unit_no": " "}, [("header_missing", None, "payer_unit_no")]),
    ({"purpose": ""}, [("header_missing", None, "purpose")]),
    ({"batch_no": "B 2026"}, [("batch_no_invalid", None, "batch_no")]),
    ({"batch_no": ""}, [("batch_no_invalid", None, "batch_no")]),
    ({"batch_no": "B2026-03_01"}, []),
])
def test_header_checks(header: dict, expected: list) -> None:
    assert found(check(payroll_of(row_of(), **header))) == expected


def test_header_count_message_names_both_counts() -> None:
    [error] = check(payroll_of(row_of(), record_count=5))
    assert "文件头为 5 笔，实际有 1 笔" in error.zh
    assert "says 5 records, the file has 1" in error.en


def test_empty_file() -> None:
    assert found(check(payroll_of())) == [("no_rows", None, None)]


def test_unreadable_amount_is_not_reported_twice() -> None:
    payroll = payroll_of(row_of(amount=AMOUNT_UNREADABLE), total_amount=Decimal("1.00"))
    assert check(payroll) == []


def employees_of(*rows: EmployeeRow, operation: str = "add", count: int | None = None) -> EmployeeFile:
    header = EmployeeHeader("1", "AG20260001", "310001234", operation,  # type: ignore[arg-type]
                            len(rows) if count is None else count)
    return EmployeeFile(header, list(rows))


@pytest.mark.parametrize(("file", "expected"), [
    (employees_of(EmployeeRow(2, "0", RESIDENT_ID, "李娜", CARD)), []),
    (employees_of(EmployeeRow(2, "0", RESIDENT_ID, "李娜", CARD), operation="delete"), []),
    (employees_of(EmployeeRow(2, "0", RESIDENT_ID, "李娜", CARD), operation="update"),
     [("operation", None, "operation")]),
    (employees_of(EmployeeRow(2, "0", RESIDENT_ID, "李娜", CARD), count=3),
     [("record_count_mismatch", None, "record_count")]),
    (employees_of(EmployeeRow(2, "0", "110105194912310021", "", "123")),
     [("account_length", 2, "account"), ("name_missing", 2, "name"), ("id_number_check", 2, "id_number")]),
    (employees_of(EmployeeRow(2, "0", RESIDENT_ID, "李娜", CARD), EmployeeRow(3, "1", "E1234567", "李娜", CARD)),
     [("account_duplicate", 3, "account")]),
])
def test_employee_check(file: EmployeeFile, expected: list) -> None:
    assert found(employee_check(employees=file, today=TODAY)) == expected


@given(st.text(alphabet="0123456789", min_size=1, max_size=25))
def test_luhn_matches_stdnum(digits: str) -> None:
    assert luhn_valid(digits) == luhn.is_valid(digits)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_resident_check_char_matches_stdnum(first17: str) -> None:
    assert resident_id_check_char(first17) == mod_11_2.calc_check_digit(first17)

