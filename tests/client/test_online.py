"""联机模式 online mode, the client's side: the USB key reaches ``ssl`` only encrypted and only for
a moment; the installed payroll-client talks mutual TLS to a bank on loopback (a small HTTPS server
holding a certificate from the bank root and asking for the client's); what it sends, what it
prints, and how every failure reads. The real API behind real nginx: tests/h2h/test_e2e_nginx.py."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import ssl
import stat
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from apps.h2h.tls import server_certificate_issue
from payroll_client.online import tls_context
from payroll_exchange import pki
from tests.client.conftest import AGREEMENT_A, BUSINESS_NOW, CLIENT, PASSWORDS, USBKEY_PIN
from tests.client.sheets_make import account, resident_id
from tests.client.test_returns import sealed_by
from tests.support.processes import wait_until

PIN = {"PAYROLL_CLIENT_PIN": USBKEY_PIN}
SEALED = b"0\x82 sealed payroll file bytes"
BATCH = {"id": 7, "agreement": "DF2026000001", "status": "awaiting_confirmation", "label": "待确认入库", "busy": False,
         "actions": ["revoke", "confirm"], "original_name": "PAY.p7m", "uploaded_at": "2026-12-01T10:00:00+08:00",
         "upload_date": "2026-12-01", "batch_no": "B202612", "pay_date": "2026-12-05", "purpose": "工资",
         "record_count": 2, "total_amount": "16000.00", "expected_fee": "3.00", "rows_done": 2, "rows_total": 2,
         "error_count": 0, "new_employee_count": 1}
RESULT = {"batch": BATCH, "digest": "ab" * 32, "fee_per_payment": "1.50",
          "new_employees": [{"seq": 2, "name": "李四", "account": "6222020000000000026"}],
          "error_total": 0, "error_codes": {}, "errors_kept": 0, "page": 1, "page_size": 100, "errors": []}
INVALID = {**BATCH, "id": 8, "status": "invalid", "label": "校验失败", "actions": [], "error_count": 2}
INVALID_RESULT = {**RESULT, "batch": INVALID, "new_employees": [], "error_total": 2,
                  "error_codes": {"account_checksum": 2},
                  "errors": [{"code": "account_checksum", "row": r, "field": "account",
                              "zh": f"第 {r} 行账号校验位不符", "en": f"row {r}: the account's check digit is wrong"}
                             for r in (3, 5)]}
NOT_FOUND = {"code": "not_found", "message": {"zh": "没有找到该记录（或它不属于本证书绑定的协议）。",
                                              "en": "No such record (or it does not belong to an agreement bound "
                                                    "to this certificate)."}, "field": None, "row": None}


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer_fingerprint: str


@dataclass
class FakeBank:
    """The host-to-host API's answers for one test, and every request it saw."""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    keys: dict[str, dict] = field(default_factory=dict)
    routes: dict[str, object] = field(default_factory=dict)  # GET path → JSON body, or bytes
    confirmed: bool = False

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, object]:
        if method == "POST" and path.startswith("/api/h2h/v1/files/?kind=employees"):
            return 202, {}, {"kind": "employees", "id": 3, "status": "awaiting_confirmation", "queued": True,
                             "url": "/api/h2h/v1/employee-files/3/"}
        if method == "POST" and path.startswith("/api/h2h/v1/files/"):
            key = headers.get("Idempotency-Key", "")
            if key in self.keys:
                return 202, {"Idempotent-Replayed": "true"}, self.keys[key]
            self.keys[key] = {"kind": "payroll", "id": 7, "status": "validating", "queued": True,
                              "url": "/api/h2h/v1/batches/7/"}
            return 202, {}, self.keys[key]
        if method == "POST" and path == "/api/h2h/v1/batches/7/confirm/":
            self.confirmed = True
            return 200, {}, {"id": 7, "status": "storing", "queued": True}
        if method == "POST" and path == "/api/h2h/v1/batches/9/confirm/":
            return 200, {}, {"id": 9, "status": "storing", "queued": True}
        if path in self.routes:
            return 200, {}, self.routes[path]
        batch = {**BATCH, "status": "stored", "label": "成功", "actions": []} if self.confirmed else BATCH
        routes = {"/api/h2h/v1/batches/7/": batch, "/api/h2h/v1/batches/7/result/?page=1": RESULT,
                  "/api/h2h/v1/batches/8/": INVALID, "/api/h2h/v1/batches/8/result/?page=1": INVALID_RESULT}
        if path == "/api/h2h/v1/batches/502/":
            return 502, {}, b"<html>502 Bad Gateway</html>"
        if path == "/api/h2h/v1/batches/400/":  # what nginx answers when the client certificate fails
            return 400, {}, b"<html><center>The SSL certificate error</center></html>"
        if method == "GET" and path in routes:
            return 200, {}, routes[path]
        return 404, {}, NOT_FOUND


