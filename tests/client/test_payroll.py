"""文件加密: sheets of every kind, 换人复核, the encrypted file the bank opens, the checklist."""

from __future__ import annotations

import subprocess
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from payroll_exchange import envelope, formats
from payroll_exchange.clock import BUSINESS_TZ
from tests.client.conftest import AGREEMENT_A, COMPANY_A, PASSWORDS, PAY_DATE, USBKEY_PIN, Client
from tests.client.sheets_make import csv_bytes, payroll_rows, rows_total, xls_bytes, xlsx_bytes

REVIEW = {"PAYROLL_CLIENT_REVIEWER": "0002", "PAYROLL_CLIENT_REVIEWER_PASSWORD": PASSWORDS["0002"],
          "PAYROLL_CLIENT_PIN": USBKEY_PIN}
BANK_NOW = datetime(2026, 12, 2, 10, 0, tzinfo=BUSINESS_TZ)


def encrypt(client: Client, sheet: Path, out_dir: Path, *extra: str, env: dict[str, str] | None = None,
            batch: str = "B202612") -> subprocess.CompletedProcess[str]:
    return client.run("encrypt", str(sheet), "--pay-date", PAY_DATE, "--batch", batch, "--purpose", "工资",
                      "--out", str(out_dir), *extra, env={**REVIEW, **(env or {})})


def bank_opens(data: bytes, bank_identity, bank_trust, enterprise_a):
    opened = envelope.envelope_open(data=data, recipient=bank_identity, trust=bank_trust, now=BANK_NOW,
                                    expected_kind="payroll", expected_signer=enterprise_a.fingerprint)
    payroll, errors = formats.payroll_load(opened.payload)
    assert errors == []
    return opened, payroll


def test_csv_payroll_round_trip_with_checklist(client: Client, tmp_path: Path, out_dir: Path, bank_identity,
                                               bank_trust, enterprise_a) -> None:
    rows = payroll_rows(12)
    sheet = tmp_path / "工资.csv"
    sheet.write_bytes(csv_bytes(rows))

    result = encrypt(client, sheet, out_dir, "--amount-col", "5", "--remark-col", "6", "--count", "12")

    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in out_dir.iterdir())
    stem = f"PAY_{AGREEMENT_A}_B202612_20261205"
    assert written == sorted([f"{stem}.p7m", f"{stem}_核对清单.pdf", f"{stem}_核对清单.txt"])
    # the bank opens it as the kiosk does: its own key, its trust store, the agreement's certificate
    opened, payroll = bank_opens((out_dir / f"{stem}.p7m").read_bytes(), bank_identity, bank_trust, enterprise_a)
    assert payroll.header.record_count == 12
    assert payroll.header.total_amount == rows_total(rows) == Decimal("12084.00")
    assert payroll.header.agreement_no == AGREEMENT_A
    assert payroll.rows[0].name == "员工1"
    assert payroll.rows[0].remark == "十二月工资"
    # the checklist carries what the kiosk's report will show
    text = (out_dir / f"{stem}_核对清单.txt").read_text(encoding="utf-8")
    for expected in (COMPANY_A, AGREEMENT_A, "B202612", "2026-12-05", "12", "12,084.00", "18.00", opened.digest,
                     "0001", "0002", "加盖公章"):
        assert expected in text
    pdf = out_dir / f"{stem}_核对清单.pdf"
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    font_lines = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert font_lines
    assert all(" yes " in line for line in font_lines)  # emb column
    assert any("CID" in line or "TrueType" in line for line in font_lines)
    pdf_text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
    assert COMPANY_A in pdf_text
    assert "总笔数" in pdf_text
    assert " 12\n" in pdf_text or " 12 " in pdf_text
    assert "12,084.00" in pdf_text
    assert "加盖公章" in pdf_text
    # 信息查询 shows who made and reviewed it, with the totals and the digest
    history = client.ok("history").stdout
    assert opened.digest in history
    assert "制作 0001 复核 0002" in history
    assert "12084.00" in history


def test_self_review_is_refused_and_nothing_written(client: Client, tmp_path: Path, out_dir: Path) -> None:
    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(3)))
    result = encrypt(client, sheet, out_dir, env={"PAYROLL_CLIENT_REVIEWER": "0001",
                                                  "PAYROLL_CLIENT_REVIEWER_PASSWORD": PASSWORDS["0001"]})
    assert result.returncode == 2
    assert "复核人不能是制作人本人" in result.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())
    assert client.ok("history").stdout.strip().endswith("共 0 个文件 files")


