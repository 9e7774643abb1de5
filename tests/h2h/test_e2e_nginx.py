"""银企直连 end to end: a real nginx on loopback (mutual TLS against the bank root) in front of
gunicorn on a unix socket, and a real Celery worker. Company A's ERP uploads, polls, confirms; pay
day runs; it fetches the return file and its client decrypts it: the totals equal the ledger."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from apps.agreements.services import certificate_revoke
from apps.core import clock
from apps.h2h.models import IdempotencyKey
from apps.ledger.models import AccountKind, LedgerAccount
from apps.ledger.payday import payday_run
from apps.ledger.services import ledger_account_open, ledger_deposit
from apps.payroll.models import PayrollBatch
from apps.returns.services import return_files_run
from payroll_client.returns import return_totals
from payroll_exchange import pki
from payroll_exchange.certs import cert_fingerprint
from payroll_exchange.envelope import envelope_open
from payroll_exchange.formats import return_load
from tests.conftest import worker_env
from tests.factories import KEYS_NOW, at, payroll_file_bytes, payroll_rows
from tests.h2h.conftest import h2h_enable
from tests.h2h.nginx import Nginx, nginx_start
from tests.support.processes import PYTHON, Process, process_start, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAY_DATE = date(2026, 12, 3)


def gunicorn_on_socket(*, socket_path: Path, log_dir: Path) -> Process:
    argv = [PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind", f"unix:{socket_path}",
            "--workers", "2", "--timeout", "60", "--access-logfile", "-"]
    server = process_start(name="h2h-web", argv=argv, env=worker_env(), log_dir=log_dir)

    def up() -> bool:
        if not server.alive():
            raise RuntimeError(f"gunicorn exited early:\n{server.log()}")
        return socket_path.exists()

    wait_until(up, timeout=60, what="gunicorn's socket")
    return server


@pytest.fixture(scope="module")
def gateway(django_db_setup, django_db_blocker, session_dir: Path, platform_keys, tmp_path_factory) -> Iterator[Nginx]:
    from django.conf import settings

    directory = tmp_path_factory.mktemp("h2h-nginx")
    socket_path = directory / "app.sock"
    web = gunicorn_on_socket(socket_path=socket_path, log_dir=session_dir)
    try:
        nginx = nginx_start(directory=directory, root=platform_keys["root"], app_socket=socket_path,
                            max_body=settings.UPLOAD_MAX_BYTES + 64 * 1024)
        try:
            yield nginx
        finally:
            nginx.stop()
    finally:
        web.stop()


def key_files(identity: pki.Identity, directory: Path) -> tuple[str, str]:
    name = uuid.uuid4().hex[:8]
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(pki.cert_pem(identity.cert))
    key_path.write_bytes(identity.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    key_path.chmod(0o600)
    return str(cert_path), str(key_path)


class Erp:
    """The enterprise's system: requests with its certificate, verifying nginx against the bank root."""

    def __init__(self, gateway: Nginx, cert: tuple[str, str] | None) -> None:
        self.session = requests.Session()
        # Per request, not session.verify: REQUESTS_CA_BUNDLE in the environment would win over it.
        self.options = {"verify": str(gateway.ca_file), "cert": cert}
        self.base = f"{gateway.url}/api/h2h/v1"

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.base + path, timeout=30, **self.options, **kwargs)

    def post(self, path: str, *, key: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        headers["Idempotency-Key"] = key or uuid.uuid4().hex
        return self.session.post(self.base + path, headers=headers, timeout=60, **self.options, **kwargs)


def batch_status(erp: Erp, batch_id: int) -> str:
    return erp.get(f"/batches/{batch_id}/").json()["status"]


def test_company_a_uploads_confirms_and_fetches_its_return_file(gateway, live_worker, business_clock, our_agent,
                                                                other_agent, platform_keys, tmp_path):
    bank = platform_keys["bank"]
    h2h_enable(our_agent)
    h2h_enable(other_agent)
    rows = payroll_rows(4)
    for row in rows:  # the employees' accounts are open at the bank
        ledger_account_open(number=row.account, holder_name=row.name, kind=AccountKind.EMPLOYEE)
    settlement = LedgerAccount.objects.get(number=our_agent.agreement.settlement_account)
    ledger_deposit(account=settlement, amount=Decimal("100000.00"))
    erp_a = Erp(gateway, key_files(our_agent.identity, tmp_path))
    erp_b = Erp(gateway, key_files(other_agent.identity, tmp_path))

    data = payroll_file_bytes(party=our_agent, rows=rows, bank=bank, pay_date=PAY_DATE)
    uploaded = erp_a.post("/files/?kind=payroll", key="erp-upload-1", data=data,
                          headers={"Content-Type": "application/octet-stream"})
    assert uploaded.status_code == 202, uploaded.text
    batch_id = uploaded.json()["id"]
    # A retry of the same upload (the ERP lost the answer) gets the same answer and no second batch.
    retried = erp_a.post("/files/?kind=payroll", key="erp-upload-1", data=data,
                         headers={"Content-Type": "application/octet-stream"})
    assert retried.json() == uploaded.json()
    assert PayrollBatch.objects.count() == 1

    wait_until(lambda: batch_status(erp_a, batch_id) != "validating", timeout=60, what="pre-validation")
    status = erp_a.get(f"/batches/{batch_id}/").json()
    assert status["status"] == "awaiting_confirmation", erp_a.get(f"/batches/{batch_id}/result/").json()
    assert (status["rows_done"], status["rows_total"], status["total_amount"]) == (4, 4, "32000.00")

    # Company B sees none of it.
    for path in (f"/batches/{batch_id}/", f"/batches/{batch_id}/result/", f"/batches/{batch_id}/report.csv"):
        assert erp_b.get(path).status_code == 404, path
    assert erp_b.post(f"/batches/{batch_id}/confirm/").status_code == 404

    confirmed = erp_a.post(f"/batches/{batch_id}/confirm/")
    assert confirmed.status_code == 200, confirmed.text
    wait_until(lambda: batch_status(erp_a, batch_id) == "stored", timeout=60, what="storing")

    before = LedgerAccount.objects.get(pk=settlement.pk).balance
    result = payday_run(today=PAY_DATE)
    assert result.paid == [batch_id]
    debited = before - LedgerAccount.objects.get(pk=settlement.pk).balance
    assert return_files_run(today=PAY_DATE + timedelta(days=1)) == 1
    business_clock.set(at(PAY_DATE + timedelta(days=1)))

    listed = erp_a.get("/returns/").json()
    assert [r["batch_id"] for r in listed] == [batch_id]
    assert listed[0]["documents"][0]["kind"] == "return_file"
    assert erp_b.get(f"/returns/{batch_id}/download/").status_code == 404
    sealed = erp_a.get(f"/returns/{batch_id}/download/")
    assert sealed.status_code == 200
    trust = pki.TrustStore(roots=[platform_keys["root"].cert], crls=[], require_crl=False)
    opened = envelope_open(data=sealed.content, recipient=our_agent.identity, trust=trust, now=clock.now(),
                           expected_kind="return", expected_signer=cert_fingerprint(bank.cert))
    returned, problems = return_load(opened.payload)
    assert problems == []
    totals = return_totals(returned=returned)
    assert (totals["success_count"], totals["failure_count"]) == (4, 0)
    assert totals["success_amount"] == Decimal("32000.00")
    fee = Decimal(listed[0]["fee_charged"])
    assert debited == totals["success_amount"] + fee


def test_refused_clients_store_nothing(gateway, business_clock, our_agent, platform_keys, tmp_path):
    h2h_enable(our_agent)
    bank = platform_keys["bank"]
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(1), bank=bank)
    root = platform_keys["root"]
    expired = pki.cert_issue(issuer=root, common_name="DF0001", organization="x", role="enterprise",
                             now=KEYS_NOW - timedelta(days=800), days=30)
    foreign_root = pki.root_create(common_name="Impostor Root", now=KEYS_NOW)
    foreign = pki.cert_issue(issuer=foreign_root, common_name="DF0001", organization="x", role="enterprise",
                             now=KEYS_NOW)
    forged_header = {"X-SSL-Client-Cert": "forged"}

    # No certificate (even with a forged header), an expired one, one from another root: TLS or 4xx.
    for cert in (None, key_files(expired, tmp_path), key_files(foreign, tmp_path)):
        erp = Erp(gateway, cert)
        try:
            response = erp.post("/files/", data=data, headers={"Content-Type": "application/octet-stream",
                                                               **forged_header})
        except requests.exceptions.SSLError:
            continue
        assert response.status_code in (400, 401, 403), response.text
    # Revoked: TLS passes (nginx has no CRL), Django refuses it against the certificate table.
    certificate_revoke(certificate=our_agent.agreement.certificate, reason="lost", now=clock.now())
    revoked = Erp(gateway, key_files(our_agent.identity, tmp_path)).post(
        "/files/", data=data, headers={"Content-Type": "application/octet-stream"})
    assert revoked.status_code == 401
    assert revoked.json()["code"] == "cert_revoked"
    assert not PayrollBatch.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_schemathesis_every_operation_conforms_through_nginx(gateway, live_worker, business_clock, our_agent,
                                                             tmp_path):
    """Every operation of the published schema, a few generated requests each, through nginx with
    company A's certificate: no 5xx, every status, content type and body as the schema declares."""
    import schemathesis
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hypothesis_settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    h2h_enable(our_agent)
    erp = Erp(gateway, key_files(our_agent.identity, tmp_path))
    raw = erp.get("/schema/", headers={"Accept": "application/json"})
    assert raw.status_code == 200
    schema = schemathesis.openapi.from_dict(raw.json())
    schema.config.update(base_url=gateway.url)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
              response_headers_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 16  # 15 + the pain.002 status report (issue 14 part B)
    statuses: dict[str, set[int]] = {}
    for operation in operations:

        @hypothesis_settings(max_examples=6, deadline=None, database=None, derandomize=True,
                             suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def conforms(case) -> None:
            response = case.call(session=erp.session, **erp.options)
            statuses.setdefault(case.operation.label, set()).add(response.status_code)
            case.validate_response(response, checks=checks)

        conforms()
    # The accepted uploads' work is done by the live worker before the module ends: the run's
    # queue is left empty for the next module.
    import redis
    from django.conf import settings

    queue = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    # Reserved but unacknowledged tasks would go back to the queue when the worker stops: wait for
    # the records themselves to leave the working state, then for the queue.
    wait_until(lambda: not PayrollBatch.objects.filter(status__in=["validating", "storing"]).exists(), timeout=90,
               what="the uploads to be worked")
    wait_until(lambda: queue.llen(settings.CELERY_TASK_DEFAULT_QUEUE) == 0, timeout=60, what="the queue to drain")
    assert len(statuses) == 16  # every operation was called
    assert 202 in statuses["POST /api/h2h/v1/files/"]  # an upload was accepted, not only refused
