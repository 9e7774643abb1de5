"""Companies, agreements and certificates in the admin: add through the services, export the
bank-signed package, issue a USB key, revoke (the CRL and pre-validation follow)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from apps.agreements.models import Agreement, Certificate, Company
from apps.agreements.services import AgreementRefused, agreement_create, certificate_revoke, trust_store
from apps.core import clock
from apps.core.models import AuditEvent
from apps.ledger.models import AccountKind
from apps.ledger.services import ledger_account_open
from apps.payroll.models import BatchStatus
from apps.payroll.services.intake import payroll_batch_prevalidate, payroll_batch_submit
from payroll_exchange import pki
from payroll_exchange.agreement_package import agreement_load
from payroll_exchange.envelope import signed_open
from tests.backoffice.conftest import client_for, staff_user
from tests.factories import certificate_record, payroll_file_bytes, payroll_rows, settlement_account_open, upload

pytestmark = pytest.mark.django_db

COMPANIES = "/admin/agreements/company/"
AGREEMENTS = "/admin/agreements/agreement/"
CERTIFICATES = "/admin/agreements/certificate/"
USCC_C = "91440300MA5DEQXL05"


@pytest.fixture
def counter(django_user_model):
    """A counter officer: companies, agreements and certificates, nothing of payroll review."""
    user = staff_user(django_user_model, "counter-chen")
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="agreements",
        codename__in=["add_company", "view_company", "change_company", "add_agreement", "view_agreement",
                      "change_agreement", "add_certificate", "view_certificate", "change_certificate"],
    ))
    return client_for(user)


def test_a_company_is_added_with_a_checked_uscc(business_clock, platform_keys, counter):
    refused = counter.post(f"{COMPANIES}add/", {"name": "深圳测试有限公司", "uscc": "91440300MA5DEQXL0X"})
    assert refused.status_code == 200
    assert "统一社会信用代码 91440300MA5DEQXL0X 无效" in refused.content.decode()
    assert not Company.objects.exists()

    added = counter.post(f"{COMPANIES}add/", {"name": "深圳测试有限公司", "uscc": USCC_C.lower()})

    assert added.status_code == 302
    company = Company.objects.get()
    assert (company.name, company.uscc) == ("深圳测试有限公司", USCC_C)
    page = counter.get(f"{COMPANIES}{company.pk}/change/").content.decode()
    assert 'name="uscc"' not in page  # fixed once created
    assert 'name="name"' in page


AGREEMENT_FORM = {
    "number": "DF0009", "payer_unit_no": "U31009", "start_date": "2026-12-01", "end_date": "2027-11-30",
    "fee_per_payment": "1.20", "single_limit": "30000.00", "settlement_account": "310066001800009",
}


def test_an_agreement_is_added_bound_to_its_own_enterprise_certificate(
    business_clock, our_agent, other_agent, counter
):
    settlement_account_open(number="310066001800009", company=our_agent.company)
    form = {**AGREEMENT_FORM, "company": our_agent.company.pk,
            "certificate": other_agent.agreement.certificate.pk}  # another company's certificate
    refused = counter.post(f"{AGREEMENTS}add/", form)
    assert refused.status_code == 200
    assert "绑定证书必须是该企业的企业证书" in refused.content.decode()
    assert not Agreement.objects.filter(number="DF0009").exists()

    added = counter.post(f"{AGREEMENTS}add/", {**form, "certificate": our_agent.agreement.certificate.pk})

    assert added.status_code == 302
    agreement = Agreement.objects.get(number="DF0009")
    assert (agreement.fee_per_payment, agreement.single_limit, agreement.end_date) == (
        Decimal("1.20"), Decimal("30000.00"), date(2027, 11, 30))
    page = counter.get(f"{AGREEMENTS}{agreement.pk}/change/").content.decode()
    assert 'name="fee_per_payment"' not in page  # never edited once made
    assert "导出协议数据包" in page
    assert counter.post(f"{AGREEMENTS}{agreement.pk}/change/", {**form, "fee_per_payment": "0.01"}).status_code == 403


@pytest.mark.parametrize(("opened", "message"), [
    (None, "结算账号 310066001800009 在账务系统中不存在"),
    ("other_company", "不是上海示例科技有限公司的企业结算账户"),
    ("employee", "不是上海示例科技有限公司的企业结算账户"),
])
def test_the_settlement_account_must_be_this_companys_settlement_account_in_the_ledger(
    business_clock, our_agent, other_agent, counter, opened, message
):
    if opened == "other_company":
        settlement_account_open(number="310066001800009", company=other_agent.company)
    elif opened == "employee":
        ledger_account_open(number="310066001800009", holder_name="张伟", kind=AccountKind.EMPLOYEE)
    before = (Agreement.objects.count(), AuditEvent.objects.count())

    refused = counter.post(f"{AGREEMENTS}add/", {**AGREEMENT_FORM, "company": our_agent.company.pk,
                                                 "certificate": our_agent.agreement.certificate.pk})

    assert refused.status_code == 200
    assert message in refused.content.decode()
    assert (Agreement.objects.count(), AuditEvent.objects.count()) == before
    with pytest.raises(AgreementRefused) as service_refused:  # the service refuses it too
        agreement_create(company=our_agent.company, certificate=our_agent.agreement.certificate,
                         **{**AGREEMENT_FORM, "start_date": date(2026, 12, 1), "end_date": date(2027, 11, 30),
                            "fee_per_payment": Decimal("1.20"), "single_limit": Decimal("30000.00")})
    assert service_refused.value.field == "settlement_account"
    assert Agreement.objects.count() == before[0]


def test_company_and_certificate_are_chosen_by_name_through_autocomplete(business_clock, our_agent, other_agent,
                                                                         counter):
    page = counter.get(f"{AGREEMENTS}add/").content.decode()
    assert page.count("admin-autocomplete") >= 2  # both selects are autocomplete widgets, not id boxes
    assert 'class="vForeignKeyRawIdAdminField"' not in page

    def search(field: str, term: str) -> list[str]:
        response = counter.get("/admin/autocomplete/", {"term": term, "app_label": "agreements",
                                                        "model_name": "agreement", "field_name": field})
        assert response.status_code == 200
        return [item["text"] for item in response.json()["results"]]

    assert search("company", "上海") == ["上海示例科技有限公司"]
    assert [text for text in search("certificate", "DF000") if "DF0001" in text]
    certificate_revoke(certificate=our_agent.agreement.certificate, reason="USBKEY 遗失", now=clock.now())
    offered = search("certificate", "DF000")
    assert not [text for text in offered if "CN=DF0001" in text]  # a revoked certificate is not offered
    assert [text for text in offered if "CN=DF0002" in text]


@pytest.fixture
def new_certificate(our_agent, enterprise_identities):
    return certificate_record(identity=enterprise_identities["a2"], company=our_agent.company)


def test_a_new_certificate_is_bound_once_the_old_one_is_revoked_and_the_old_stays_revoked(
    business_clock, our_agent, other_agent, counter, new_certificate
):
    agreement, old = our_agent.agreement, our_agent.agreement.certificate
    rebind = f"{AGREEMENTS}{agreement.pk}/rebind/"
    assert "吊销后才能换绑新证书" in counter.get(f"{AGREEMENTS}{agreement.pk}/change/").content.decode()

    still_valid = counter.post(rebind, {"certificate": new_certificate.pk})
    assert still_valid.status_code == 200
    assert f"绑定的证书 {old.serial} 仍有效" in still_valid.content.decode()
    assert Agreement.objects.get(pk=agreement.pk).certificate_id == old.pk
    assert not AuditEvent.objects.filter(action="agreement_certificate_rebind").exists()

    certificate_revoke(certificate=old, reason="USBKEY 遗失", now=clock.now(), actor="counter-chen")
    foreign = counter.post(rebind, {"certificate": other_agent.agreement.certificate.pk})
    assert foreign.status_code == 200
    assert "errorlist" in foreign.content.decode()  # not among the choices
    revoked_again = counter.post(rebind, {"certificate": old.pk})
    assert "errorlist" in revoked_again.content.decode()
    assert Agreement.objects.get(pk=agreement.pk).certificate_id == old.pk
    page = counter.get(rebind).content.decode()
    assert new_certificate.serial in page
    assert other_agent.agreement.certificate.serial not in page

    done = counter.post(rebind, {"certificate": new_certificate.pk})

    assert done.status_code == 302
    assert done["Location"] == f"{AGREEMENTS}{agreement.pk}/change/"
    agreement.refresh_from_db()
    old.refresh_from_db()
    assert agreement.certificate_id == new_certificate.pk
    assert (old.revoked_at, old.revocation_reason) == (clock.now(), "USBKEY 遗失")
    event = AuditEvent.objects.get(action="agreement_certificate_rebind")
    assert (event.actor, event.object_id, event.company_id) == ("counter-chen", str(agreement.pk),
                                                                our_agent.company.pk)
    assert event.detail == {"old_serial": old.serial, "new_serial": new_certificate.serial,
                            "new_fingerprint": new_certificate.fingerprint}
    package = agreement_load(signed_open(data=counter.get(f"{AGREEMENTS}{agreement.pk}/package/").content,
                                         trust=trust_store(now=clock.now()), now=clock.now(),
                                         expected_kind="agreement").payload)
    assert package.enterprise_cert_fingerprint == new_certificate.fingerprint


def test_staff_without_the_agreement_change_permission_cannot_rebind(
    business_clock, our_agent, django_user_model, new_certificate
):
    user = staff_user(django_user_model, "viewer-he")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="agreements",
                                                         codename__in=["view_agreement", "view_certificate"]))
    certificate_revoke(certificate=our_agent.agreement.certificate, reason="遗失", now=clock.now())
    viewer = client_for(user)
    rebind = f"{AGREEMENTS}{our_agent.agreement.pk}/rebind/"

    assert viewer.get(rebind).status_code == 403
    assert viewer.post(rebind, {"certificate": new_certificate.pk}).status_code == 403
    assert Agreement.objects.get(pk=our_agent.agreement.pk).certificate_id == our_agent.agreement.certificate_id
    assert not AuditEvent.objects.filter(action="agreement_certificate_rebind").exists()


def _package_check(data: bytes, agreement: Agreement) -> None:
    opened = signed_open(data=data, trust=trust_store(now=clock.now()), now=clock.now(), expected_kind="agreement")
    package = agreement_load(opened.payload)
    assert (package.agreement_no, package.payer_unit_no, package.settlement_account) == (
        agreement.number, agreement.payer_unit_no, agreement.settlement_account)
    assert package.fee_per_payment == agreement.fee_per_payment
    assert package.enterprise_cert_fingerprint == agreement.certificate.fingerprint


def test_the_agreement_package_downloads_bank_signed_from_the_button_and_the_action(
    business_clock, our_agent, counter
):
    agreement = our_agent.agreement

    button = counter.get(f"{AGREEMENTS}{agreement.pk}/package/")
    action = counter.post(AGREEMENTS, {"action": "export_package", "_selected_action": [agreement.pk], "index": 0})

    for response in (button, action):
        assert response.status_code == 200
        assert 'filename="DF0001.agreement.p7s"' in response["Content-Disposition"]
        _package_check(response.content, agreement)


def issue_form(client) -> dict[str, str]:
    """The issue page's one-time token, as the browser would post it back."""
    page = client.get(f"{CERTIFICATES}add/").content.decode()
    return {"issue_token": re.search(r'name="issue_token" value="([^"]+)"', page).group(1)}


