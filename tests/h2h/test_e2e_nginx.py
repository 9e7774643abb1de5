"""银企直连 end to end: a real nginx on loopback (mutual TLS against the bank root) in front of
gunicorn on a unix socket, and a real Celery worker. Company A's ERP uploads, polls, confirms; pay
day runs; it fetches the return file and its client decrypts it: the totals equal the ledger. The
same through the enterprise client's online mode (payroll-client submit / status / confirm /
fetch-returns with the USB key), with a pain.001 so that the pain.002 comes beside the return file."""

from __future__ import annotations

import csv
import os
import re
import subprocess
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
from apps.ledger.models import AccountKind, AccountStatus, LedgerAccount
from apps.ledger.payday import payday_run
from apps.ledger.services import ledger_account_open, ledger_deposit
from apps.payroll.models import PayrollBatch
from apps.returns.models import Pain001Source
from apps.returns.services import return_files_run
from payroll_client.online import Api, OnlineFailure, Server, tls_context
from payroll_client.returns import return_totals
from payroll_exchange import iso20022 as iso
from payroll_exchange import pki
from payroll_exchange.certs import cert_fingerprint
from payroll_exchange.envelope import envelope_open
from payroll_exchange.formats import return_load
from tests.conftest import worker_env
from tests.exchange.pain001_make import pain001_xml
from tests.factories import KEYS_NOW, at, payroll_file_bytes, payroll_rows
from tests.h2h.conftest import h2h_enable
from tests.h2h.nginx import Nginx, nginx_start
from tests.payroll.test_pain001 import txs_of
from tests.support.enterprise import CLIENT, OPERATOR, PASSWORDS, REVIEWER, EnterpriseClient
from tests.support.processes import PYTHON, Process, process_start, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAY_DATE = date(2026, 12, 3)
USBKEY_PIN = "802468"


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


# -- the enterprise client's online mode (payroll_client/online*.py) ---------------------------

