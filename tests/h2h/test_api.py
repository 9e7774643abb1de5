"""The host-to-host API through Django's client, as nginx would call it (unix socket, verified
certificate in the header): the kiosk's journey by certificate, scoping, errors, idempotency."""

from __future__ import annotations

from datetime import date

import pytest

from apps.core.models import AuditEvent
from apps.h2h.models import IdempotencyKey
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import payroll_batch_prevalidate
from apps.payroll.services.storing import payroll_batch_store
from tests.factories import payroll_file_bytes, payroll_rows
from tests.h2h.conftest import ApiClient, cert_header

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(platform_keys):
    return platform_keys["bank"]


def error_shape(body: dict) -> None:
    assert set(body) == {"code", "message", "field", "row"}
    assert set(body["message"]) == {"zh", "en"}


def test_agreements_lists_only_the_certificates_own(api_a, our_agent):
    response = api_a.get("/agreements/")
    assert response.status_code == 200, response.json()
    assert [a["number"] for a in response.json()] == [our_agent.agreement.number]


def test_upload_poll_result_confirm_store_by_certificate(api_a, our_agent, bank, django_capture_on_commit_callbacks):
    """Given company A's certificate, when it uploads a payroll file, the batch is recorded with no
    card, the certificate as uploader and as audit actor, outside service hours too."""
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(3), bank=bank)
    with django_capture_on_commit_callbacks(execute=False):
        response = api_a.upload(data)
    assert response.status_code == 202, response.json()
    body = response.json()
    batch = PayrollBatch.objects.get(pk=body["id"])
    assert (batch.card_id, batch.certificate_id) == (None, our_agent.agreement.certificate_id)
    assert body == {"kind": "payroll", "id": batch.pk, "status": "validating", "queued": True,
                    "url": f"/api/h2h/v1/batches/{batch.pk}/"}
    audit = AuditEvent.objects.get(action="payroll_submit", object_id=str(batch.pk))
    assert (audit.actor_kind, audit.actor) == ("cert", f"cert#{our_agent.agreement.certificate_id}")

    status = api_a.get(f"/batches/{batch.pk}/").json()
    assert (status["status"], status["busy"], status["actions"]) == ("validating", True, [])
    payroll_batch_prevalidate(batch_id=batch.pk)
    status = api_a.get(f"/batches/{batch.pk}/").json()
    assert status["status"] == "awaiting_confirmation"
    assert (status["rows_done"], status["rows_total"], status["record_count"]) == (3, 3, 3)
    assert (status["total_amount"], status["expected_fee"], status["actions"]) == ("24000.00", "1.50",
                                                                                  ["revoke", "confirm"])

    result = api_a.get(f"/batches/{batch.pk}/result/").json()
    assert result["digest"] == batch.__class__.objects.get(pk=batch.pk).digest
    assert (result["error_total"], result["errors"], result["page"]) == (0, [], 1)
    assert len(result["new_employees"]) == 3

    with django_capture_on_commit_callbacks(execute=False):
        confirmed = api_a.post(f"/batches/{batch.pk}/confirm/", key="c-1")
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json() == {"id": batch.pk, "status": "storing", "queued": True}
    assert AuditEvent.objects.get(action="payroll_confirm").actor_kind == "cert"
    payroll_batch_store(batch_id=batch.pk)
    assert api_a.get(f"/batches/{batch.pk}/").json()["status"] == BatchStatus.STORED

    csv = api_a.get(f"/batches/{batch.pk}/report.csv")
    assert csv.status_code == 200
    assert csv["Content-Type"].startswith("text/csv")
    listed = api_a.get("/batches/", QUERY_STRING="upload_date=2026-12-01")
    assert [b["id"] for b in listed.json()] == [batch.pk]


def test_raw_body_upload_and_service_hours_do_not_apply(api_a, our_agent, bank, business_clock,
                                                        django_capture_on_commit_callbacks):
    from tests.factories import at

    business_clock.set(at(date(2026, 12, 1), hour=20))  # the kiosk is closed at 20:00
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=bank)
    with django_capture_on_commit_callbacks(execute=False):
        response = api_a.upload(data, raw=True)
    assert response.status_code == 202, response.json()
    assert PayrollBatch.objects.count() == 1