def test_issuing_a_certificate_shows_its_fingerprint_and_a_reload_issues_nothing_more(
    business_clock, our_agent, counter
):
    token = issue_form(counter)
    mismatch = counter.post(f"{CERTIFICATES}add/", {**token, "company": our_agent.company.pk, "pin1": "usbkey-pin-1",
                                                    "pin2": "usbkey-pin-2"})
    assert mismatch.status_code == 200
    assert "两次输入的密码不一致" in mismatch.content.decode()
    assert "usbkey-pin-1" not in mismatch.content.decode()  # a PIN is never put back on the page
    assert Certificate.objects.count() == 1

    response = counter.post(f"{CERTIFICATES}add/", {**token, "company": our_agent.company.pk,
                                                    "common_name": "DF0001-2", "pin1": "usbkey-pin-1",
                                                    "pin2": "usbkey-pin-1"})

    # POST-redirect-GET: the browser lands on a page it can reload without issuing again.
    assert response.status_code == 302
    certificate = Certificate.objects.exclude(pk=our_agent.agreement.certificate.pk).get()
    assert response["Location"] == f"{CERTIFICATES}{certificate.pk}/issued/"
    for _reload in range(2):
        page = counter.get(response["Location"])
        assert page.status_code == 200
        text = page.content.decode()
        assert "企业证书已签发" in text
        assert pki.fingerprint_display(certificate.fingerprint) in text
        assert certificate.serial in text
    # The same form page posted again (a double click, the browser's resubmit): nothing more issued.
    again = counter.post(f"{CERTIFICATES}add/", {**token, "company": our_agent.company.pk, "pin1": "usbkey-pin-1",
                                                 "pin2": "usbkey-pin-1"})
    assert again.status_code == 302
    assert again["Location"] == response["Location"]
    assert Certificate.objects.count() == 2
    assert AuditEvent.objects.filter(action="certificate_issue").count() == 1

    download = counter.get(f"{CERTIFICATES}{certificate.pk}/issued/usbkey.p12")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/x-pkcs12"
    identity = pki.pkcs12_load(data=download.content, pin="usbkey-pin-1")
    assert pki.cert_fingerprint(identity.cert) == certificate.fingerprint
    assert (certificate.company, certificate.role) == (our_agent.company, Certificate.Role.ENTERPRISE)
    assert "DF0001-2" in certificate.subject
    pki.chain_verify(cert=identity.cert, intermediates=[], trust=trust_store(now=clock.now()), now=clock.now())


