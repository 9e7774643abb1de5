"""核对清单核对 at the kiosk (issue 13): the scanned QR or the typed 核对码 before 确认入库, enforced by the
service; mismatches explained and audited; the code never on a page; how each batch was confirmed; a
file without a 核对码 (an older client's) is not confirmed at the kiosk but by bank staff with a reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from apps.core.models import AuditEvent
from apps.payroll.models import BatchStatus, ConfirmedHow, PayrollBatch
from apps.payroll.services.checklist import ChecklistRefused
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_prevalidate
from apps.payroll.services.review import SUPERVISOR_GROUP, payroll_review_roles_ensure
from payroll_exchange import checkcode
from tests.backoffice.conftest import BATCHES, client_for, staff_user
from tests.backoffice.test_staff_confirm import confirm_action
from tests.factories import payroll_file_bytes, payroll_rows, upload

CODE = "A3C4E6F7G9"
OTHER_CODE = "HJKMNPRTWX"


@pytest.fixture
def bank(platform_keys):
    return platform_keys["bank"]


def qr_for(party, batch: PayrollBatch, *, code: str = CODE, digest: str | None = None,
           total: Decimal | None = None, batch_no: str | None = None) -> str:
    facts = checkcode.ChecklistFacts(
        agreement_no=party.agreement.number, batch_no=batch_no or batch.batch_no, pay_date=batch.pay_date,
        record_count=batch.record_count, total_amount=batch.total_amount if total is None else total,
        expected_fee=batch.expected_fee, digest=digest or batch.digest, code=code)
    return checkcode.qr_text(facts=facts, key=party.identity.key)


def prevalidated(client, party, bank, *, code: str = CODE, batch_no: str = "B20261201") -> PayrollBatch:
    data = payroll_file_bytes(party=party, rows=payroll_rows(3), bank=bank, check_code=code, batch_no=batch_no)
    response = client.post("/payroll/upload/", {"agreement": party.agreement.pk, "upload": upload(data)})
    batch = PayrollBatch.objects.get(pk=int(response["Location"].strip("/").split("/")[-1]))
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION
    return batch


@pytest.fixture
def awaiting(our_client, our_agent, bank) -> PayrollBatch:
    return prevalidated(our_client, our_agent, bank)


def check(client, batch, text):
    response = client.post(f"/payroll/{batch.pk}/checklist/", {"checklist": text})
    assert response.status_code == 302
    return client.get(f"/payroll/{batch.pk}/").content.decode()


def confirm(client, batch):
    client.post(f"/payroll/{batch.pk}/confirm/")
    batch.refresh_from_db()
    return batch


def test_the_platform_keeps_only_a_keyed_hash_of_the_code(awaiting):
    assert awaiting.check_code_hash
    assert len(awaiting.check_code_hash) == 64
    assert CODE not in awaiting.check_code_hash
    assert CODE not in str(PayrollBatch.objects.filter(pk=awaiting.pk).values().get())


def test_scanned_qr_matches_shows_ticks_and_confirm_is_enabled(our_client, our_agent, awaiting):
    page = our_client.get(f"/payroll/{awaiting.pk}/").content.decode()
    assert 'id="checklist-input"' in page
    assert "autofocus" in page
    assert 'id="confirm-button" disabled' in page
    page = check(our_client, awaiting, qr_for(our_agent, awaiting))
    assert 'id="checklist-ok"' in page
    assert page.count("✓") >= 5
    assert "✗" not in page
    assert 'id="confirm-button" disabled' not in page
    assert confirm(our_client, awaiting).status == BatchStatus.STORING
    assert awaiting.confirmed_how == ConfirmedHow.CHECKLIST_SCANNED
    event = AuditEvent.objects.get(action="payroll_confirm")
    assert event.detail["how"] == "checklist_scanned"


def test_typed_code_matches_in_any_case_and_grouping(our_client, awaiting):
    page = check(our_client, awaiting, "a3c4e 6f7g9")
    assert 'id="checklist-ok"' in page
    assert confirm(our_client, awaiting).confirmed_how == ConfirmedHow.CODE_TYPED


def test_another_files_checklist_is_refused_explained_and_audited(our_client, our_agent, bank, awaiting):
    other = qr_for(our_agent, awaiting, code=OTHER_CODE, digest="0" * 64, batch_no="B20261101")
    before = PayrollBatch.objects.values().get(pk=awaiting.pk)
    page = check(our_client, awaiting, other)
    assert "这份核对清单对应的是另一个文件" in page
    assert 'data-figure="digest">✗' in page
    assert 'id="confirm-button" disabled' in page
    # the button is not the guard: a confirm posted anyway is refused by the service, nothing changes
    confirm(our_client, awaiting)
    assert PayrollBatch.objects.values().get(pk=awaiting.pk) == before
    assert AuditEvent.objects.filter(action="payroll_checklist_mismatch").count() == 1
    assert not AuditEvent.objects.filter(action="payroll_confirm").exists()
    page = check(our_client, awaiting, OTHER_CODE)  # another file's code, typed
    assert "核对码不符" in page
    assert "这份核对清单对应的是另一个文件" in page
    assert AuditEvent.objects.filter(action="payroll_checklist_mismatch").count() == 2


def test_a_tampered_qr_one_digit_of_the_total_is_refused(our_client, our_agent, awaiting):
    qr = qr_for(our_agent, awaiting)
    total = f"{awaiting.total_amount:.2f}"
    tampered = qr.replace(f"|total={total}|", f"|total={'9' if total[0] != '9' else '8'}{total[1:]}|")
    assert tampered != qr
    page = check(our_client, awaiting, tampered)
    assert "签名不符" in page
    assert confirm(our_client, awaiting).status == BatchStatus.AWAITING_CONFIRMATION


def test_a_qr_signed_by_another_company_is_refused(our_client, other_agent, awaiting):
    page = check(our_client, awaiting, qr_for(other_agent, awaiting))
    assert "签名不符" in page
    assert confirm(our_client, awaiting).status == BatchStatus.AWAITING_CONFIRMATION


def test_the_service_refuses_without_a_checklist(our_agent, awaiting):
    with pytest.raises(ChecklistRefused) as info:
        payroll_batch_confirm(batch=awaiting, card=our_agent.card)
    assert info.value.code == "checklist_required"
    with pytest.raises(ChecklistRefused):
        payroll_batch_confirm(batch=awaiting, card=our_agent.card, checklist=OTHER_CODE)
    awaiting.refresh_from_db()
    assert awaiting.status == BatchStatus.AWAITING_CONFIRMATION
    assert awaiting.confirmed_how == ""


def test_no_kiosk_page_contains_the_code(our_client, our_agent, awaiting):
    check(our_client, awaiting, CODE)
    pages = [f"/payroll/{awaiting.pk}/", f"/payroll/{awaiting.pk}/report/", "/payroll/", "/",
             f"/api/batches/{awaiting.pk}/status/", f"/payroll/{awaiting.pk}/report.txt",
             f"/payroll/{awaiting.pk}/report.csv"]
    confirm(our_client, awaiting)
    for url in pages:
        response = our_client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode()
        assert CODE not in text, url
        assert f"{CODE[:5]} {CODE[5:]}" not in text, url


def test_a_file_without_a_code_is_not_confirmed_at_the_kiosk_but_by_staff_with_a_reason(
        our_client, our_agent, bank, django_user_model, django_capture_on_commit_callbacks):
    """An older client's file (no 核对码, no QR): the kiosk offers no 确认入库 and says what to do; a
    confirmation posted anyway and a typed code are refused, audited, nothing changed; a payroll
    supervisor then confirms it in the admin with a reason."""
    batch = prevalidated(our_client, our_agent, bank, code="", batch_no="B20261202")
    assert batch.check_code_hash == ""
    page = our_client.get(f"/payroll/{batch.pk}/").content.decode()
    assert "此文件不含核对码（由旧版企业客户端制作），自助终端无法核对核对清单，不能在此确认入库。" in page
    assert "请点击“撤消”，用新版企业客户端重新制作文件后再提交；或请银行柜台员工在后台确认入库并注明原因。" in page
    assert 'id="confirm-button"' not in page
    assert 'id="checklist-input"' not in page
    assert 'id="revoke-button"' in page
    polled = our_client.get(f"/api/batches/{batch.pk}/status/").json()  # what the page polls says the same
    assert "revoke" in polled["actions"]
    assert "confirm" not in polled["actions"]
    listing = our_client.get("/payroll/").content.decode()
    assert f'action="/payroll/{batch.pk}/confirm/"' not in listing
    assert f'href="/payroll/{batch.pk}/#checklist-check"' not in listing

    before = PayrollBatch.objects.values().get(pk=batch.pk)
    refused = our_client.post(f"/payroll/{batch.pk}/confirm/", follow=True).content.decode()
    assert "不能在此确认入库" in refused
    assert PayrollBatch.objects.values().get(pk=batch.pk) == before
    missing = AuditEvent.objects.get(action="payroll_checklist_missing")
    assert (missing.actor_kind, missing.object_id, missing.detail) == ("card", str(batch.pk), {"file_has_code": False})
    assert check(our_client, batch, CODE).count("不能在此确认入库") == 1  # typing some code proves nothing
    assert PayrollBatch.objects.values().get(pk=batch.pk) == before
    assert AuditEvent.objects.filter(action="payroll_checklist_mismatch").count() == 1
    assert not AuditEvent.objects.filter(action="payroll_confirm").exists()

    payroll_review_roles_ensure()
    supervisor = staff_user(django_user_model, "super-wang", Group.objects.get(name=SUPERVISOR_GROUP))
    with django_capture_on_commit_callbacks():
        done = confirm_action(client_for(supervisor), batch, "旧版客户端文件，已电话核实笔数和金额")
    assert "已代企业确认入库 1 个批次" in done.content.decode()
    batch.refresh_from_db()
    assert (batch.status, batch.confirmed_how) == (BatchStatus.STORING, ConfirmedHow.STAFF_REASON)
    assert batch.confirm_reason == "旧版客户端文件，已电话核实笔数和金额"
    event = AuditEvent.objects.get(action="payroll_confirm")
    assert (event.actor_kind, event.actor, event.detail["how"]) == ("staff", "super-wang", "staff_reason")
    assert "银行员工确认（附原因）" in client_for(supervisor).get(BATCHES).content.decode()


def test_the_service_refuses_a_file_without_a_code_at_the_kiosk_but_not_through_the_api(our_client, our_agent,
                                                                                        bank):
    from apps.intake.actors import certificate_actor

    batch = prevalidated(our_client, our_agent, bank, code="", batch_no="B20261203")
    with pytest.raises(ChecklistRefused) as info:
        payroll_batch_confirm(batch=batch, card=our_agent.card)
    assert info.value.code == "checklist_not_in_file"
    assert "ask the bank's counter staff to confirm it in the back office with a reason" in info.value.en
    batch.refresh_from_db()
    assert (batch.status, batch.confirmed_how) == (BatchStatus.AWAITING_CONFIRMATION, "")
    payroll_batch_confirm(batch=batch, actor=certificate_actor(our_agent.agreement.certificate))
    batch.refresh_from_db()
    assert (batch.status, batch.confirmed_how) == (BatchStatus.STORING, ConfirmedHow.API_CERTIFICATE)


def test_the_no_code_note_in_english(our_client, our_agent, bank):
    batch = prevalidated(our_client, our_agent, bank, code="", batch_no="B20261204")
    our_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = our_client.get(f"/payroll/{batch.pk}/").content.decode()
    assert "This file carries no check code (it was made by an older enterprise client)" in page
    assert "ask the bank&#x27;s counter staff to confirm it in the back office with a reason" in page
    assert 'id="confirm-button"' not in page


def test_without_a_code_only_a_signed_qr_without_a_code_proves_the_file(our_client, our_agent, bank):
    """What a pain.001's checklist carries (a signed QR, code empty) proves the file; a QR that
    carries a code cannot stand for a file that has none."""
    batch = prevalidated(our_client, our_agent, bank, code="", batch_no="B20261205")
    actor_card = our_agent.card
    with pytest.raises(ChecklistRefused) as info:
        payroll_batch_confirm(batch=batch, card=actor_card, checklist=qr_for(our_agent, batch, code=CODE))
    assert info.value.code == "checklist_mismatch"
    batch.refresh_from_db()
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION
    assert AuditEvent.objects.filter(action="payroll_checklist_mismatch").count() == 1
    payroll_batch_confirm(batch=batch, card=actor_card, checklist=qr_for(our_agent, batch, code=""))
    batch.refresh_from_db()
    assert (batch.status, batch.confirmed_how) == (BatchStatus.STORING, ConfirmedHow.CHECKLIST_SCANNED)


def test_a_pain001_is_confirmed_at_the_kiosk_by_scanning_its_checklist_qr(our_client, our_agent, bank):
    """A pain.001 carries no 核对码 but its checklist has the signed QR: the page asks for the scan only."""
    from tests.payroll.test_pain001 import sealed, xml_for

    data = sealed(our_agent, bank, xml_for(our_agent, payroll_rows(2)))
    response = our_client.post("/payroll/upload/", {"agreement": our_agent.agreement.pk,
                                                    "upload": upload(data, "erp-export.p7m")})
    batch = PayrollBatch.objects.get(pk=int(response["Location"].strip("/").split("/")[-1]))
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.check_code_hash) == (BatchStatus.AWAITING_CONFIRMATION, "")
    page = our_client.get(f"/payroll/{batch.pk}/").content.decode()
    assert "此文件不含核对码：请用扫描枪扫描盖章的《代理业务核对清单》上的二维码：" in page
    assert 'id="no-code-note"' not in page
    assert 'id="confirm-button" disabled' in page
    page = check(our_client, batch, qr_for(our_agent, batch, code=""))
    assert 'id="checklist-ok"' in page
    assert 'id="confirm-button" disabled' not in page
    assert confirm(our_client, batch).confirmed_how == ConfirmedHow.CHECKLIST_SCANNED


def test_the_query_screens_supplement_button_leads_to_the_checklist_check(our_client, awaiting):
    page = our_client.get("/payroll/").content.decode()
    assert f'href="/payroll/{awaiting.pk}/#checklist-check" data-checklist-confirm' in page
    assert f'action="/payroll/{awaiting.pk}/confirm/"' not in page


def test_the_api_confirms_by_its_certificate_without_a_checklist(our_agent, awaiting):
    from apps.intake.actors import certificate_actor

    payroll_batch_confirm(batch=awaiting, actor=certificate_actor(our_agent.agreement.certificate))
    awaiting.refresh_from_db()
    assert awaiting.status == BatchStatus.STORING
    assert awaiting.confirmed_how == ConfirmedHow.API_CERTIFICATE
