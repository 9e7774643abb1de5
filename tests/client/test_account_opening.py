"""批量开户 in the client: the request file from a sheet, and the bank's result file back to a
list of new accounts that employee-import reads as it is."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

from openpyxl import load_workbook

from payroll_exchange import account_opening as ao
from payroll_exchange import envelope, pki
from payroll_exchange.records import FORMAT_VERSION
from tests.client.conftest import AGREEMENT_A, PKI_NOW, USBKEY_PIN, Client
from tests.client.sheets_make import resident_id

PIN = {"PAYROLL_CLIENT_PIN": USBKEY_PIN}
SHEET_HEADER = "证件类型,证件号码,姓名,手机号码"


def grant(client: Client) -> None:
    client.ok("users", "grant", "0001", "--functions", "批量开户,导入员工,信息查询", user="admin")


def sheet(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "开户.csv"
    path.write_bytes(("\r\n".join([SHEET_HEADER, *lines]) + "\r\n").encode("utf-8-sig"))
    return path


def good_lines() -> list[str]:
    return [f"0,{resident_id(1)},张三,13800138001", f"居民身份证,{resident_id(2)},李四,139 0013 8002",
            "1,E12345678,王五,13700138003"]


def test_account_opening_needs_the_tick(client: Client, tmp_path: Path, out_dir: Path) -> None:
    source = sheet(tmp_path, good_lines())

    result = client.run("account-opening", str(source), "--out", str(out_dir), env=PIN)

    assert result.returncode == 2
    assert "批量开户" in result.stderr
    assert "permission_denied" in result.stderr
    assert not out_dir.exists()
    result = client.run("account-opening-result", str(source), "--out", str(out_dir), env=PIN)
    assert result.returncode == 2
    assert "permission_denied" in result.stderr


def test_every_error_is_listed_and_nothing_is_written(client: Client, tmp_path: Path, out_dir: Path) -> None:
    grant(client)
    bad_id = resident_id(3)[:17] + ("0" if resident_id(3)[17] != "0" else "1")
    source = sheet(tmp_path, [f"0,{resident_id(1)},张三,13800138001", f"0,{bad_id},李四,13800138002",
                              f"0,{resident_id(4)},王五,2380013800"])

    result = client.run("account-opening", str(source), "--out", str(out_dir), env=PIN)

    assert result.returncode == 2
    assert "account_opening_invalid" in result.stderr
    assert "开户信息有 2 处错误" in result.stderr
    assert "第 3 行 证件号码" in result.stderr
    assert "校验位不对" in result.stderr
    assert "第 4 行 手机号码" in result.stderr
    assert "row 4, mobile phone" in result.stderr
    assert not out_dir.exists()
    with sqlite3.connect(client.home / "client.sqlite3") as conn:
        logged = conn.execute("SELECT outcome, detail FROM action_log WHERE action = 'account_opening' "
                              "ORDER BY id DESC LIMIT 1").fetchone()
        made = conn.execute("SELECT COUNT(*) FROM files_made").fetchone()[0]
    assert logged == ("refused", "account_opening_invalid 2 errors")
    assert made == 0


def test_good_sheet_makes_a_file_the_bank_can_open(client: Client, tmp_path: Path, out_dir: Path,
                                                   bank_identity, bank_trust, enterprise_a) -> None:
    grant(client)
    source = sheet(tmp_path, good_lines())

    result = client.run("account-opening", str(source), "--out", str(out_dir), env=PIN)

    assert result.returncode == 0, result.stderr
    [written] = list(out_dir.iterdir())
    assert written.name.startswith(f"AO_{AGREEMENT_A}_")
    assert written.suffix == ".p7m"
    opened = envelope.envelope_open(data=written.read_bytes(), recipient=bank_identity, trust=bank_trust,
                                    now=PKI_NOW, expected_kind="account_opening",
                                    expected_signer=enterprise_a.fingerprint)
    request, errors = ao.account_opening_load(opened.payload)
    assert errors == []
    assert (request.header.agreement_no, request.header.record_count) == (AGREEMENT_A, 3)
    assert [(r.seq, r.id_type, r.id_number, r.name, r.mobile) for r in request.rows] == [
        (2, "0", resident_id(1), "张三", "13800138001"),
        (3, "0", resident_id(2), "李四", "13900138002"),
        (4, "1", "E12345678", "王五", "13700138003"),
    ]
    assert opened.digest in result.stdout
    history = client.ok("history").stdout
    assert "account_opening" in history
    assert opened.digest in history


def result_file(request_file_id: str = "AO0123456789abcdef") -> ao.AccountOpeningResultFile:
    rows = [
        ao.AccountOpeningResultRow(2, "0", resident_id(1), "张三", ao.RESULT_OPENED,
                                   ao.luhn_complete("622202000000000001"), "开户成功"),
        ao.AccountOpeningResultRow(3, "0", resident_id(2), "=HYPERLINK(\"x\")", ao.RESULT_OPENED,
                                   ao.luhn_complete("622202000000000002"), "开户成功"),
        ao.AccountOpeningResultRow(4, "1", "E12345678", "王五", "MB01", "", "手机号码无效 invalid mobile phone number"),
    ]
    header = ao.AccountOpeningResultHeader(FORMAT_VERSION, AGREEMENT_A, request_file_id, 2, 1)
    return ao.AccountOpeningResultFile(header=header, rows=rows)


def sealed_result(signer: pki.Identity, recipient: pki.Identity) -> bytes:
    return envelope.envelope_seal(payload=ao.account_opening_result_dump(result_file()),
                                  kind=ao.ENVELOPE_KIND_RESULT, signer=signer, recipient_cert=recipient.cert)


def test_result_file_decrypts_to_the_list_of_new_accounts(client: Client, tmp_path: Path, out_dir: Path,
                                                          bank_identity, enterprise_a) -> None:
    grant(client)
    incoming = tmp_path / "result.p7m"
    incoming.write_bytes(sealed_result(bank_identity, enterprise_a))

    result = client.run("account-opening-result", str(incoming), "--out", str(out_dir), env=PIN)

    assert result.returncode == 0, result.stderr
    assert "成功 opened 2 人, 未开户 refused 1 人" in result.stdout
    stem = f"AOR_{AGREEMENT_A}_AO0123456789"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        [f"{stem}_新开账户.csv", f"{stem}_新开账户.xlsx", f"{stem}_未开户.csv"])
    rows = list(csv.reader(io.StringIO((out_dir / f"{stem}_新开账户.csv").read_text(encoding="utf-8-sig"))))
    account_1, account_2 = ao.luhn_complete("622202000000000001"), ao.luhn_complete("622202000000000002")
    assert rows == [["证件类型", "证件号码", "姓名", "账号"], ["0", resident_id(1), "张三", account_1],
                    ["0", resident_id(2), "'=HYPERLINK(\"x\")", account_2]]
    values = list(load_workbook(out_dir / f"{stem}_新开账户.xlsx", read_only=True).worksheets[0].iter_rows(
        values_only=True))
    assert values[1] == ("0", resident_id(1), "张三", account_1)  # text: Excel would round a 19-digit number
    assert values[2][2].startswith("'=")
    refused = (out_dir / f"{stem}_未开户.csv").read_text(encoding="utf-8-sig")
    assert "E12345678" in refused
    assert "MB01" in refused
    assert "account_opening_result" in client.ok("history").stdout

    # The list is an employee sheet: employee-import reads it with its default columns.
    imported = client.run("employee-import", str(out_dir / f"{stem}_新开账户.csv"), "--out", str(tmp_path / "emp"),
                          env=PIN)
    assert imported.returncode == 0, imported.stderr
    assert "新增 add: 2 条 rows" in imported.stdout


def test_result_not_signed_by_the_bank_is_refused(client: Client, tmp_path: Path, out_dir: Path,
                                                  enterprise_b, enterprise_a) -> None:
    grant(client)
    incoming = tmp_path / "forged.p7m"
    incoming.write_bytes(sealed_result(enterprise_b, enterprise_a))

    result = client.run("account-opening-result", str(incoming), "--out", str(out_dir), env=PIN)

    assert result.returncode == 2
    # The envelope itself refuses a result file whose signer is not a bank certificate.
    assert "envelope_signer_role" in result.stderr
    assert not out_dir.exists()