def test_the_usb_key_file_downloads_only_in_the_session_that_issued_it(
    business_clock, our_agent, counter, django_user_model
):
    token = issue_form(counter)
    counter.post(f"{CERTIFICATES}add/", {**token, "company": our_agent.company.pk, "pin1": "usbkey-pin-1",
                                         "pin2": "usbkey-pin-1"})
    certificate = Certificate.objects.exclude(pk=our_agent.agreement.certificate.pk).get()
    colleague = staff_user(django_user_model, "counter-sun")
    colleague.user_permissions.add(*Permission.objects.filter(content_type__app_label="agreements",
                                                              codename__in=["add_certificate", "view_certificate"]))
    other = client_for(colleague)

    assert other.get(f"{CERTIFICATES}{certificate.pk}/issued/usbkey.p12").status_code == 404
    assert "只能在签发它的会话中下载" in other.get(f"{CERTIFICATES}{certificate.pk}/issued/").content.decode()
    # The used token, posted from another session (which holds no issued record), is refused too.
    replay = other.post(f"{CERTIFICATES}add/", {**token, "company": our_agent.company.pk, "pin1": "usbkey-pin-1",
                                               "pin2": "usbkey-pin-1"}, follow=True)
    assert any("此签发表单已提交过" in str(m) for m in replay.context["messages"])
    assert Certificate.objects.count() == 2