def _handler(bank: FakeBank):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            peer = self.connection.getpeercert(binary_form=True)
            bank.seen.append(Seen(self.command, self.path, dict(self.headers), body,
                                  hashlib.sha256(peer).hexdigest() if peer else ""))
            status, headers, answer = bank.answer(self.command, self.path, dict(self.headers), body)
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream" if isinstance(answer, bytes)
                             else "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args) -> None:  # quiet
            return None

    return Handler


@pytest.fixture
def https_bank(tmp_path: Path) -> Iterator:
    """Start a bank on 127.0.0.1 whose certificate comes from ``server_root`` and which accepts client
    certificates issued by ``client_root``; stopped at the end of the test."""
    servers: list[ThreadingHTTPServer] = []

    def start(*, server_root: pki.Identity, client_root: pki.Identity) -> FakeBank:
        cert, key = server_certificate_issue(root=server_root, names=["127.0.0.1"], now=datetime.now(UTC))
        folder = tmp_path / f"bank-{len(servers)}"
        folder.mkdir()
        (folder / "server.pem").write_bytes(cert)
        (folder / "server.key").write_bytes(key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(folder / "server.pem", folder / "server.key")
        context.load_verify_locations(cadata=pki.cert_pem(client_root.cert).decode())
        context.verify_mode = ssl.CERT_REQUIRED
        bank = FakeBank()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(bank))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        bank.url = f"https://127.0.0.1:{server.server_address[1]}"
        return bank

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def bank(https_bank, bank_root) -> FakeBank:
    """The bank as it should be: its certificate from the bank root, the USB key's accepted."""
    return https_bank(server_root=bank_root, client_root=bank_root)


# -- the key file handed to ssl ----------------------------------------------------------------

def test_ssl_gets_an_encrypted_key_file_that_is_gone_afterwards(enterprise_a, bank_root, monkeypatch):
    handed: list[tuple[Path, bytes, int, bytes]] = []
    original = ssl.SSLContext.load_cert_chain

    def spy(self, certfile, keyfile=None, password=None):
        path = Path(keyfile)
        handed.append((path, path.read_bytes(), stat.S_IMODE(path.stat().st_mode), password))
        return original(self, certfile, keyfile, password)

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spy)
    context = tls_context(identity=enterprise_a, root_pem=pki.cert_pem(bank_root.cert))

    [(path, content, mode, password)] = handed
    assert b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in content
    assert b"-----BEGIN PRIVATE KEY-----" not in content
    assert b"RSA PRIVATE KEY" not in content
    assert mode == 0o600
    assert not path.exists()
    with pytest.raises(TypeError):  # useless without the one-time password
        serialization.load_pem_private_key(content, password=None)
    opened = serialization.load_pem_private_key(content, password=password)
    assert opened.private_numbers() == enterprise_a.key.private_numbers()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_the_key_file_is_removed_when_ssl_refuses_it(enterprise_a, bank_root, monkeypatch):
    handed: list[Path] = []

    def refuse(self, certfile, keyfile=None, password=None):
        handed.append(Path(keyfile))
        raise ssl.SSLError("refused")

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", refuse)
    with pytest.raises(ssl.SSLError):
        tls_context(identity=enterprise_a, root_pem=pki.cert_pem(bank_root.cert))
    assert handed
    assert not handed[0].exists()


# -- submit / status against a bank on loopback ------------------------------------------------------

