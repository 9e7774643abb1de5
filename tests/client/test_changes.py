"""变动提示 on the client's 换人复核: the rows of every payroll file made are kept in the store, and the
next file is compared with the last one its return file (decrypted here) shows as paid."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from payroll_client.store import store_open
from payroll_exchange import envelope, formats
from payroll_exchange.records import FORMAT_VERSION, ReturnFile, ReturnHeader, ReturnRow
from tests.client.conftest import AGREEMENT_A, USBKEY_PIN, Client
from tests.client.sheets_make import account, csv_bytes, payroll_rows
from tests.client.test_payroll import encrypt

PIN = {"PAYROLL_CLIENT_PIN": USBKEY_PIN}


def november() -> list[list[str]]:
    rows = payroll_rows(5)  # 员工1 … 员工5, 1,001.50 … 1,005.50
    for row, amount in zip(rows, ("8650.00", "12300.50", "7420.00", "9800.00", "15000.00"), strict=True):
        row[4] = amount
    return rows


def december() -> list[list[str]]:
    rows = november()
    rows[1][4] = "16500.00"            # 员工2 +34.1 %
    rows[2][3] = account(703)           # 员工3 to another account
    del rows[3]                         # 员工4 not paid
    rows[3][4] = "10400.00"             # 员工5 −30.7 %
    rows.append(payroll_rows(1, start=6)[0])  # 员工6 new: 1,006.50
    return rows


def returned(client: Client, tmp_path: Path, out_dir: Path, bank_identity, enterprise_a, *, batch: str,
             rows: list[list[str]]) -> None:
    lines = [ReturnRow(i, r[3], r[2], Decimal(r[4]), "0000", "") for i, r in enumerate(rows, start=1)]
    total = sum((line.amount for line in lines), Decimal("0.00"))
    header = ReturnHeader(FORMAT_VERSION, AGREEMENT_A, "PU000001", batch, date(2026, 12, 5), len(lines), total, 0,
                          Decimal("0.00"), Decimal("7.50"))
    data = envelope.envelope_seal(payload=formats.return_dump(ReturnFile(header=header, rows=lines)), kind="return",
                                  signer=bank_identity, recipient_cert=enterprise_a.cert)
    incoming = tmp_path / f"RET_{batch}.p7m"
    incoming.write_bytes(data)
    client.ok("return", str(incoming), "--out", str(out_dir / "returns"), env=PIN)


def november_paid(client: Client, tmp_path: Path, out_dir: Path, bank_identity, enterprise_a) -> Path:
    """November's sheet encrypted as GZ202611 and its return file decrypted: on this PC a paid file
    for the next one to be compared with. Returns the sheet."""
    sheet = tmp_path / "11月工资.csv"
    sheet.write_bytes(csv_bytes(november()))
    assert encrypt(client, sheet, out_dir / "nov", "--amount-col", "5", batch="GZ202611", env=PIN).returncode == 0
    returned(client, tmp_path, out_dir, bank_identity, enterprise_a, batch="GZ202611", rows=november())
    return sheet


def test_review_lists_the_changes_since_the_last_paid_file(client: Client, tmp_path: Path, out_dir: Path,
                                                          bank_identity, enterprise_a) -> None:
    sheet = tmp_path / "11月工资.csv"
    sheet.write_bytes(csv_bytes(november()))
    first = encrypt(client, sheet, out_dir / "nov", "--amount-col", "5", batch="GZ202611", env=PIN)
    assert first.returncode == 0, first.stderr
    assert "本机没有该协议已发放（已回盘）的文件可比较" in first.stdout

    store = store_open(data_dir=client.home)  # seq is the sheet row (row 1 is the header)
    stored = store.execute("SELECT seq, account, name, amount FROM payroll_rows_made ORDER BY seq").fetchall()
    assert [tuple(r) for r in stored][:2] == [(2, account(1), "员工1", "8650.00"), (3, account(2), "员工2", "12300.50")]
    assert len(stored) == 5

    sheet = tmp_path / "12月工资.csv"
    sheet.write_bytes(csv_bytes(december()))
    # Not paid yet as far as this PC knows (no return file decrypted): nothing to compare with.
    unpaid = encrypt(client, sheet, out_dir / "dec0", "--amount-col", "5", batch="GZ202612", env=PIN)
    assert "本机没有该协议已发放（已回盘）的文件可比较" in unpaid.stdout

    returned(client, tmp_path, out_dir, bank_identity, enterprise_a, batch="GZ202611", rows=november())
    result = encrypt(client, sheet, out_dir / "dec", "--amount-col", "5", batch="GZ202613", env=PIN)
    assert result.returncode == 0, result.stderr
    review = result.stdout.split("工资文件已加密")[0]
    assert ("与上次已发放批次 GZ202611 比较：本次 5 笔 43976.50 元，上次 5 笔 53170.50 元，总额变动 -17.3%"
            in review)
    assert "较上月新增：1 人" in review
    assert f"第 6 行 员工6 {account(6)} 1006.50" in review
    assert "较上月减少：1 人" in review
    assert f"上次第 5 行 员工4 {account(4)} 9800.00" in review
    assert "金额变动超过 30%：2 人" in review
    assert f"第 3 行 员工2 {account(2)} 12300.50 → 16500.00 (+34.1 %)" in review
    assert f"第 5 行 员工5 {account(5)} 15000.00 → 10400.00 (-30.7 %)" in review
    assert "同一证件改用其他账号：1 人" in review
    assert f"第 4 行 员工3 {account(703)} {account(3)} → {account(703)}" in review
    assert "Paid now, not last time: 1" in review  # and in English
    assert "疑似重复发放" not in review


def test_the_same_rows_again_are_a_suspected_duplicate(client: Client, tmp_path: Path, out_dir: Path,
                                                       bank_identity, enterprise_a) -> None:
    sheet = november_paid(client, tmp_path, out_dir, bank_identity, enterprise_a)
    again = encrypt(client, sheet, out_dir / "b", "--amount-col", "5", batch="GZ202611B", env=PIN)
    assert again.returncode == 0, again.stderr  # it never blocks; the kiosk asks for the acknowledgement
    assert "疑似重复发放：本文件的明细和金额与已发放批次 GZ202611 完全相同。" in again.stdout


def test_the_per_person_threshold_is_read_from_the_environment(client: Client, tmp_path: Path, out_dir: Path,
                                                              bank_identity, enterprise_a) -> None:
    """The client reads PAYROLL_CHANGE_THRESHOLD_PERCENT as the platform does; a malformed value keeps 30 %."""
    november_paid(client, tmp_path, out_dir, bank_identity, enterprise_a)
    sheet = tmp_path / "12月工资.csv"
    sheet.write_bytes(csv_bytes(december()))

    at_34 = encrypt(client, sheet, out_dir / "a", "--amount-col", "5", batch="GZ202612",
                    env={**PIN, "PAYROLL_CHANGE_THRESHOLD_PERCENT": "34"})
    assert at_34.returncode == 0, at_34.stderr
    review = at_34.stdout.split("工资文件已加密")[0]
    assert "金额变动超过 34%：1 人" in review  # +34.1 % stays, −30.7 % goes
    assert f"第 3 行 员工2 {account(2)} 12300.50 → 16500.00 (+34.1 %)" in review
    assert "15000.00 → 10400.00" not in review

    malformed = encrypt(client, sheet, out_dir / "b", "--amount-col", "5", batch="GZ202613",
                        env={**PIN, "PAYROLL_CHANGE_THRESHOLD_PERCENT": "thirty"})
    assert malformed.returncode == 0, malformed.stderr
    assert "金额变动超过 30%：2 人" in malformed.stdout