def test_revoking_puts_the_serial_on_the_crl_and_prevalidation_refuses_files_signed_with_it(
    business_clock, our_agent, bank, counter, django_capture_on_commit_callbacks
):
    certificate = our_agent.agreement.certificate
    without_reason = counter.post(CERTIFICATES, {"action": "revoke_selected", "_selected_action": [certificate.pk],
                                                 "post": "yes", "reason": ""})
    assert without_reason.status_code == 200
    certificate.refresh_from_db()
    assert certificate.revoked_at is None

    done = counter.post(CERTIFICATES, {"action": "revoke_selected", "_selected_action": [certificate.pk],
                                       "post": "yes", "reason": "USBKEY 遗失"})

    assert done.status_code == 302
    certificate.refresh_from_db()
    assert (certificate.revoked_at, certificate.revocation_reason) == (clock.now(), "USBKEY 遗失")
    assert AuditEvent.objects.get(action="certificate_revoke").actor == "counter-chen"
    serial = int(certificate.serial, 16)
    assert trust_store(now=clock.now()).crls[0].get_revoked_certificate_by_serial_number(serial) is not None
    crl = counter.get(f"{CERTIFICATES}crl/")
    assert crl.status_code == 200
    from cryptography import x509

    assert x509.load_pem_x509_crl(crl.content).get_revoked_certificate_by_serial_number(serial) is not None

    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=bank)
    with django_capture_on_commit_callbacks():
        batch = payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.refusal_code) == (BatchStatus.INVALID, "cert_revoked")


