"""证书导入 and 协议信息导入 / 协议查询: only what was imported is trusted."""

from __future__ import annotations

from pathlib import Path

from payroll_exchange import pki
from tests.client.conftest import ADMIN_PASSWORD, AGREEMENT_A, AGREEMENT_B, COMPANY_A, COMPANY_B, USBKEY_PIN, Client


def _admin_ready(client: Client) -> None:
    client.ok("login", "admin", user=None, env={"PAYROLL_CLIENT_PASSWORD": "admin",
                                                "PAYROLL_CLIENT_NEW_PASSWORD": ADMIN_PASSWORD})


def test_root_import_shows_the_fingerprint_and_needs_confirmation(fresh_client: Client, files_dir: Path,
                                                                  bank_root) -> None:
    _admin_ready(fresh_client)
    unconfirmed = fresh_client.run("install", "--root", str(files_dir / "root.pem"), user="admin")
    shown = pki.fingerprint_display(pki.cert_fingerprint(bank_root.cert))
    assert unconfirmed.returncode == 2
    assert shown in unconfirmed.stdout
    assert "未确认指纹" in unconfirmed.stderr
    # nothing trusted: the agreement package cannot be verified
    refused = fresh_client.run("agreement-import", str(files_dir / "agreement-a.pkg"), user="admin")
    assert refused.returncode == 2
    assert "根证书" in refused.stderr
    confirmed = fresh_client.ok("install", "--root", str(files_dir / "root.pem"), "--yes", user="admin")
    assert shown in confirmed.stdout
    fresh_client.ok("agreement-import", str(files_dir / "agreement-a.pkg"), user="admin")


def test_usbkey_registration_needs_the_right_pin(fresh_client: Client, files_dir: Path) -> None:
    _admin_ready(fresh_client)
    fresh_client.ok("install", "--root", str(files_dir / "root.pem"), "--yes", user="admin")
    wrong = fresh_client.run("install", "--usbkey", str(files_dir / "usbkey.p12"), user="admin",
                             env={"PAYROLL_CLIENT_PIN": "999999"})
    assert wrong.returncode == 2
    assert "USBKEY 密码错误" in wrong.stderr
    assert "999999" not in fresh_client.ok("log", user="admin").stdout
    fresh_client.ok("install", "--usbkey", str(files_dir / "usbkey.p12"), user="admin",
                    env={"PAYROLL_CLIENT_PIN": USBKEY_PIN})


def test_only_the_administrator_installs(client: Client, files_dir: Path) -> None:
    result = client.run("install", "--root", str(files_dir / "root.pem"), "--yes", user="0001")
    assert result.returncode == 2
    assert "不是管理用户" in result.stderr


def test_tampered_agreement_package_is_refused(client: Client, files_dir: Path, tmp_path: Path) -> None:
    data = bytearray((files_dir / "agreement-b.pkg").read_bytes())
    at = data.find(COMPANY_B.encode("utf-8"))
    if at < 0:  # the payload may be encoded; flip a byte in the middle instead
        at = len(data) // 2
    data[at] ^= 0x01
    tampered = tmp_path / "tampered.pkg"
    tampered.write_bytes(bytes(data))
    result = client.run("agreement-import", str(tampered))
    assert result.returncode == 2
    assert "agreement_import" in client.ok("log", user="admin").stdout
    assert AGREEMENT_B not in client.ok("agreement-query", "--agreement", AGREEMENT_A).stdout
    assert client.run("agreement-query", "--agreement", AGREEMENT_B).returncode == 2


def test_agreement_signed_under_another_root_is_refused(client: Client, files_dir: Path) -> None:
    before = client.ok("agreement-query").stdout
    result = client.run("agreement-import", str(files_dir / "agreement-foreign.pkg"))
    assert result.returncode == 2
    assert "根证书" in result.stderr
    assert client.ok("agreement-query").stdout == before


def test_query_shows_the_agreement_and_asks_which_when_several(client: Client, files_dir: Path) -> None:
    shown = client.ok("agreement-query").stdout
    for expected in (COMPANY_A, AGREEMENT_A, "PU000001", "2026-01-01 ~ 2027-12-31", "1.50", "50000.00",
                     "1001200300400500"):
        assert expected in shown
    client.ok("agreement-import", str(files_dir / "agreement-b.pkg"))
    ambiguous = client.run("agreement-query")
    assert ambiguous.returncode == 2
    assert "--agreement" in ambiguous.stderr
    assert AGREEMENT_A in ambiguous.stderr
    assert AGREEMENT_B in ambiguous.stderr
    assert COMPANY_B in client.ok("agreement-query", "--agreement", AGREEMENT_B).stdout