@pytest.mark.parametrize(("reviewer", "password", "message"), [
    ("0003", PASSWORDS["0003"], "不能复核"),          # holds no 文件加密 tick
    ("0002", "wrong-password", "用户名或密码错误"),
])
def test_reviewer_must_hold_the_right_and_know_the_password(client: Client, tmp_path: Path, out_dir: Path,
                                                            reviewer: str, password: str, message: str) -> None:
    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(3)))
    result = encrypt(client, sheet, out_dir, env={"PAYROLL_CLIENT_REVIEWER": reviewer,
                                                  "PAYROLL_CLIENT_REVIEWER_PASSWORD": password})
    assert result.returncode == 2
    assert message in result.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_wrong_pin_is_refused_and_nothing_written(client: Client, tmp_path: Path, out_dir: Path) -> None:
    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(3)))
    result = encrypt(client, sheet, out_dir, env={"PAYROLL_CLIENT_PIN": "000000"})
    assert result.returncode == 2
    assert "USBKEY 密码错误" in result.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())
    assert "usbkey_pin" in client.ok("log", user="admin").stdout


def test_format_errors_list_every_row_and_field_and_write_nothing(client: Client, tmp_path: Path,
                                                                  out_dir: Path) -> None:
    rows = payroll_rows(6)
    rows[1][3] = "12AB34"           # sheet row 3: account
    rows[3][1] = "310101198102110019"  # sheet row 5: ID check character
    rows[4][4] = "-5.00"            # sheet row 6: amount
    rows[5][2] = ""                 # sheet row 7: name
    sheet = tmp_path / "bad.csv"
    sheet.write_bytes(csv_bytes(rows))
    result = encrypt(client, sheet, out_dir)
    assert result.returncode == 2
    assert "未写入任何文件" in result.stderr
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert len(problems) == 4
    for row, label in ((3, "账号"), (5, "证件号码"), (6, "金额"), (7, "户名")):
        assert any(f"第 {row} 行" in line and label in line for line in problems), (row, result.stderr)
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_pay_date_beyond_fifteen_days_is_refused(client: Client, tmp_path: Path, out_dir: Path) -> None:
    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(2)))
    result = client.run("encrypt", str(sheet), "--pay-date", "2026-12-17", "--batch", "B1", "--out", str(out_dir),
                        env=REVIEW)
    assert result.returncode == 2
    assert "发薪日期" in result.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_csv_with_blank_lines(client: Client, tmp_path: Path, out_dir: Path, bank_identity, bank_trust,
                              enterprise_a) -> None:
    rows = payroll_rows(5)
    sheet = tmp_path / "blank.csv"
    sheet.write_bytes(csv_bytes(rows, blank_lines=True))
    assert encrypt(client, sheet, out_dir, "--count", "5").returncode == 0
    [sealed] = out_dir.glob("*.p7m")
    _, payroll = bank_opens(sealed.read_bytes(), bank_identity, bank_trust, enterprise_a)
    assert payroll.header.record_count == 5
    assert payroll.header.total_amount == rows_total(rows)


def test_gbk_csv(client: Client, tmp_path: Path, out_dir: Path, bank_identity, bank_trust, enterprise_a) -> None:
    rows = payroll_rows(4)
    rows[2][2] = "欧阳娜娜"
    sheet = tmp_path / "gbk.csv"
    sheet.write_bytes(csv_bytes(rows, encoding="gbk"))
    assert encrypt(client, sheet, out_dir).returncode == 0
    [sealed] = out_dir.glob("*.p7m")
    _, payroll = bank_opens(sealed.read_bytes(), bank_identity, bank_trust, enterprise_a)
    assert [r.name for r in payroll.rows] == ["员工1", "员工2", "欧阳娜娜", "员工4"]


