"""One opening for every signed file: the same problem gets the same refusal code and the same
words for a payroll file, an employee file and a 批量开户 request, in the same order."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from apps.account_opening.services import account_opening_process
from apps.agreements.models import Agreement
from apps.employees.models import EmployeeFile, EmployeeFileRow
from apps.employees.services import employee_file_open, employee_file_submit
from apps.payroll.models import PayrollBatch, PayrollRow
from apps.payroll.services.intake import payroll_batch_prevalidate, payroll_batch_submit
from tests.account_opening.test_account_opening import request_bytes
from tests.conftest import DEFAULT_BUSINESS_NOW
from tests.factories import employee_file_bytes, employee_rows, payroll_file_bytes, payroll_rows, upload

pytestmark = pytest.mark.django_db


def refusals(party, bank, bank_staff, capture, *, signer=None, file_party=None) -> dict[str, tuple[str, str]]:
    """Each kind's (refusal code, zh) for files made by ``file_party`` (default: the party) and
    signed by ``signer`` (default: the party's key)."""
    maker = file_party or party
    with capture():
        batch = payroll_batch_submit(card=party.card, agreement=party.agreement, upload=upload(payroll_file_bytes(
            party=maker, rows=payroll_rows(2), bank=bank, signer=signer)))
        employee_file = employee_file_submit(card=party.card, agreement=party.agreement, upload=upload(
            employee_file_bytes(party=replace(maker, identity=signer or maker.identity), rows=employee_rows(2),
                                bank=bank)))
    payroll_batch_prevalidate(batch_id=batch.pk)
    employee_file_open(file_id=employee_file.pk)
    request = account_opening_process(agreement=party.agreement, user=bank_staff, now=DEFAULT_BUSINESS_NOW,
                                      upload=upload(request_bytes(party=maker, bank=bank, signer=signer)))
    batch.refresh_from_db()
    employee_file.refresh_from_db()
    return {kind: (record.refusal_code, record.errors[0]["zh"])
            for kind, record in (("payroll", batch), ("employees", employee_file), ("account_opening", request))}


def same_everywhere(found: dict[str, tuple[str, str]], code: str) -> str:
    assert {kind: c for kind, (c, _zh) in found.items()} == dict.fromkeys(found, code)
    assert len({zh for _c, zh in found.values()}) == 1, found
    return found["payroll"][1]


def test_an_agreement_out_of_term(business_clock, our_agent, platform_keys, bank_staff,
                                  django_capture_on_commit_callbacks):
    Agreement.objects.filter(pk=our_agent.agreement.pk).update(end_date=date(2026, 11, 30))
    our_agent.agreement.refresh_from_db()
    zh = same_everywhere(refusals(our_agent, platform_keys["bank"], bank_staff, django_capture_on_commit_callbacks),
                         "agreement_out_of_term")
    agreement = our_agent.agreement
    assert zh == f"协议 {agreement.number} 不在有效期内（{agreement.start_date} 至 2026-11-30），请联系银行续签协议。"
    assert PayrollRow.objects.count() == EmployeeFileRow.objects.count() == 0


def test_a_file_signed_by_another_certificate(business_clock, our_agent, other_agent, platform_keys, bank_staff,
                                              django_capture_on_commit_callbacks):
    zh = same_everywhere(refusals(our_agent, platform_keys["bank"], bank_staff, django_capture_on_commit_callbacks,
                                  signer=other_agent.identity), "envelope_signer_not_bound")
    assert zh.startswith("文件签名证书不是该代发协议绑定的证书")
    assert PayrollBatch.objects.get().digest is None  # refused before anything of the file is recorded


def test_a_file_made_for_another_agreement(business_clock, our_agent, platform_keys, bank_staff,
                                           django_capture_on_commit_callbacks):
    elsewhere = replace(our_agent, agreement=Agreement(number="DF9999", payer_unit_no="PU9999"))
    zh = same_everywhere(refusals(our_agent, platform_keys["bank"], bank_staff, django_capture_on_commit_callbacks,
                                  file_party=elsewhere), "agreement_mismatch")
    assert zh.startswith("文件属于协议 DF9999（发薪单位号 PU9999），与所选协议")
    assert EmployeeFile.objects.get().status == EmployeeFile.Status.INVALID