def test_submit_sends_the_file_with_its_digest_as_key_and_a_resend_replays(client, bank, enterprise_a, tmp_path):
    sealed = tmp_path / "PAY_DF2026000001_B202612_20261205.p7m"
    sealed.write_bytes(SEALED)

    first = client.ok("submit", str(sealed), "--server", bank.url, env=PIN)
    again = client.ok("submit", str(sealed), "--server", bank.url, env=PIN)

    uploads = [s for s in bank.seen if s.method == "POST"]
    assert [u.headers["Idempotency-Key"] for u in uploads] == [
        f"payroll-client-payroll-{hashlib.sha256(SEALED).hexdigest()}"] * 2
    assert uploads[0].body == SEALED
    assert uploads[0].path == "/api/h2h/v1/files/?kind=payroll"
    assert uploads[0].headers["Content-Type"] == "application/octet-stream"
    # Mutual TLS with the USB key's certificate.
    assert {s.peer_fingerprint for s in bank.seen} == {pki.cert_fingerprint(enterprise_a.cert)}
    assert "平台编号 id 7" in first.stdout
    assert "already submitted" not in first.stdout
    assert "already submitted" in again.stdout
    assert "状态 status: 待确认入库 (awaiting_confirmation)  进度 progress: 2/2" in first.stdout
    assert "新增员工 new: 2 李四 6222020000000000026" in first.stdout
    assert "payroll-client confirm 7" in first.stdout
    log = client.ok("log", user="admin").stdout
    assert log.count("submit") == 2
    assert "replayed" in log


def test_status_of_a_refused_batch_lists_its_row_errors(client, bank):
    result = client.run("status", "8", "--server", bank.url, env=PIN)
    assert result.returncode == 2
    assert "错误 error [batch_invalid]: 银行预校验未通过, 批次 B202612 未入库 (2 处错误)" in result.stderr
    assert "第 3 行账号校验位不符  | row 3: the account's check digit is wrong" in result.stderr
    assert "[account_checksum]: 2" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_the_apis_error_body_is_shown_in_both_languages(client, bank):
    missing = client.run("status", "999", "--server", bank.url, env=PIN)
    assert missing.returncode == 2
    assert "错误 error [not_found]: 银行拒绝 (HTTP 404): 没有找到该记录" in missing.stderr
    assert "the bank refused (HTTP 404): No such record" in missing.stderr
    gateway = client.run("status", "502", "--server", bank.url, env=PIN)
    assert gateway.returncode == 1
    assert "失败 failed: 银行服务暂时不可用 (HTTP 502)" in gateway.stderr
    assert "Traceback" not in missing.stderr + gateway.stderr


def test_a_server_without_the_bank_roots_certificate_gets_nothing(client, https_bank, foreign_root, bank_root,
                                                                   tmp_path):
    impostor = https_bank(server_root=foreign_root, client_root=bank_root)
    sealed = tmp_path / "PAY.p7m"
    sealed.write_bytes(SEALED)
    result = client.run("submit", str(sealed), "--server", impostor.url, env=PIN)
    assert result.returncode == 1
    assert "的证书不是银行根证书签发的" in result.stderr
    assert "nothing was sent" in result.stderr
    assert impostor.seen == []


def test_a_gateway_that_refuses_the_usb_key_says_so(client, https_bank, foreign_root, bank_root):
    picky = https_bank(server_root=bank_root, client_root=foreign_root)
    result = client.run("status", "7", "--server", picky.url, env=PIN)
    assert result.returncode == 1
    assert "拒绝了本机 USBKEY 的证书" in result.stderr
    assert "refused the USB key's certificate" in result.stderr
    assert picky.seen == []


def test_no_server_no_answer_and_a_wrong_pin(client, bank):
    result = client.run("status", "7", env=PIN)
    assert result.returncode == 2
    assert "[server_missing]" in result.stderr
    closed = client.run("status", "7", "--server", "https://127.0.0.1:1", env=PIN)
    assert closed.returncode == 1
    assert "无法连接银企直连地址 https://127.0.0.1:1" in closed.stderr
    wrong = client.run("status", "7", "--server", bank.url, env={"PAYROLL_CLIENT_PIN": "000000"})
    assert wrong.returncode == 2
    assert "[usbkey_pin]" in wrong.stderr
    assert bank.seen == []