def test_revoke_by_certificate(api_a, our_agent, bank, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        batch_id = api_a.upload(payroll_file_bytes(party=our_agent, rows=payroll_rows(1), bank=bank)).json()["id"]
    payroll_batch_prevalidate(batch_id=batch_id)
    response = api_a.post(f"/batches/{batch_id}/revoke/", key="r-1")
    assert response.json()["status"] == "revoked"
    again = api_a.post(f"/batches/{batch_id}/confirm/", key="c-2")
    assert again.status_code == 409
    error_shape(again.json())
    assert again.json()["code"] == "state_conflict"
    assert PayrollBatch.objects.get(pk=batch_id).status == "revoked"


def test_other_company_gets_404_for_every_object_of_a(api_a, api_b, our_agent, bank,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        batch_id = api_a.upload(payroll_file_bytes(party=our_agent, rows=payroll_rows(1), bank=bank)).json()["id"]
    payroll_batch_prevalidate(batch_id=batch_id)
    for path in (f"/batches/{batch_id}/", f"/batches/{batch_id}/result/", f"/batches/{batch_id}/report.csv",
                 f"/returns/{batch_id}/", f"/returns/{batch_id}/download/"):
        response = api_b.get(path)
        assert response.status_code == 404, path
        error_shape(response.json())
    for path in (f"/batches/{batch_id}/confirm/", f"/batches/{batch_id}/revoke/"):
        assert api_b.post(path, key=path).status_code == 404
    assert api_b.get("/batches/", QUERY_STRING="upload_date=2026-12-01").json() == []
    assert PayrollBatch.objects.get(pk=batch_id).status == "awaiting_confirmation"
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["up-1"]  # A's upload only


def test_upload_to_another_companys_agreement_is_refused(api_b, our_agent, bank):
    response = api_b.upload(payroll_file_bytes(party=our_agent, rows=payroll_rows(1), bank=bank),
                            QUERY_STRING=f"agreement={our_agent.agreement.number}")
    assert response.status_code == 404
    assert response.json()["code"] == "agreement_not_yours"
    assert not PayrollBatch.objects.exists()


def test_missing_idempotency_key_is_400_and_nothing_stored(api_a, our_agent, bank):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(1), bank=bank)
    response = api_a.post("/files/", {"file": SimpleUploadedFile("p.p7m", data)}, key=None)
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("idempotency_key_missing", "Idempotency-Key")
    assert not PayrollBatch.objects.exists()


def test_same_key_same_body_replays_the_first_answer(api_a, our_agent, bank, django_capture_on_commit_callbacks):
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=bank)
    with django_capture_on_commit_callbacks(execute=False):
        first = api_a.upload(data, key="same")
        second = api_a.upload(data, key="same", raw=True)  # the same request in another encoding
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert PayrollBatch.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_same_key_different_body_is_422(api_a, our_agent, bank, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        api_a.upload(payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=bank), key="k")
        other = api_a.upload(payroll_file_bytes(party=our_agent, rows=payroll_rows(3), bank=bank,
                                                batch_no="B2"), key="k")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert PayrollBatch.objects.count() == 1


