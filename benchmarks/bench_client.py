"""How long the client takes to turn a 100,000-row sheet into an encrypted payroll file.

Same code path as ``payroll-client encrypt`` minus the prompts and the store: read and check
every row (payroll_prepare), sign and encrypt (payroll_seal), render the checklist PDF and text
(payroll_outputs). The baseline, in the same run, is a plain read of the same file: the csv
module over the decoded text, and openpyxl's read-only iteration. Aim: CSV ≤ 2 s, xlsx ≤ 8 s.

    .venv/bin/python benchmarks/bench_client.py [rows]
"""

from __future__ import annotations

import csv
import io
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from payroll_client.payroll import PayrollRequest, payroll_outputs, payroll_prepare, payroll_seal  # noqa: E402
from payroll_exchange import formats, pki, sheets  # noqa: E402
from payroll_exchange.records import AgreementPackage  # noqa: E402
from tests.client.sheets_make import HEADER, payroll_rows  # noqa: E402

TODAY = date(2026, 12, 1)


def world() -> tuple[pki.Identity, AgreementPackage]:
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    root = pki.root_create(common_name="Bench Root", now=now - timedelta(days=10))
    bank = pki.cert_issue(issuer=root, common_name="Bench Bank", organization="Bank", role="bank", now=now)
    enterprise = pki.cert_issue(issuer=root, common_name="DF0001", organization="企业", role="enterprise", now=now)
    agreement = AgreementPackage(
        company_name="上海示例科技有限公司", agreement_no="DF0001", payer_unit_no="PU0001",
        start_date=date(2026, 1, 1), end_date=date(2027, 12, 31), fee_per_payment=Decimal("1.50"),
        single_limit=Decimal("50000.00"), settlement_account="1001200300400500",
        enterprise_cert_fingerprint=enterprise.fingerprint, bank_cert_pem=pki.cert_pem(bank.cert))
    return enterprise, agreement


def sheet_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def sheet_xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def baseline_csv(data: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def baseline_xlsx(data: bytes) -> int:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    return sum(1 for _ in sheet.iter_rows(values_only=True))


def encrypt(data: bytes, filename: str, identity: pki.Identity, agreement: AgreementPackage) -> int:
    request = PayrollRequest(
        data=data, filename=filename,
        columns=sheets.ColumnMap(id_type=1, id_number=2, name=3, account=4, amount=5, remark=6),
        agreement=agreement, pay_date=TODAY + timedelta(days=3), batch_no="B1", purpose="工资", today=TODAY)
    prepared = payroll_prepare(request=request)
    payroll = prepared.payroll
    sealed = payroll_seal(payroll=payroll, identity=identity, agreement=agreement)
    files, _ = payroll_outputs(prepared=prepared, sealed=sealed, agreement=agreement, operator="0001",
                               reviewer="0002", filename=filename)
    assert formats.file_digest(sealed.plain) == sealed.digest  # noqa: S101
    return len(payroll.rows) + len(files) * 0


def timed(function, *args) -> tuple[float, int]:  # noqa: ANN001
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    identity, agreement = world()
    rows = payroll_rows(count)
    for row in rows:
        row[4] = "1234.56"  # under the single payment limit whatever the row number
    # warm the PDF font and the crypto code once, as a running client would have
    encrypt(sheet_csv(rows[:10]), "warm.csv", identity, agreement)
    print(f"rows: {count}")
    for kind, make, baseline, aim in (("csv", sheet_csv, baseline_csv, 2.0), ("xlsx", sheet_xlsx, baseline_xlsx, 8.0)):
        data = make(rows)
        base_s, base_n = timed(baseline, data)
        enc_s, enc_n = timed(encrypt, data, f"bench.{kind}", identity, agreement)
        assert enc_n == count, enc_n  # noqa: S101
        verdict = "ok" if enc_s <= aim else "OVER AIM"
        print(f"{kind:5} {len(data) / 1e6:6.1f} MB  plain read {base_s:6.2f} s ({base_n} rows)   "
              f"encrypted file {enc_s:6.2f} s   ratio {enc_s / base_s:5.1f}x   aim ≤ {aim:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