def client_raw(client, *args: str) -> subprocess.CompletedProcess[str]:
    """payroll-client as EnterpriseClient runs it, for the runs that are expected to fail."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYROLL_CLIENT")}
    env.update(PAYROLL_CLIENT_HOME=str(client.home), BUSINESS_CLOCK=client.clock, PAYROLL_CLIENT_PIN=client.usbkey_pin,
               PAYROLL_CLIENT_USER=OPERATOR, PAYROLL_CLIENT_PASSWORD=PASSWORDS[OPERATOR])
    return subprocess.run([CLIENT, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def task_on_worker(name: str) -> None:
    from django.conf import settings

    from config.celery import app

    app.send_task(name, queue=settings.CELERY_TASK_DEFAULT_QUEUE)


@pytest.fixture
def enterprise_pc(business_clock, our_agent, platform_keys, tmp_path) -> EnterpriseClient:
    """Company A's PC: the bank root, company A's certificate as its USB key, the agreement package."""
    from apps.agreements.services import agreement_package_export

    h2h_enable(our_agent)
    files = tmp_path / "from-bank"
    files.mkdir()
    (files / "root.pem").write_bytes(pki.cert_pem(platform_keys["root"].cert))
    (files / "usbkey.p12").write_bytes(pki.pkcs12_dump(identity=our_agent.identity, pin=USBKEY_PIN))
    (files / "agreement.pkg").write_bytes(agreement_package_export(agreement=our_agent.agreement))
    client = EnterpriseClient(home=tmp_path / "pc", usbkey_pin=USBKEY_PIN, clock=business_clock.env_value)
    client.set_up(root_pem=files / "root.pem", usbkey=files / "usbkey.p12", agreement_package=files / "agreement.pkg")
    return client


def test_the_client_online_submits_confirms_and_fetches_the_return_file_and_pain002(
        gateway, live_worker, business_clock, our_agent, enterprise_pc, tmp_path):
    rows = payroll_rows(4)
    for row in rows:  # 员工00005's account is frozen: pay day fails that row (AC06)
        ledger_account_open(number=row.account, holder_name=row.name, kind=AccountKind.EMPLOYEE,
                            status=AccountStatus.FROZEN if row.seq == 4 else AccountStatus.NORMAL)
    settlement = LedgerAccount.objects.get(number=our_agent.agreement.settlement_account)
    ledger_deposit(account=settlement, amount=Decimal("100000.00"))
    xml = tmp_path / "erp-export.xml"
    xml.write_bytes(pain001_xml(batch_no="B20261203", pay_date=PAY_DATE, msg_id="ERP-ONLINE-1",
                                debtor_account=our_agent.agreement.settlement_account, txs=txs_of(rows)))
    made = tmp_path / "usb"
    reviewer = {"PAYROLL_CLIENT_REVIEWER": REVIEWER, "PAYROLL_CLIENT_REVIEWER_PASSWORD": PASSWORDS[REVIEWER]}
    enterprise_pc.run("encrypt", str(xml), "--out", str(made), env=reviewer)
    sealed = next(made.glob("PAY_*.p7m"))
    server = ("--server", gateway.url)

    submitted = enterprise_pc.run("submit", str(sealed), *server).stdout
    batch_id = int(re.search(r"平台编号 id (\d+)", submitted).group(1))
    assert "待确认入库 (awaiting_confirmation)" in submitted, submitted
    assert "进度 progress: 4/4" in submitted
    assert "金额 amount 32000.00" in submitted
    assert "对应本机" in submitted
    assert sealed.name in submitted
    # Sent again (the answer was lost): the bank's first answer, no second batch.
    again = enterprise_pc.run("submit", str(sealed), *server).stdout
    assert f"平台编号 id {batch_id}" in again
    assert "already submitted" in again
    assert PayrollBatch.objects.count() == 1
    assert Pain001Source.objects.filter(batch_id=batch_id).exists()
    # The client knew the file it made was a pain.001 and said so.
    assert "/api/h2h/v1/files/?kind=pain001 " in (gateway.directory / "access.log").read_text()

    status = enterprise_pc.run("status", str(batch_id), *server).stdout
    assert "批次号 batch no B20261203" in status
    assert f"payroll-client confirm {batch_id}" in status
    confirmed = enterprise_pc.run("confirm", str(batch_id), *server).stdout
    assert "成功 (stored)" in confirmed, confirmed
    assert PayrollBatch.objects.get(pk=batch_id).status == "stored"

    # Pay day and the next morning's return-file job run on the real worker, as beat would start them.
    before = LedgerAccount.objects.get(pk=settlement.pk).balance
    business_clock.set(at(PAY_DATE, 10))
    task_on_worker("apps.ledger.tasks.payday_run")
    wait_until(lambda: PayrollBatch.objects.get(pk=batch_id).status != "stored", timeout=60, what="the pay-day job")
    assert PayrollBatch.objects.get(pk=batch_id).status == "paid"
    debited = before - LedgerAccount.objects.get(pk=settlement.pk).balance
    business_clock.set(at(PAY_DATE + timedelta(days=1), 3))
    task_on_worker("apps.returns.tasks.return_files_run")
    wait_until(lambda: PayrollBatch.objects.get(pk=batch_id).status == "returned", timeout=60,
               what="the return-file job")
    business_clock.set(at(PAY_DATE + timedelta(days=1), 9))

    out = tmp_path / "returns"
    fetched = enterprise_pc.run("fetch-returns", "--out", str(out), *server).stdout
    assert "成功 paid 3 笔 24000.00 元, 失败 failed 1 笔 8000.00 元" in fetched, fetched
    # The return file as the kiosk names it (文件回盘 opens it again), what 文件回盘 writes, the pain.002.
    assert (out / "RET_B20261203_20261203.p7m").exists()
    listed = (out / "RET_DF0001_B20261203_20261203_回盘清单.txt").read_text(encoding="utf-8")
    with open(out / "RET_DF0001_B20261203_20261203.csv", encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle))
    paid = sum((Decimal(r["金额 amount"]) for r in table if r["结果码 result"] == "0000"), Decimal("0.00"))
    fee = Decimal(re.search(r"手续费 Fee charged: ([\d,.]+)", listed).group(1).replace(",", ""))
    assert paid == Decimal("24000.00")
    assert debited == paid + fee  # the client's decrypted totals are the ledger's
    for row in rows:
        expected = Decimal("0.00") if row.seq == 4 else row.amount
        assert LedgerAccount.objects.get(number=row.account).balance == expected
    report = next(out.glob("*.xml")).read_bytes()
    iso.pain002_validate(report)
    assert b"<GrpSts>PART</GrpSts>" in report
    assert b"AC06" in report
    # Fetched once: a second run finds nothing new and writes nothing.
    before_files = sorted(p.name for p in out.iterdir())
    assert "没有新的回盘文件" in enterprise_pc.run("fetch-returns", "--out", str(out), *server).stdout
    assert sorted(p.name for p in out.iterdir()) == before_files


def test_the_client_online_refusals_are_clear_and_store_nothing(gateway, business_clock, our_agent, enterprise_pc,
                                                                platform_keys, tmp_path):
    sealed = tmp_path / "payroll.p7m"
    sealed.write_bytes(payroll_file_bytes(party=our_agent, rows=payroll_rows(1), bank=platform_keys["bank"]))
    # The address does not match the gateway's certificate (issued for 127.0.0.1): nothing is sent.
    wrong_name = client_raw(enterprise_pc, "submit", str(sealed), "--server", gateway.url.replace("127.0.0.1",
                                                                                                  "localhost"))
    assert wrong_name.returncode == 1
    assert "证书不是银行根证书签发的, 或与地址不符" in wrong_name.stderr
    assert "Traceback" not in wrong_name.stderr
    # The API's refusal in both languages: a batch that is not ours (or does not exist).
    missing = client_raw(enterprise_pc, "status", "999999", "--server", gateway.url)
    assert missing.returncode == 2
    assert "[not_found]" in missing.stderr
    assert "没有找到该记录" in missing.stderr
    assert "No such record" in missing.stderr
    # A key from another root and an expired one (the client's own registration would refuse both;
    # the same TLS code reaches nginx with them): nginx refuses them, the client says so.
    root = platform_keys["root"]
    foreign = pki.cert_issue(issuer=pki.root_create(common_name="Impostor Root", now=KEYS_NOW), common_name="DF0001",
                             organization="x", role="enterprise", now=KEYS_NOW)
    expired = pki.cert_issue(issuer=root, common_name="DF0001", organization="x", role="enterprise",
                             now=KEYS_NOW - timedelta(days=800), days=30)
    for identity in (foreign, expired):
        api = Api(server=Server.parse(gateway.url), context=tls_context(identity=identity,
                                                                        root_pem=pki.cert_pem(root.cert)))
        with pytest.raises(OnlineFailure, match="refused the USB key's certificate"):
            api.get_json("/agreements/")
    # A revoked USB key: TLS passes (nginx has no CRL), the bank refuses it with its own message.
    certificate_revoke(certificate=our_agent.agreement.certificate, reason="lost", now=clock.now())
    revoked = client_raw(enterprise_pc, "submit", str(sealed), "--server", gateway.url)
    assert revoked.returncode == 2
    assert "[cert_revoked]" in revoked.stderr
    assert "已被银行吊销" in revoked.stderr
    assert "Traceback" not in revoked.stderr
    assert not PayrollBatch.objects.exists()
    assert not IdempotencyKey.objects.exists()