def test_keys_are_per_certificate(api_a, api_b, our_agent, other_agent, bank, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        a = api_a.upload(payroll_file_bytes(party=our_agent, rows=payroll_rows(1), bank=bank), key="shared")
        b = api_b.upload(payroll_file_bytes(party=other_agent, rows=payroll_rows(1), bank=bank), key="shared")
    assert (a.status_code, b.status_code) == (202, 202)
    assert a.json()["id"] != b.json()["id"]


def test_a_refused_upload_stores_no_key_and_no_batch(api_a):
    response = api_a.upload(b"", key="empty")
    assert response.status_code in (400, 422)
    error_shape(response.json())
    assert not PayrollBatch.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_forged_header_straight_to_the_application_is_refused(client, our_agent, business_clock):
    from tests.h2h.conftest import h2h_enable

    h2h_enable(our_agent)
    forged = ApiClient(client, cert_header(our_agent.identity), remote_addr="203.0.113.9")
    response = forged.get("/agreements/")
    assert response.status_code == 401
    assert response.json()["code"] == "cert_header_untrusted"


def test_no_certificate_is_401(client, db):
    response = ApiClient(client, None).get("/agreements/")
    assert response.status_code == 401
    error_shape(response.json())
    assert response.json()["code"] == "cert_missing"


def test_agreement_not_enabled_is_refused(client, our_agent, business_clock):
    response = ApiClient(client, cert_header(our_agent.identity)).get("/agreements/")
    assert response.status_code == 403
    assert response.json()["code"] == "h2h_not_enabled"


def test_revoked_expired_foreign_and_email_only_certificates_are_refused(client, api_a, our_agent, platform_keys):
    from datetime import timedelta

    from apps.agreements.services import certificate_revoke
    from apps.core import clock
    from payroll_exchange import pki
    from tests.factories import KEYS_NOW

    root = platform_keys["root"]
    foreign = pki.root_create(common_name="Impostor Root", now=KEYS_NOW)
    cases = {
        "cert_untrusted": pki.cert_issue(issuer=foreign, common_name="DF0001", organization="x", role="enterprise",
                                         now=KEYS_NOW),
        "cert_expired": pki.cert_issue(issuer=root, common_name="DF0001", organization="x", role="enterprise",
                                       now=KEYS_NOW - timedelta(days=800), days=30),
        "cert_not_enterprise": pki.cert_issue(issuer=root, common_name="DF0001", organization="x",
                                              role="enterprise", now=KEYS_NOW),  # issued, never registered
    }
    for code, identity in cases.items():
        response = ApiClient(client, cert_header(identity)).get("/agreements/")
        assert (response.status_code, response.json()["code"]) in ((401, code), (403, code)), code
    certificate_revoke(certificate=our_agent.agreement.certificate, reason="lost", now=clock.now())
    response = api_a.get("/agreements/")
    assert (response.status_code, response.json()["code"]) == (401, "cert_revoked")


def test_certificate_without_client_auth_is_refused_clearly(client, our_agent, platform_keys, monkeypatch):
    from payroll_exchange import pki
    from tests.factories import KEYS_NOW, certificate_record
    from tests.h2h.conftest import h2h_enable

    monkeypatch.setattr(pki, "_leaf_usages", lambda role: [pki.ExtendedKeyUsageOID.EMAIL_PROTECTION])
    old = pki.cert_issue(issuer=platform_keys["root"], common_name="DF0001", organization="x", role="enterprise",
                         now=KEYS_NOW)
    record = certificate_record(identity=old, company=our_agent.company)
    our_agent.agreement.__class__.objects.filter(pk=our_agent.agreement.pk).update(certificate=record)
    h2h_enable(our_agent)
    response = ApiClient(client, cert_header(old)).get("/agreements/")
    assert response.status_code == 403
    assert response.json()["code"] == "cert_no_client_auth"
    assert "clientAuth" in response.json()["message"]["en"]


def test_h2h_enable_is_audited_once(our_agent):
    from apps.agreements.services import agreement_h2h_set

    assert agreement_h2h_set(agreement=our_agent.agreement, enabled=True, actor="staff1") is True
    assert agreement_h2h_set(agreement=our_agent.agreement, enabled=True, actor="staff1") is False
    assert AuditEvent.objects.filter(action="agreement_h2h_enable").count() == 1


def test_schema_declares_every_operation_the_error_body_idempotency_and_mtls(client, db):
    import yaml

    response = client.get("/api/h2h/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.1")
    assert schema["components"]["securitySchemes"]["enterpriseCertificate"]["type"] == "mutualTLS"
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) == 16  # 15 + the pain.002 status report (issue 14 part B)
    for path, method, op in operations:
        assert {"401", "404"} <= set(op["responses"]), (path, method)
        assert op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
        if method == "post":
            names = [p["name"] for p in op.get("parameters", [])]
            assert "Idempotency-Key" in names, path
    upload = schema["paths"]["/api/h2h/v1/files/"]["post"]
    kinds = next(p["schema"]["enum"] for p in upload["parameters"] if p["name"] == "kind")
    assert sorted(kinds) == ["employees", "pain001", "payroll"]  # every kind POST /files/ takes
    multipart = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert sorted(multipart["properties"]["kind"]["enum"]) == sorted(kinds)
    docs = client.get("/api/h2h/v1/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_an_upload_over_the_limit_is_413_in_the_error_body(api_a, our_agent, bank, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    response = api_a.upload(b"x" * 200_000, raw=True)
    assert response.status_code == 413
    error_shape(response.json())
    assert response.json()["code"] == "upload_too_large"
    assert not PayrollBatch.objects.exists()


def test_rate_limit_is_per_certificate(api_a, api_b, settings):
    settings.H2H_RATE = "2/min"
    assert [api_a.get("/agreements/").status_code for _ in range(3)] == [200, 200, 429]
    limited = api_a.get("/agreements/")
    assert limited.json()["code"] == "rate_limited"
    assert int(limited["Retry-After"]) > 0
    assert api_b.get("/agreements/").status_code == 200


def test_employee_file_upload_and_confirm_by_certificate(api_a, our_agent, bank, django_capture_on_commit_callbacks):
    from apps.employees.models import EmployeeFile
    from apps.employees.services import employee_file_open
    from tests.factories import employee_file_bytes, employee_rows

    data = employee_file_bytes(party=our_agent, rows=employee_rows(2), bank=bank)
    with django_capture_on_commit_callbacks(execute=False):
        response = api_a.upload(data, kind="employees", key="e-1")
    assert response.status_code == 202, response.json()
    file_id = response.json()["id"]
    assert response.json()["url"] == f"/api/h2h/v1/employee-files/{file_id}/"
    employee_file_open(file_id=file_id)
    status = api_a.get(f"/employee-files/{file_id}/").json()
    assert (status["status"], status["record_count"], status["actions"]) == ("awaiting_confirmation", 2,
                                                                             ["confirm", "cancel"])
    with django_capture_on_commit_callbacks(execute=False):
        confirmed = api_a.post(f"/employee-files/{file_id}/confirm/", key="e-2")
    assert confirmed.json()["status"] == "storing"
    assert EmployeeFile.objects.get(pk=file_id).certificate_id == our_agent.agreement.certificate_id
    listed = api_a.get("/employee-files/", QUERY_STRING="upload_date=2026-12-01").json()
    assert [f["id"] for f in listed] == [file_id]