def test_the_administrator_stores_the_address(client, bank):
    refused = client.run("server", bank.url)  # 0001 is no administrator
    assert refused.returncode == 2
    assert "未设置" in client.ok("server").stdout
    client.ok("server", bank.url, user="admin")
    assert bank.url in client.ok("server").stdout
    assert "待确认入库" in client.ok("status", "7", env=PIN).stdout  # no --server needed now
    bad = client.run("server", "http://example.invalid", user="admin")
    assert bad.returncode == 2
    assert "[server_url]" in bad.stderr


def test_status_needs_the_information_query_tick(client, bank):
    result = client.run("status", "7", "--server", bank.url, user="0003", env=PIN)  # 0003 has 协议查询 only
    assert result.returncode == 2
    assert bank.seen == []


def test_submit_with_confirm_confirms_once_pre_validated(client, bank, tmp_path):
    sealed = tmp_path / "PAY.p7m"
    sealed.write_bytes(SEALED)
    result = client.ok("submit", str(sealed), "--confirm", "--server", bank.url, env=PIN)
    [confirm] = [s for s in bank.seen if s.path == "/api/h2h/v1/batches/7/confirm/"]
    assert confirm.headers["Idempotency-Key"] == "payroll-client-confirm-7"
    assert "已确认入库 confirmed: 平台编号 id 7" in result.stdout
    assert "状态 status: 成功 (stored)" in result.stdout


def test_nginxs_certificate_error_page_reads_as_the_key_refused(client, bank):
    result = client.run("status", "400", "--server", bank.url, env=PIN)
    assert result.returncode == 1
    assert "拒绝了本机 USBKEY 的证书" in result.stderr


def _returns_listed(bank: FakeBank, *, sealed: bytes, pain002: bytes | None) -> None:
    documents = [{"kind": "return_file", "name": "RET_B202612_20261201.p7m", "media_type": "application/pkcs7-mime",
                  "url": "/api/h2h/v1/returns/7/download/"}]
    if pain002 is not None:
        documents.append({"kind": "pain002", "name": "PSR_B202612_returned.xml", "media_type": "application/xml",
                          "url": "/api/h2h/v1/batches/7/pain002/"})
        bank.routes["/api/h2h/v1/batches/7/pain002/"] = pain002
    bank.routes["/api/h2h/v1/returns/"] = [{
        "batch_id": 7, "batch_no": "B202612", "pay_date": "2026-12-01", "file_id": "f" * 32,
        "business_date": "2026-12-02", "size": len(sealed), "digest": hashlib.sha256(sealed).hexdigest(),
        "record_count": 4, "success_count": 2, "success_amount": "2005.00", "failure_count": 2,
        "failure_amount": "2007.00", "fee_charged": "3.00", "documents": documents}]
    bank.routes["/api/h2h/v1/returns/7/download/"] = sealed


def test_fetch_returns_downloads_decrypts_and_keeps_the_pain002_beside(client, bank, bank_identity, enterprise_a,
                                                                       out_dir):
    sealed = sealed_by(bank_identity, enterprise_a)
    _returns_listed(bank, sealed=sealed, pain002=b"<Document>pain.002</Document>")

    online = {**PIN, "PAYROLL_CLIENT_SERVER": bank.url}  # the address from the environment this time
    result = client.ok("fetch-returns", "--out", str(out_dir), env=online)

    # What 文件回盘 prints and writes, from the same code.
    assert "回盘完成 return file decrypted: 成功 paid 2 笔 2005.00 元, 失败 failed 2 笔 2007.00 元" in result.stdout
    stem = f"RET_{AGREEMENT_A}_B202612_20261201"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([
        "RET_B202612_20261201.p7m", "PSR_B202612_returned.xml", f"{stem}.csv", f"{stem}.xlsx",
        f"{stem}_回盘清单.txt", f"{stem}_回盘清单.pdf", f"{stem}_更正表.xlsx"])
    assert (out_dir / "RET_B202612_20261201.p7m").read_bytes() == sealed  # still encrypted, as downloaded
    assert (out_dir / "PSR_B202612_returned.xml").read_bytes() == b"<Document>pain.002</Document>"
    assert "失败笔数 Failed: 2" in (out_dir / f"{stem}_回盘清单.txt").read_text(encoding="utf-8")
    assert "warning" not in result.stdout  # the decrypted totals equal the bank's list
    history = client.ok("history").stdout
    assert "return" in history

    downloads = len([s for s in bank.seen if s.path.endswith("/download/")])
    again = client.ok("fetch-returns", "--out", str(out_dir), env=online)
    assert "没有新的回盘文件 no new return files" in again.stdout
    assert len([s for s in bank.seen if s.path.endswith("/download/")]) == downloads