def test_xlsx_with_merged_header_cells(client: Client, tmp_path: Path, out_dir: Path, bank_identity, bank_trust,
                                       enterprise_a) -> None:
    rows = payroll_rows(7)
    sheet = tmp_path / "merged.xlsx"
    sheet.write_bytes(xlsx_bytes(rows, title_row=f"{COMPANY_A} 2026年12月工资表", merged_header=True))
    # title on row 1, a two-row header on rows 2-3: data from row 4
    assert encrypt(client, sheet, out_dir, "--first-row", "4", "--count", "7").returncode == 0
    [sealed] = out_dir.glob("*.p7m")
    _, payroll = bank_opens(sealed.read_bytes(), bank_identity, bank_trust, enterprise_a)
    assert payroll.header.record_count == 7
    assert payroll.header.total_amount == rows_total(rows)


def test_xlsx_formula_without_cached_value_is_refused(client: Client, tmp_path: Path, out_dir: Path) -> None:
    rows: list[list[object]] = [list(r) for r in payroll_rows(3)]
    rows[1][4] = "=1000+234.5"  # openpyxl writes the formula and no cached value
    sheet = tmp_path / "formula.xlsx"
    sheet.write_bytes(xlsx_bytes(rows))
    result = encrypt(client, sheet, out_dir)
    assert result.returncode == 2
    assert "第 3 行" in result.stderr
    assert "公式" in result.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_xls_sheet(client: Client, tmp_path: Path, out_dir: Path, bank_identity, bank_trust, enterprise_a) -> None:
    rows = payroll_rows(6)
    sheet = tmp_path / "工资.xls"
    sheet.write_bytes(xls_bytes(rows))
    assert encrypt(client, sheet, out_dir, "--count", "6").returncode == 0
    [sealed] = out_dir.glob("*.p7m")
    _, payroll = bank_opens(sealed.read_bytes(), bank_identity, bank_trust, enterprise_a)
    assert payroll.header.total_amount == rows_total(rows)
    assert payroll.rows[5].account == rows[5][3]


def test_19_digit_accounts_stored_as_numbers_are_refused_with_advice(client: Client, tmp_path: Path,
                                                                     out_dir: Path) -> None:
    rows: list[list[object]] = [list(r) for r in payroll_rows(2)]
    rows[0][3] = 6222020200112345678  # a card number typed into a number cell: Excel keeps 15 digits
    sheet = tmp_path / "numbers.xlsx"
    sheet.write_bytes(xlsx_bytes(rows))
    result = encrypt(client, sheet, out_dir)
    assert result.returncode == 2
    assert "第 2 行" in result.stderr
    assert "文本" in result.stderr  # the advice: format the column as text and type the numbers again
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_existing_output_is_never_overwritten(client: Client, tmp_path: Path, out_dir: Path) -> None:
    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(2)))
    assert encrypt(client, sheet, out_dir).returncode == 0
    before = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    again = encrypt(client, sheet, out_dir, "--reuse-batch")
    assert again.returncode == 2
    assert "已存在" in again.stderr
    assert {p.name: p.read_bytes() for p in out_dir.iterdir()} == before


def test_checklist_in_beijing_time_with_account_signatures_bank_box_and_readable_digest(
        client: Client, tmp_path: Path, out_dir: Path) -> None:
    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(3)))
    # the PC is set to New York: the checklist still prints Beijing time (the business clock is 10:00 there)
    assert encrypt(client, sheet, out_dir, env={"TZ": "America/New_York"}).returncode == 0
    [pdf] = out_dir.glob("*_核对清单.pdf")
    [txt] = out_dir.glob("*_核对清单.txt")
    [sealed] = out_dir.glob("*.p7m")
    [digest] = [line.split(": ")[1] for line in txt.read_text(encoding="utf-8").splitlines()
                if line.startswith("文件摘要 SHA-256: ")]
    assert len(digest) == 64
    assert digest in client.ok("history").stdout
    groups = [digest[i:i + 4] for i in range(0, 64, 4)]
    pdf_text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
    for text in (pdf_text, txt.read_text(encoding="utf-8")):
        assert "2026-12-01 10:00:00 北京时间" in text
        assert "1001200300400500" in text  # the settlement account of the agreement
        assert "经办人签字" in text
        assert "复核人签字" in text
        assert "银行受理" in text
        assert "加盖公章" in text
        assert " ".join(groups[:8]) in text  # grouped by four, eight groups to a line
        assert " ".join(groups[8:]) in text
    assert sealed.name in pdf_text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Mono" in fonts  # the digest is set in a monospaced font, embedded like the rest
    assert all(" yes " in line for line in fonts.splitlines()[2:] if line.strip())
