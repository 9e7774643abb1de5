"""pain.002.001.12 of a batch that came as a pain.001: after pre-validation (ACTC, or RJCT with the
reasons) and after pay day (ACSC, PART, RJCT; per row ACSC or RJCT with the return reason), each
validated against the XSD."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from xml.etree import ElementTree as ET  # noqa: S405 - reading our own output in a test

import pytest

from apps.ledger.models import AccountStatus
from apps.ledger.payday import payday_run
from apps.ledger.services import ledger_fee_income_account
from apps.returns.models import Pain001Source
from apps.returns.pain002 import pain002_available, pain002_build
from payroll_exchange import iso20022 as iso
from tests.factories import payroll_rows
from tests.ledger.factories import (
    agreement_make,
    batch_make,
    company_make,
    employee_accounts_make,
    settlement_account_make,
)
from tests.payroll.test_pain001 import prevalidated, sealed, txs_of, xml_for

D = Decimal
NS = {"p": iso.PAIN002_NS}
PAY_DATE = date(2026, 12, 1)
ROWS = [
    ("6222000000000001", "张三", D("5000.00")),
    ("6222000000000002", "李四", D("6000.50")),
    ("6222000000009999", "周八", D("3000.00")),  # AC01: no such account
    ("6222000000000003", "王五", D("2000.00")),  # AC04: closed
]


def parsed(data: bytes) -> ET.Element:
    iso.pain002_validate(data)  # against pain.002.001.12.xsd
    return ET.fromstring(data)  # noqa: S314 - our own output


def statuses(root: ET.Element) -> list[tuple[str, str, str]]:
    out = []
    for tx in root.iterfind(".//p:TxInfAndSts", NS):
        reason = tx.find("p:StsRsnInf/p:Rsn/*", NS)
        out.append((tx.findtext("p:OrgnlEndToEndId", "", NS), tx.findtext("p:TxSts", "", NS),
                    "" if reason is None else reason.text))
    return out


def group(root: ET.Element) -> str:
    return root.findtext("p:CstmrPmtStsRpt/p:OrgnlGrpInfAndSts/p:GrpSts", "", NS)


@pytest.fixture
def bank(platform_keys):
    return platform_keys["bank"]


@pytest.mark.django_db
def test_accepted_pre_validation_is_actc(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    batch = prevalidated(our_agent, sealed(our_agent, bank, xml_for(our_agent, payroll_rows(2), msg_id="ERP-7")),
                         django_capture_on_commit_callbacks)
    assert pain002_available(batch=batch)
    root = parsed(pain002_build(batch=batch))
    assert group(root) == "ACTC"
    assert root.findtext(".//p:OrgnlMsgId", "", NS) == "ERP-7"
    assert root.findtext(".//p:OrgnlPmtInfId", "", NS) == "B20261201"
    assert root.findtext(".//p:OrgnlNbOfTxs", "", NS) == "2"
    assert statuses(root) == []


@pytest.mark.django_db
def test_refused_rows_are_rjct_with_their_reasons(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    rows = payroll_rows(3)
    txs = txs_of(rows[:1]) + txs_of(rows[1:2], currency="USD") + txs_of(rows[2:])
    from tests.exchange.pain001_make import pain001_xml

    xml = pain001_xml(batch_no="B20261201", pay_date=date(2026, 12, 5),
                      debtor_account=our_agent.agreement.settlement_account, txs=txs)
    batch = prevalidated(our_agent, sealed(our_agent, bank, xml), django_capture_on_commit_callbacks)
    root = parsed(pain002_build(batch=batch))
    assert group(root) == "RJCT"
    assert statuses(root) == [("E2E-2", "RJCT", "pain001_currency")]


@pytest.mark.django_db
def test_a_file_level_refusal_is_on_the_group(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    batch = prevalidated(our_agent, sealed(our_agent, bank, xml_for(our_agent, payroll_rows(2), ctrl_sum="1.00")),
                         django_capture_on_commit_callbacks)
    root = parsed(pain002_build(batch=batch))
    assert group(root) == "RJCT"
    assert root.findtext(".//p:OrgnlGrpInfAndSts/p:StsRsnInf/p:Rsn/p:Prtry", "", NS) == "total_mismatch"


@pytest.mark.django_db
def test_a_payroll_file_has_no_pain002(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    from tests.factories import payroll_file_bytes

    batch = prevalidated(our_agent, payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=bank),
                         django_capture_on_commit_callbacks)
    assert not pain002_available(batch=batch)
    with pytest.raises(Pain001Source.DoesNotExist):
        pain002_build(batch=batch)


@pytest.fixture
def paid_batches(db, business_clock, private_files, enterprise_a, enterprise_b):
    """A: 2 of 4 paid (AC01, AC04); B: its account cannot cover it (AM04); C: every row paid."""
    employee_accounts_make([("6222000000000001", "张三", AccountStatus.NORMAL),
                            ("6222000000000002", "李四", AccountStatus.NORMAL),
                            ("6222000000000003", "王五", AccountStatus.CLOSED)])
    ledger_fee_income_account()
    a = agreement_make(company=company_make(), identity=enterprise_a, fee_per_payment=D("3.00"))
    b = agreement_make(company=company_make(name="北京样例贸易有限公司"), identity=enterprise_b,
                       number="DF2026000002")
    settlement_account_make(agreement=a, balance=D("40000.00"))
    settlement_account_make(agreement=b, balance=D("100.00"))
    part = batch_make(agreement=a, rows=ROWS, pay_date=PAY_DATE, batch_no="202612A")
    none = batch_make(agreement=b, rows=ROWS[:2], pay_date=PAY_DATE, batch_no="202612B")
    every = batch_make(agreement=a, rows=ROWS[:2], pay_date=PAY_DATE, batch_no="202612C")
    for batch in (part, none, every):
        Pain001Source.objects.create(batch=batch, msg_id=f"M-{batch.batch_no}",
                                     end_to_end_ids=[f"{batch.batch_no}-{i}" for i in range(1, 5)])
    payday_run(today=PAY_DATE)
    for batch in (part, none, every):
        batch.refresh_from_db()
    return part, none, every


def test_after_pay_day_part_rjct_and_acsc(paid_batches):
    part, none, every = paid_batches
    root = parsed(pain002_build(batch=part))
    assert group(root) == "PART"
    assert statuses(root) == [("202612A-1", "ACSC", ""), ("202612A-2", "ACSC", ""),
                              ("202612A-3", "RJCT", "AC01"), ("202612A-4", "RJCT", "AC04")]
    root = parsed(pain002_build(batch=none))
    assert group(root) == "RJCT"
    assert statuses(root) == [("202612B-1", "RJCT", "AM04"), ("202612B-2", "RJCT", "AM04")]
    root = parsed(pain002_build(batch=every))
    assert group(root) == "ACSC"
    assert [s for _, s, _ in statuses(root)] == ["ACSC", "ACSC"]
    assert root.findtext(".//p:OrgnlCtrlSum", "", NS) == "11000.50"


def test_offered_beside_the_return_file(paid_batches, bank_signer):
    from apps.h2h.kinds import return_documents
    from apps.returns.models import ReturnFile
    from apps.returns.services import return_files_run

    part, _none, _every = paid_batches
    assert return_files_run(today=date(2026, 12, 2)) == 3
    documents = return_documents(ReturnFile.objects.get(batch=part))
    assert [(d["kind"], d["media_type"]) for d in documents] == [("return_file", "application/pkcs7-mime"),
                                                                 ("pain002", "application/xml")]
    assert documents[1]["url"] == f"/api/h2h/v1/batches/{part.pk}/pain002/"
    assert documents[1]["name"] == "PSR_202612A_returned.xml"
    Pain001Source.objects.filter(batch=part).delete()  # a batch sent as our payroll file: the return file only
    assert [d["kind"] for d in return_documents(ReturnFile.objects.get(batch=part))] == ["return_file"]


def test_the_kiosk_offers_it_on_the_return_file_page(paid_batches, bank_signer, business_clock):
    from datetime import datetime
    from types import SimpleNamespace

    from django.test import Client

    from apps.cards.services import card_issue
    from apps.core.models import AuditEvent
    from apps.returns.services import return_files_run
    from payroll_exchange.clock import BUSINESS_TZ
    from tests.factories import CARD_PIN, unionpay_account
    from tests.kiosk.conftest import login

    part, none, _every = paid_batches
    return_files_run(today=date(2026, 12, 2))
    business_clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=BUSINESS_TZ))
    ours, theirs = Client(), Client()
    for client, company, n in ((ours, part.company, 700001), (theirs, none.company, 700002)):
        card_issue(company=company, number=unionpay_account(n), pin=CARD_PIN)
        assert login(client, SimpleNamespace(card_number=unionpay_account(n))).status_code == 302

    page = ours.get(f"/returns/{part.pk}/")
    assert f'href="/returns/{part.pk}/pain002/"'.encode() in page.content
    response = ours.get(f"/returns/{part.pk}/pain002/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="PSR_202612A_returned.xml"'
    root = parsed(b"".join(response.streaming_content))
    assert group(root) == "PART"
    assert AuditEvent.objects.filter(action="pain002_download", object_id=str(part.pk), actor_kind="card").count() == 1

    assert theirs.get(f"/returns/{part.pk}/pain002/").status_code == 404
    Pain001Source.objects.filter(batch=part).delete()
    assert b"pain002" not in ours.get(f"/returns/{part.pk}/").content
    assert ours.get(f"/returns/{part.pk}/pain002/").status_code == 404
    assert AuditEvent.objects.filter(action="pain002_download").count() == 1