def test_the_bank_certificate_cannot_be_revoked_from_admin(business_clock, our_agent, counter):
    from apps.agreements.services import bank_keys_create

    bank_keys_create(now=clock.now())
    bank_cert = Certificate.objects.get(role=Certificate.Role.BANK)
    response = counter.post(CERTIFICATES, {"action": "revoke_selected", "_selected_action": [bank_cert.pk],
                                           "post": "yes", "reason": "试试"}, follow=True)
    assert any("银行证书不能在后台吊销" in str(m) for m in response.context["messages"])
    bank_cert.refresh_from_db()
    assert bank_cert.revoked_at is None


def test_certificate_list_shows_status(business_clock, our_agent, counter):
    response = counter.get(CERTIFICATES)
    assert response.status_code == 200
    assert "有效" in response.content.decode()
    assert "下载证书作废列表（CRL）" in response.content.decode()
    assert counter.get(CERTIFICATES, {"state": "revoked"}).context["cl"].result_count == 0
    assert counter.get(CERTIFICATES, {"state": "valid"}).context["cl"].result_count == 1


def test_staff_without_permissions_get_nothing(business_clock, our_agent, bank_staff):
    staff = client_for(bank_staff)
    agreement, certificate = our_agent.agreement, our_agent.agreement.certificate
    for url in (COMPANIES, AGREEMENTS, CERTIFICATES, f"{AGREEMENTS}{agreement.pk}/package/", f"{CERTIFICATES}crl/",
                f"{CERTIFICATES}add/", f"{AGREEMENTS}{agreement.pk}/rebind/", f"{CERTIFICATES}{certificate.pk}/issued/",
                f"{CERTIFICATES}{certificate.pk}/issued/usbkey.p12"):
        assert staff.get(url).status_code == 403, url
    assert staff.post(f"{CERTIFICATES}add/", {"company": our_agent.company.pk, "pin1": "usbkey-pin-1",
                                              "pin2": "usbkey-pin-1"}).status_code == 403
    assert staff.post(CERTIFICATES, {"action": "revoke_selected", "_selected_action": [certificate.pk],
                                     "post": "yes", "reason": "x"}).status_code == 403
    certificate.refresh_from_db()
    assert certificate.revoked_at is None
    assert Certificate.objects.count() == 1


def test_a_viewer_may_export_but_not_revoke_or_issue(business_clock, our_agent, django_user_model):
    user = staff_user(django_user_model, "viewer-wu")
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="agreements", codename__in=["view_agreement", "view_certificate"]))
    viewer = client_for(user)
    certificate = our_agent.agreement.certificate

    assert viewer.get(f"{AGREEMENTS}{our_agent.agreement.pk}/package/").status_code == 200
    assert viewer.get(f"{CERTIFICATES}add/").status_code == 403
    viewer.post(CERTIFICATES, {"action": "revoke_selected", "_selected_action": [certificate.pk], "post": "yes",
                               "reason": "越权"})
    certificate.refresh_from_db()
    assert certificate.revoked_at is None