def test_fetch_returns_refuses_a_return_file_the_bank_did_not_sign(client, bank, foreign_root, enterprise_a,
                                                                   out_dir):
    impostor = pki.cert_issue(issuer=foreign_root, common_name="impostor", organization="x", role="bank",
                              now=datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    _returns_listed(bank, sealed=sealed_by(impostor, enterprise_a), pain002=None)
    result = client.run("fetch-returns", "--out", str(out_dir), "--server", bank.url, env=PIN)
    assert result.returncode == 2
    assert "错误 error [cert_untrusted]: 文件签名证书不是由已导入的银行根证书签发的" in result.stderr
    # Only the download is kept (for the bank to look at); nothing decrypted, nothing recorded.
    assert [p.name for p in out_dir.iterdir()] == ["RET_B202612_20261201.p7m"]
    assert "return" not in client.ok("history").stdout


def test_submit_of_an_employee_file_made_here_sends_it_as_one(client, bank, out_dir):
    client.ok("employee-disk", "add", "--name", "张三", "--account", account(1), "--id-type", "0",
              "--id-number", resident_id(1))
    client.ok("employee-disk", "write", "--out", str(out_dir), env=PIN)
    [made] = out_dir.glob("*.p7m")
    bank.routes["/api/h2h/v1/employee-files/3/"] = {
        "id": 3, "agreement": AGREEMENT_A, "status": "awaiting_confirmation", "label": "待确认", "actions": ["confirm"],
        "original_name": made.name, "uploaded_at": "2026-12-01T10:00:00+08:00", "upload_date": "2026-12-01",
        "operation": "add", "record_count": 1, "error_count": 0, "errors": []}
    result = client.ok("submit", str(made), "--server", bank.url, env=PIN)
    [upload] = [s for s in bank.seen if s.method == "POST"]
    assert upload.path == "/api/h2h/v1/files/?kind=employees"
    digest = hashlib.sha256(made.read_bytes()).hexdigest()
    assert upload.headers["Idempotency-Key"] == f"payroll-client-employees-{digest}"
    assert "员工信息文件 employee file: 待确认 (awaiting_confirmation), 笔数 count 1" in result.stdout


def test_ctrl_c_while_waiting_says_the_bank_carries_on(client, bank):
    bank.routes["/api/h2h/v1/batches/9/"] = {**BATCH, "id": 9, "status": "storing", "label": "入库中", "busy": True}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYROLL_CLIENT")}
    env.update(PAYROLL_CLIENT_HOME=str(client.home), BUSINESS_CLOCK=BUSINESS_NOW, PAYROLL_CLIENT_USER="0001",
               PAYROLL_CLIENT_PASSWORD=PASSWORDS["0001"], **PIN)
    waiting = subprocess.Popen([CLIENT, "confirm", "9", "--server", bank.url], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: any(s.path == "/api/h2h/v1/batches/9/" for s in bank.seen), timeout=30,
                   what="the client's first status poll")
        waiting.send_signal(signal.SIGINT)
        out, err = waiting.communicate(timeout=30)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 130
    assert "已确认入库 confirmed: 平台编号 id 9" in out
    assert "已停止等待, 银行继续处理 stopped waiting; the bank carries on: payroll-client status 9" in err
    assert "nothing was written" not in err
    assert "Traceback" not in err
