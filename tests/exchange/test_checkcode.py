"""payroll_exchange.checkcode: the 核对码 alphabet, the PRC1 QR text, its signature, its refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from payroll_exchange import checkcode, formats, pki
from payroll_exchange.errors import ExchangeError
from payroll_exchange.records import PayrollFile, PayrollHeader, PayrollRow

FACTS = checkcode.ChecklistFacts(agreement_no="DF2026001", batch_no="B202612", pay_date=date(2026, 12, 5),
                                 record_count=3, total_amount=Decimal("10500.00"), expected_fee=Decimal("4.50"),
                                 digest="ab" * 32, code="34679ACEFG")


@pytest.fixture(scope="module")
def signer() -> pki.Identity:
    return pki.root_create(common_name="checkcode test", now=datetime(2026, 1, 1, tzinfo=UTC))


def test_codes_use_only_the_unambiguous_alphabet() -> None:
    codes = {checkcode.code_new() for _ in range(200)}
    assert len(codes) == 200
    assert all(checkcode.code_valid(c) for c in codes)
    assert not set("0O1IL2Z5S8BUVDQ") & set(checkcode.ALPHABET)
    assert checkcode.code_normalize(" 34679-acefg ") == "34679ACEFG"


def test_qr_round_trip_and_every_changed_field_is_refused(signer: pki.Identity) -> None:
    text = checkcode.qr_text(facts=FACTS, key=signer.key)
    assert text.startswith("PRC1|agreement=DF2026001|batch=B202612|pay_date=2026-12-05|count=3|total=10500.00|")
    assert checkcode.qr_verify(text=text, cert=signer.cert) == FACTS
    for old, new in (("count=3", "count=4"), ("total=10500.00", "total=10600.00"), ("fee=4.50", "fee=0.50"),
                     ("code=34679ACEFG", "code=34679ACEFH"), ("digest=ab", "digest=cb")):
        with pytest.raises(ExchangeError) as info:
            checkcode.qr_verify(text=text.replace(old, new), cert=signer.cert)
        assert info.value.code == "checklist_qr_signature"


@pytest.mark.parametrize("text", ["", "34679ACEFG", "PRC2|agreement=x|sig=AA==", "PRC1|count=3|sig=AA==",
                                  "PRC1|agreement=a|batch=b|pay_date=2026-13-01|count=1|total=1|fee=1|digest=d|"
                                  "code=c|sig=AA==", "PRC1|" + "x" * 3000, "PRC1|agreement=张三"])
def test_unreadable_qr_texts_raise_exchange_error(text: str, signer: pki.Identity) -> None:
    with pytest.raises(ExchangeError) as info:
        checkcode.qr_verify(text=text, cert=signer.cert)
    assert info.value.code == "checklist_qr_unreadable"


def test_the_code_is_an_optional_last_header_field() -> None:
    header = PayrollHeader("1", "DF2026001", "U1", "B1", date(2026, 12, 5), "CNY", 1, Decimal("1.00"), "工资")
    rows = [PayrollRow(1, "6222020000000001", "张三", Decimal("1.00"), "0", "110101199001011234", "")]
    old = formats.payroll_dump(PayrollFile(header, rows))
    assert formats.payroll_load(old)[0].header.check_code == ""  # a file made before the code still reads
    header.check_code = "34679ACEFG"
    new = formats.payroll_dump(PayrollFile(header, rows))
    assert new.split(b"\n")[0].endswith(b"|34679ACEFG")
    assert formats.payroll_load(new)[0].header.check_code == "34679ACEFG"
    with pytest.raises(ExchangeError):
        formats.payroll_load(new.replace(b"|34679ACEFG", b"|34679ACEFG|extra"))
