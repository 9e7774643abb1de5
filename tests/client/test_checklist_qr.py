"""核对码 and the checklist's QR (issue 13): the code travels inside the encrypted file, the QR decoded
from the rendered PDF by an independent decoder (zbar) carries the file's facts signed by the enterprise key."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from payroll_exchange import checkcode
from payroll_exchange.errors import ExchangeError
from tests.client.conftest import AGREEMENT_A, Client
from tests.client.sheets_make import csv_bytes, payroll_rows, rows_total
from tests.client.test_payroll import bank_opens, encrypt


def zbar_decode(pdf: Path, work: Path) -> list[str]:
    """pdftoppm renders the first page at 150 dpi; zbarimg reads every QR on it."""
    subprocess.run(["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", str(pdf), str(work / "page")],
                   check=True)
    [png] = work.glob("page*.png")
    found = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
                           capture_output=True, text=True, check=True).stdout
    return [line for line in found.splitlines() if line]


def test_qr_decoded_from_the_pdf_is_signed_and_matches_the_file(client: Client, tmp_path: Path, out_dir: Path,
                                                                bank_identity, bank_trust, enterprise_a) -> None:
    rows = payroll_rows(7)
    sheet = tmp_path / "工资.csv"
    sheet.write_bytes(csv_bytes(rows))
    assert encrypt(client, sheet, out_dir).returncode == 0
    [pdf] = out_dir.glob("*_核对清单.pdf")
    [txt] = out_dir.glob("*_核对清单.txt")
    [sealed] = out_dir.glob("*.p7m")
    opened, payroll = bank_opens(sealed.read_bytes(), bank_identity, bank_trust, enterprise_a)
    code = payroll.header.check_code
    assert checkcode.code_valid(code)

    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info  # the QR beside the stamp: the form stays on one page
    work = tmp_path / "render"
    work.mkdir()
    [qr] = zbar_decode(pdf, work)
    facts = checkcode.qr_verify(text=qr, cert=enterprise_a.cert)
    assert facts == checkcode.ChecklistFacts(
        agreement_no=AGREEMENT_A, batch_no="B202612", pay_date=payroll.header.pay_date, record_count=7,
        total_amount=rows_total(rows), expected_fee=facts.expected_fee, digest=opened.digest, code=code)
    assert facts.expected_fee == Decimal("10.50")  # 1.50 a payment, the agreement's fee
    # the text checklist carries the same fields, the code grouped, and the QR's text itself
    text = txt.read_text(encoding="utf-8")
    assert f"核对码 Check code: {code[:5]} {code[5:]}" in text
    assert qr in text.splitlines()
    pdf_text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
    assert f"{code[:5]} {code[5:]}" in pdf_text


def test_two_files_get_different_codes(client: Client, tmp_path: Path, out_dir: Path, bank_identity, bank_trust,
                                       enterprise_a) -> None:
    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(2)))
    codes = []
    for batch in ("B1", "B2"):
        assert encrypt(client, sheet, out_dir, batch=batch).returncode == 0
        [sealed] = out_dir.glob(f"PAY_*_{batch}_*.p7m")
        codes.append(bank_opens(sealed.read_bytes(), bank_identity, bank_trust, enterprise_a)[1].header.check_code)
    assert codes[0] != codes[1]


def test_a_tampered_qr_is_refused(client: Client, tmp_path: Path, out_dir: Path, enterprise_a,
                                  bank_identity) -> None:
    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(3)))
    assert encrypt(client, sheet, out_dir).returncode == 0
    [txt] = out_dir.glob("*_核对清单.txt")
    [qr] = [line for line in txt.read_text(encoding="utf-8").splitlines() if line.startswith("PRC1|")]
    total = qr.split("|total=")[1].split("|")[0]
    tampered = qr.replace(f"|total={total}|", f"|total={'9' if total[0] != '9' else '8'}{total[1:]}|")
    assert tampered != qr
    with pytest.raises(ExchangeError) as info:
        checkcode.qr_verify(text=tampered, cert=enterprise_a.cert)
    assert info.value.code == "checklist_qr_signature"
    # another key (the bank's) did not sign it either
    with pytest.raises(ExchangeError):
        checkcode.qr_verify(text=qr, cert=bank_identity.cert)
