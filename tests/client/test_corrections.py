"""更正 at the client (issue 13 item 3): 文件回盘 writes the failed rows as a correction sheet;
`encrypt SHEET --corrects RETURN_FILE` makes a version-2 payroll file of only those rows, linked to
the original batch and rows; a row that did not fail is refused and nothing is written."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from payroll_exchange import envelope, formats
from payroll_exchange.records import FORMAT_VERSION, ReturnFile, ReturnHeader, ReturnRow
from tests.client.conftest import AGREEMENT_A, Client
from tests.client.sheets_make import account, csv_bytes, payroll_rows
from tests.client.test_payroll import bank_opens, encrypt

CODES = ["0000", "AC01", "0000", "AC06"]
REASONS = ["成功", "账户不存在", "成功", "账户已冻结"]
NEW_ACCOUNT = account(77)


def _original(client: Client, tmp_path: Path, bank_identity, bank_trust, enterprise_a):
    """B202612 made here (4 rows), then the bank's return file: rows 3 and 5 (sheet rows) failed."""
    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(4)))
    made = tmp_path / "made"
    assert encrypt(client, sheet, made).returncode == 0
    opened, payroll = bank_opens(next(made.glob("*.p7m")).read_bytes(), bank_identity, bank_trust, enterprise_a)
    rows = [ReturnRow(r.seq, r.account, r.name, r.amount, code, reason)
            for r, code, reason in zip(payroll.rows, CODES, REASONS, strict=True)]
    paid = [r for r in rows if r.result_code == "0000"]
    failed = [r for r in rows if r.result_code != "0000"]
    h = payroll.header
    header = ReturnHeader(FORMAT_VERSION, AGREEMENT_A, h.payer_unit_no, h.batch_no, h.pay_date, len(paid),
                          sum((r.amount for r in paid), Decimal("0.00")), len(failed),
                          sum((r.amount for r in failed), Decimal("0.00")), Decimal("1.00"))
    incoming = tmp_path / "RET_B202612.p7m"
    incoming.write_bytes(envelope.envelope_seal(payload=formats.return_dump(ReturnFile(header, rows)), kind="return",
                                                signer=bank_identity, recipient_cert=enterprise_a.cert))
    return incoming, payroll, opened.digest


def test_the_return_step_writes_the_failed_rows_and_the_correction_pays_only_them(
    client: Client, tmp_path: Path, out_dir: Path, bank_identity, bank_trust, enterprise_a
) -> None:
    incoming, original, digest = _original(client, tmp_path, bank_identity, bank_trust, enterprise_a)
    returned_dir = tmp_path / "returns"
    assert client.run("return", str(incoming), "--out", str(returned_dir),
                      env={"PAYROLL_CLIENT_PIN": "135790"}).returncode == 0
    sheet_path = next(returned_dir.glob("*_更正表.xlsx"))
    book = load_workbook(sheet_path)
    values = list(book.worksheets[0].iter_rows(values_only=True))
    failed = [original.rows[1], original.rows[3]]
    assert [v[:8] for v in values[1:]] == [
        (r.seq, r.id_type, r.id_number, r.name, r.account, float(r.amount), code, reason)
        for r, code, reason in zip(failed, ["AC01", "AC06"], ["账户不存在", "账户已冻结"], strict=True)]
    assert values[1][8:] == (None, None)  # empty columns for a corrected account and name

    book.worksheets[0].cell(row=2, column=9, value=NEW_ACCOUNT)  # the AC01 row gets its right account
    fixed = tmp_path / "更正.xlsx"
    book.save(fixed)
    result = encrypt(client, fixed, out_dir, "--corrects", str(incoming), batch="B202612C1")
    assert result.returncode == 0, result.stderr

    _opened, correction = bank_opens(next(out_dir.glob("*.p7m")).read_bytes(), bank_identity, bank_trust,
                                     enterprise_a)
    h = correction.header
    assert (h.format_version, h.batch_no, h.original_batch_no, h.original_digest, h.agreement_no) == (
        "2", "B202612C1", "B202612", digest, AGREEMENT_A)
    assert [(r.seq, r.original_seq, r.account, r.name, r.amount, r.id_number) for r in correction.rows] == [
        (2, failed[0].seq, NEW_ACCOUNT, failed[0].name, failed[0].amount, failed[0].id_number),
        (3, failed[1].seq, failed[1].account, failed[1].name, failed[1].amount, failed[1].id_number)]
    assert (h.record_count, h.total_amount) == (2, failed[0].amount + failed[1].amount)


def test_a_row_that_did_not_fail_is_refused_and_nothing_is_written(
    client: Client, tmp_path: Path, out_dir: Path, bank_identity, bank_trust, enterprise_a
) -> None:
    incoming, original, _digest = _original(client, tmp_path, bank_identity, bank_trust, enterprise_a)
    returned_dir = tmp_path / "returns"
    client.run("return", str(incoming), "--out", str(returned_dir), env={"PAYROLL_CLIENT_PIN": "135790"})
    sheet_path = next(returned_dir.glob("*_更正表.xlsx"))
    book = load_workbook(sheet_path)
    paid = original.rows[0]
    book.worksheets[0].append([paid.seq, paid.id_type, paid.id_number, paid.name, paid.account, float(paid.amount),
                               "0000", "", account(78), ""])
    tampered = tmp_path / "更正.xlsx"
    book.save(tampered)

    result = encrypt(client, tampered, out_dir, "--corrects", str(incoming), batch="B202612C1")
    assert result.returncode == 2
    assert f"原批次 B202612 第 {paid.seq} 行已发放成功，不能再次发放" in result.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())
