"""员工盘片 (by hand) and 导入员工 (from a sheet): the file the kiosk opens."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from payroll_exchange import envelope, formats
from payroll_exchange.clock import BUSINESS_TZ
from tests.client.conftest import AGREEMENT_A, AGREEMENT_B, USBKEY_PIN, Client
from tests.client.sheets_make import account, payroll_rows, resident_id, xls_bytes, xlsx_bytes

PIN = {"PAYROLL_CLIENT_PIN": USBKEY_PIN}
BANK_NOW = datetime(2026, 12, 1, 11, 0, tzinfo=BUSINESS_TZ)


def bank_opens(path: Path, bank_identity, bank_trust, enterprise_a):
    opened = envelope.envelope_open(data=path.read_bytes(), recipient=bank_identity, trust=bank_trust,
                                    now=BANK_NOW, expected_kind="employees", expected_signer=enterprise_a.fingerprint)
    employees, errors = formats.employee_load(opened.payload)
    assert errors == []
    return employees


def test_import_with_the_manuals_columns_round_trip(client: Client, tmp_path: Path, out_dir: Path, bank_identity,
                                                    bank_trust, enterprise_a) -> None:
    rows = [r[:4] for r in payroll_rows(16)]  # ID type 1, ID number 2, name 3, account 4, from row 2
    sheet = tmp_path / "员工.xlsx"
    sheet.write_bytes(xlsx_bytes(rows))
    result = client.run("employee-import", str(sheet), "--operation", "add", "--count", "16", "--out",
                        str(out_dir), env=PIN)
    assert result.returncode == 0, result.stderr
    [written] = out_dir.iterdir()
    employees = bank_opens(written, bank_identity, bank_trust, enterprise_a)
    assert employees.header.operation == "add"
    assert employees.header.agreement_no == AGREEMENT_A
    assert employees.header.record_count == 16
    assert [(r.name, r.account, r.id_number) for r in employees.rows[:2]] == [
        ("员工1", account(1), resident_id(1)), ("员工2", account(2), resident_id(2))]
    assert "employees" in client.ok("history").stdout


def test_import_delete_from_an_xls(client: Client, tmp_path: Path, out_dir: Path, bank_identity, bank_trust,
                                   enterprise_a) -> None:
    sheet = tmp_path / "离职.xls"
    sheet.write_bytes(xls_bytes(payroll_rows(3)))
    client.ok("employee-import", str(sheet), "--operation", "delete", "--out", str(out_dir), env=PIN)
    [written] = out_dir.iterdir()
    assert bank_opens(written, bank_identity, bank_trust, enterprise_a).header.operation == "delete"


def test_import_errors_and_wrong_record_count_write_nothing(client: Client, tmp_path: Path, out_dir: Path) -> None:
    rows = [r[:4] for r in payroll_rows(4)]
    rows[2][1] = "310101198102110019"
    sheet = tmp_path / "bad.xlsx"
    sheet.write_bytes(xlsx_bytes(rows))
    result = client.run("employee-import", str(sheet), "--count", "5", "--out", str(out_dir), env=PIN)
    assert result.returncode == 2
    assert "第 4 行" in result.stderr
    assert "记录总数" in result.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_by_hand_add_remove_then_write(client: Client, out_dir: Path, bank_identity, bank_trust,
                                       enterprise_a) -> None:
    for n in (1, 2, 3):
        client.ok("employee-disk", "add", "--name", f"员工{n}", "--account", account(n), "--id-type", "居民身份证",
                  "--id-number", resident_id(n))
    listing = client.ok("employee-disk", "list").stdout
    assert "共 3 条" in listing
    first_id = listing.split("#", 2)[2].split()[0]  # the second row's number
    client.ok("employee-disk", "remove", first_id)
    assert "共 2 条" in client.ok("employee-disk", "list").stdout
    # a bad row is refused at once and not kept
    bad = client.run("employee-disk", "add", "--name", "坏", "--account", "12AB", "--id-type", "0",
                     "--id-number", resident_id(4))
    assert bad.returncode == 2
    assert "账号" in bad.stderr
    client.ok("employee-disk", "write", "--out", str(out_dir), env=PIN)
    [written] = out_dir.iterdir()
    employees = bank_opens(written, bank_identity, bank_trust, enterprise_a)
    assert [r.name for r in employees.rows] == ["员工1", "员工3"]
    assert employees.rows[0].id_type == "0"
    assert "共 0 条" in client.ok("employee-disk", "list").stdout


def test_wrong_pin_keeps_the_draft_and_writes_nothing(client: Client, out_dir: Path) -> None:
    client.ok("employee-disk", "add", "--name", "员工1", "--account", account(1), "--id-type", "0",
              "--id-number", resident_id(1))
    result = client.run("employee-disk", "write", "--out", str(out_dir), env={"PAYROLL_CLIENT_PIN": "111111"})
    assert result.returncode == 2
    assert "USBKEY 密码错误" in result.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())
    assert "共 1 条" in client.ok("employee-disk", "list").stdout


def test_usbkey_of_another_agreement_is_refused(client: Client, files_dir: Path, out_dir: Path) -> None:
    # agreement B is bound to enterprise B's certificate; the registered key is enterprise A's
    client.ok("agreement-import", str(files_dir / "agreement-b.pkg"))
    client.ok("employee-disk", "add", "--agreement", AGREEMENT_B, "--name", "员工1", "--account", account(1),
              "--id-type", "0", "--id-number", resident_id(1))
    result = client.run("employee-disk", "write", "--agreement", AGREEMENT_B, "--out", str(out_dir), env=PIN)
    assert result.returncode == 2
    assert "不是此协议绑定的企业证书" in result.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())
