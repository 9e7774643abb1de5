"""文件回盘: the bank's return file decrypts to the right totals; a forged one is refused."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from payroll_exchange import envelope, formats
from payroll_exchange.records import FORMAT_VERSION, ReturnFile, ReturnHeader, ReturnRow
from tests.client.conftest import AGREEMENT_A, COMPANY_A, USBKEY_PIN, Client

PIN = {"PAYROLL_CLIENT_PIN": USBKEY_PIN}


def return_file() -> ReturnFile:
    rows = [
        ReturnRow(1, "1001000000000001", "员工1", Decimal("1001.50"), "0000", ""),
        ReturnRow(2, "1001000000000002", "员工2", Decimal("1002.50"), "AC04", "账户已销户 account closed"),
        ReturnRow(3, "1001000000000003", "=HYPERLINK(\"x\")", Decimal("1003.50"), "0000", ""),
        ReturnRow(4, "1001000000000004", "员工4", Decimal("1004.50"), "NAME", "户名不符 name mismatch"),
    ]
    header = ReturnHeader(FORMAT_VERSION, AGREEMENT_A, "PU000001", "B202612", date(2026, 12, 1), 2,
                          Decimal("2005.00"), 2, Decimal("2007.00"), Decimal("3.00"))
    return ReturnFile(header=header, rows=rows)


def sealed_by(signer, enterprise_a) -> bytes:
    return envelope.envelope_seal(payload=formats.return_dump(return_file()), kind="return", signer=signer,
                                  recipient_cert=enterprise_a.cert)


def test_return_file_decrypts_to_the_right_totals(client: Client, tmp_path: Path, out_dir: Path, bank_identity,
                                                  enterprise_a) -> None:
    incoming = tmp_path / "return.p7m"
    incoming.write_bytes(sealed_by(bank_identity, enterprise_a))
    result = client.run("return", str(incoming), "--out", str(out_dir), env=PIN)
    assert result.returncode == 0, result.stderr
    assert "成功 paid 2 笔 2005.00 元" in result.stdout
    assert "失败 failed 2 笔 2007.00 元" in result.stdout
    stem = f"RET_{AGREEMENT_A}_B202612_20261201"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        [f"{stem}.csv", f"{stem}.xlsx", f"{stem}_回盘清单.txt", f"{stem}_回盘清单.pdf",
         f"{stem}_更正表.xlsx"])  # the failed rows to correct (tests/client/test_corrections.py)
    listing = (out_dir / f"{stem}_回盘清单.txt").read_text(encoding="utf-8")
    for expected in (COMPANY_A, "成功笔数 Paid: 2", "2,005.00", "失败笔数 Failed: 2", "2,007.00",
                     "AC04", "账户已销户", "NAME", "户名不符"):
        assert expected in listing
    assert "员工1" not in listing  # paid rows are not listed as failures
    rows = list(csv.reader(io.StringIO((out_dir / f"{stem}.csv").read_text(encoding="utf-8-sig"))))
    assert len(rows) == 5
    assert rows[3][2] == "'=HYPERLINK(\"x\")"  # neutralized: a spreadsheet will not run it
    sheet = load_workbook(out_dir / f"{stem}.xlsx", read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[2][1] == "1001000000000002"
    assert values[3][2].startswith("'=")
    assert "return" in client.ok("history").stdout


def test_return_file_not_signed_by_the_bank_is_refused(client: Client, tmp_path: Path, out_dir: Path,
                                                       enterprise_b, enterprise_a) -> None:
    # another enterprise under the same root signs a "return file" for us: not the agreement's bank
    incoming = tmp_path / "forged.p7m"
    incoming.write_bytes(sealed_by(enterprise_b, enterprise_a))
    result = client.run("return", str(incoming), "--out", str(out_dir), env=PIN)
    assert result.returncode == 2
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_return_with_wrong_pin_or_no_right_is_refused(client: Client, tmp_path: Path, out_dir: Path,
                                                      bank_identity, enterprise_a) -> None:
    incoming = tmp_path / "return.p7m"
    incoming.write_bytes(sealed_by(bank_identity, enterprise_a))
    wrong = client.run("return", str(incoming), "--out", str(out_dir), env={"PAYROLL_CLIENT_PIN": "000000"})
    assert wrong.returncode == 2
    no_right = client.run("return", str(incoming), "--out", str(out_dir), user="0002", env=PIN)
    assert no_right.returncode == 2
    assert "文件回盘" in no_right.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())
