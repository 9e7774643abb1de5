"""ISO 20022 pain.001.001.09 through the payroll slot: its own envelope kind, the same pre-validation,
确认入库 and storing as our payroll file; every refusal stores nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.employees.models import Employee
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_prevalidate, payroll_batch_submit
from apps.payroll.services.storing import payroll_batch_store
from payroll_exchange.envelope import envelope_seal
from payroll_exchange.records import ID_TYPES
from tests.exchange.pain001_make import Tx, pain001_xml
from tests.exchange.test_iso20022 import _independent_pain001, generator_rows
from tests.factories import CHECK_CODE, payroll_file_bytes, payroll_rows, upload
from tests.support.checklists import checklist_qr

pytestmark = pytest.mark.django_db
PAY_DATE = date(2026, 12, 5)
SCHEMES = {"0": "<Cd>NIDN</Cd>", "1": "<Cd>CCPT</Cd>"}


@pytest.fixture
def bank(platform_keys):
    return platform_keys["bank"]


def txs_of(rows, *, with_ids: bool = True, currency: str = "CNY") -> list[Tx]:
    return [Tx(r.name, r.account, str(r.amount), r.id_number if with_ids else "",
               scheme=SCHEMES.get(r.id_type, f"<Prtry>{r.id_type}</Prtry>"), currency=currency, remark=r.remark)
            for r in rows]


def sealed(party, bank, xml: bytes, signer=None) -> bytes:
    return envelope_seal(payload=xml, kind="pain001", signer=signer or party.identity, recipient_cert=bank.cert)


def prevalidated(party, data, django_capture_on_commit_callbacks, name="pain001.p7m") -> PayrollBatch:
    with django_capture_on_commit_callbacks():
        batch = payroll_batch_submit(card=party.card, agreement=party.agreement, upload=upload(data, name))
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch


def stored_rows(batch) -> list[tuple]:
    return list(PayrollRow.objects.filter(batch=batch).order_by("seq").values_list(
        "seq", "account", "name", "amount", "id_type", "id_number", "remark"))


def confirm_and_store(party, batch, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks():
        # A pain.001 carries no 核对码: the agent scans its checklist's signed QR (code empty).
        proof = CHECK_CODE if batch.check_code_hash else checklist_qr(party=party, batch=batch, code="")
        payroll_batch_confirm(batch=batch, card=party.card, checklist=proof)
    assert payroll_batch_store(batch_id=batch.pk) is True
    batch.refresh_from_db()
    assert batch.status == BatchStatus.STORED


def xml_for(party, rows, **kwargs) -> bytes:
    return pain001_xml(**{"batch_no": "B20261201", "pay_date": PAY_DATE,
                          "debtor_account": party.agreement.settlement_account, "txs": txs_of(rows), **kwargs})


def test_pain001_pays_the_same_rows_as_the_payroll_file(
    business_clock, our_agent, other_agent, bank, django_capture_on_commit_callbacks
):
    rows = payroll_rows(3)
    rows[2].id_type, rows[2].id_number = "1", "E12345678"
    batch = prevalidated(our_agent, sealed(our_agent, bank, xml_for(our_agent, rows)),
                         django_capture_on_commit_callbacks)
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION, batch.errors
    assert (batch.batch_no, batch.pay_date, batch.record_count, batch.total_amount) == (
        "B20261201", PAY_DATE, 3, Decimal("24000.00"))
    assert batch.new_employee_count == 3
    confirm_and_store(our_agent, batch, django_capture_on_commit_callbacks)

    # The same rows as our own payroll file, for another company: stored identically.
    ours = prevalidated(other_agent, payroll_file_bytes(party=other_agent, rows=rows, bank=bank),
                        django_capture_on_commit_callbacks)
    confirm_and_store(other_agent, ours, django_capture_on_commit_callbacks)
    assert stored_rows(batch) == stored_rows(ours)
    assert stored_rows(batch)[2][4:6] == ("1", "E12345678")
    assert set(ID_TYPES) >= {r[4] for r in stored_rows(batch)}


def test_a_pain001_of_an_independent_generator_pays_registered_employees(
    business_clock, our_agent, bank, django_capture_on_commit_callbacks, tmp_path
):
    rows = payroll_rows(2)
    Employee.objects.bulk_create([Employee(company=our_agent.company, account=r.account, name=r.name,
                                           id_type=r.id_type, id_number=r.id_number) for r in rows])
    xml = _independent_pain001(tmp_path, generator_rows(
        batch_no="B20261201", pay_date=PAY_DATE, debtor_account=our_agent.agreement.settlement_account,
        payees=[(r.name, r.account, str(r.amount)) for r in rows]))
    batch = prevalidated(our_agent, sealed(our_agent, bank, xml), django_capture_on_commit_callbacks)
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION, batch.errors
    assert batch.new_employee_count == 0
    confirm_and_store(our_agent, batch, django_capture_on_commit_callbacks)
    # The IDs the generator cannot write come from the registry.
    assert stored_rows(batch) == [(r.seq, r.account, r.name, r.amount, r.id_type, r.id_number, "十二月工资")
                                  for r in rows]


def _refused(batch) -> set[str]:
    assert batch.status == BatchStatus.INVALID
    assert PayrollRow.objects.count() == 0
    assert Employee.objects.count() == 0
    return {e["code"] for e in batch.errors}


def test_a_ctrl_sum_that_disagrees_is_refused_like_a_header_total(
    business_clock, our_agent, bank, django_capture_on_commit_callbacks
):
    rows = payroll_rows(2)
    batch = prevalidated(our_agent, sealed(our_agent, bank, xml_for(our_agent, rows, ctrl_sum="16000.01")),
                         django_capture_on_commit_callbacks)
    assert _refused(batch) == {"total_mismatch"}


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"payments": 2}, "pain001_payment_infos"),
    ({"debtor_account": "310066001899999"}, "pain001_debtor_account"),
])
def test_two_payment_infos_or_another_debtor_account_are_refused(
    business_clock, our_agent, bank, django_capture_on_commit_callbacks, kwargs, code
):
    batch = prevalidated(our_agent, sealed(our_agent, bank, xml_for(our_agent, payroll_rows(2), **kwargs)),
                         django_capture_on_commit_callbacks)
    assert _refused(batch) == {code}


def test_a_foreign_currency_is_refused(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    rows = payroll_rows(2)
    xml = pain001_xml(batch_no="B20261201", pay_date=PAY_DATE, debtor_account=our_agent.agreement.settlement_account,
                      txs=txs_of(rows[:1]) + txs_of(rows[1:], currency="EUR"))
    batch = prevalidated(our_agent, sealed(our_agent, bank, xml), django_capture_on_commit_callbacks)
    assert _refused(batch) == {"pain001_currency"}
    assert [(e["row"], e["field"]) for e in batch.errors] == [(2, "amount")]


def test_a_new_employee_without_an_id_is_refused(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    xml = pain001_xml(batch_no="B20261201", pay_date=PAY_DATE, debtor_account=our_agent.agreement.settlement_account,
                      txs=txs_of(payroll_rows(1))).replace(b"<Id><PrvtId>", b"<!--").replace(b"</PrvtId></Id>",
                                                                                            b"-->")
    batch = prevalidated(our_agent, sealed(our_agent, bank, xml), django_capture_on_commit_callbacks)
    assert _refused(batch)
    assert {e["field"] for e in batch.errors} <= {"id_type", "id_number"}


def test_a_pain001_signed_by_another_company_is_refused(
    business_clock, our_agent, other_agent, bank, django_capture_on_commit_callbacks
):
    data = sealed(our_agent, bank, xml_for(our_agent, payroll_rows(2)), signer=other_agent.identity)
    batch = prevalidated(our_agent, data, django_capture_on_commit_callbacks)
    assert _refused(batch) == {"envelope_signer_not_bound"}


def test_a_pain001_in_the_employee_slot_says_where_it_belongs(
    business_clock, our_agent, bank, django_capture_on_commit_callbacks
):
    from apps.employees.models import EmployeeFile
    from apps.employees.services import employee_file_open, employee_file_submit

    data = sealed(our_agent, bank, xml_for(our_agent, payroll_rows(2)))
    with django_capture_on_commit_callbacks():
        record = employee_file_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
    employee_file_open(file_id=record.pk)
    record = EmployeeFile.objects.get(pk=record.pk)
    assert [e["code"] for e in record.errors] == ["envelope_wrong_kind"]
    assert "提交代发工资" in record.errors[0]["zh"]
    assert "pain.001" in record.errors[0]["en"]
    assert Employee.objects.count() == 0
