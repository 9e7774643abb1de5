"""重新签发: a certificate made before the API (emailProtection only) is refused by the API with a
clear message; staff reissue it in admin; the new one (clientAuth) works, the agreement moved to
it, and files signed with the old one are still accepted until it is revoked."""

from __future__ import annotations

import pytest

from apps.agreements.models import Agreement, Certificate
from apps.core.models import AuditEvent
from apps.intake.errors import FileRefused
from apps.intake.opening import signed_file_open
from apps.payroll.services.intake import KIND
from payroll_exchange import pki
from tests.factories import KEYS_NOW, certificate_record, payroll_file_bytes, payroll_rows
from tests.h2h.conftest import ApiClient, cert_header, h2h_enable

pytestmark = pytest.mark.django_db


@pytest.fixture
def email_only(our_agent, platform_keys, monkeypatch):
    """Company A's agreement bound to a certificate issued before clientAuth existed."""
    with monkeypatch.context() as patch:
        patch.setattr(pki, "_leaf_usages", lambda role: [pki.ExtendedKeyUsageOID.EMAIL_PROTECTION])
        identity = pki.cert_issue(issuer=platform_keys["root"], common_name="DF0001", organization="A",
                                  role="enterprise", now=KEYS_NOW)
    record = certificate_record(identity=identity, company=our_agent.company)
    Agreement.objects.filter(pk=our_agent.agreement.pk).update(certificate=record)
    our_agent.agreement.refresh_from_db()
    our_agent.identity = identity
    h2h_enable(our_agent)
    return record


def test_admin_reissue_moves_the_agreement_and_keeps_the_old_signing(admin_client, client, email_only, our_agent,
                                                                    business_clock, platform_keys):
    from apps.core import clock

    old_identity = our_agent.identity
    refused = ApiClient(client, cert_header(old_identity)).get("/agreements/")
    assert (refused.status_code, refused.json()["code"]) == (403, "cert_no_client_auth")

    response = admin_client.post("/admin/agreements/certificate/", {
        "action": "reissue_selected", "_selected_action": [email_only.pk], "post": "yes",
        "pin1": "135791", "pin2": "135791"})
    assert response.status_code == 302
    new = Certificate.objects.get(replaces=email_only)
    assert Agreement.objects.get(pk=our_agent.agreement.pk).certificate_id == new.pk
    assert Certificate.objects.get(pk=email_only.pk).revoked_at is None
    audit = AuditEvent.objects.get(action="certificate_reissue")
    assert audit.detail == {"old_serial": email_only.serial, "new_serial": new.serial, "agreements": 1}
    p12 = admin_client.get(f"/admin/agreements/certificate/{new.pk}/issued/usbkey.p12")
    assert p12.status_code == 200
    new_identity = pki.pkcs12_load(data=b"".join(p12.streaming_content) if p12.streaming else p12.content,
                                   pin="135791")
    assert pki.cert_client_auth(new_identity.cert)
    assert ApiClient(client, cert_header(new_identity)).get("/agreements/").status_code == 200

    # A file signed with the old key before it is revoked still opens; after revocation, it does not.
    our_agent.agreement.refresh_from_db()
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(1), bank=platform_keys["bank"],
                              signer=old_identity)
    assert signed_file_open(data=data, agreement=our_agent.agreement, kind=KIND, now=clock.now()).payload
    from apps.agreements.services import certificate_revoke

    certificate_revoke(certificate=email_only, reason="replaced", now=clock.now())
    with pytest.raises(FileRefused) as refused_file:
        signed_file_open(data=data, agreement=our_agent.agreement, kind=KIND, now=clock.now())
    assert refused_file.value.code == "cert_revoked"


def test_a_replaced_certificate_cannot_be_reissued_again(email_only, business_clock):
    from apps.agreements.services import AgreementRefused, certificate_reissue
    from apps.core import clock

    certificate_reissue(certificate=email_only, pin="135791", now=clock.now(), actor="staff")
    before = Certificate.objects.count()
    with pytest.raises(AgreementRefused) as refused:
        certificate_reissue(certificate=email_only, pin="135791", now=clock.now(), actor="staff")
    assert refused.value.code == "certificate_not_reissuable"
    assert Certificate.objects.count() == before


def test_a_file_signed_by_another_certificate_of_the_company_is_still_refused(our_agent, enterprise_identities,
                                                                             platform_keys, business_clock):
    from apps.core import clock

    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(1), bank=platform_keys["bank"],
                              signer=enterprise_identities["a2"])
    with pytest.raises(FileRefused) as refused:
        signed_file_open(data=data, agreement=our_agent.agreement, kind=KIND, now=clock.now())
    assert refused.value.code == "envelope_signer_not_bound"
