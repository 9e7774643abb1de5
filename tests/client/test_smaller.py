"""The smaller promises: the draft refuses a second row with the same account, removing a row
that is not there fails, mobile numbers as HR writes them, column options ≥ 1, and the return
list opens in Excel with accounts in full and Chinese shown."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from payroll_exchange import account_opening as ao
from payroll_exchange import envelope
from tests.client.conftest import AGREEMENT_A, PKI_NOW, USBKEY_PIN, Client
from tests.client.sheets_make import account, resident_id
from tests.client.test_account_opening import grant, sheet
from tests.client.test_returns import sealed_by

PIN = {"PAYROLL_CLIENT_PIN": USBKEY_PIN}


def disk_add(client: Client, n: int, *, name: str | None = None, acct: str | None = None):
    return client.run("employee-disk", "add", "--name", name or f"员工{n}", "--account", acct or account(n),
                      "--id-type", "0", "--id-number", resident_id(n))


def test_draft_refuses_an_account_already_in_it(client: Client) -> None:
    assert disk_add(client, 1).returncode == 0
    again = disk_add(client, 2, name="别人", acct=" ".join([account(1)[:4], account(1)[4:]]))  # same, with a space
    assert again.returncode == 2
    assert "draft_account_duplicate" in again.stderr
    assert "已在草稿第 #1 行 (员工1)" in again.stderr
    listing = client.ok("employee-disk", "list").stdout
    assert "共 1 条" in listing
    assert "别人" not in listing


def test_removing_a_row_that_is_not_there_fails_and_removes_nothing(client: Client) -> None:
    for n in (1, 2):
        assert disk_add(client, n).returncode == 0
    result = client.run("employee-disk", "remove", "1", "7")
    assert result.returncode == 2
    assert "草稿中没有 #7 行" in result.stderr
    assert "共 2 条" in client.ok("employee-disk", "list").stdout
    client.ok("employee-disk", "remove", "1")
    assert "共 1 条" in client.ok("employee-disk", "list").stdout


@pytest.mark.parametrize("written", ["+86 139 0000 1111", "139-0000-1111", "(+86) 139-0000-1111", "0086 13900001111",
                                     "＋８６ １３９ ００００ １１１１"])
def test_account_opening_reads_mobile_numbers_as_hr_writes_them(client: Client, tmp_path: Path, written: str,
                                                                bank_identity, bank_trust, enterprise_a) -> None:
    grant(client)
    source = sheet(tmp_path, [f"0,{resident_id(1)},张三,{written}"])
    out = tmp_path / "out"
    client.ok("account-opening", str(source), "--out", str(out), env=PIN)
    [made] = out.iterdir()
    opened = envelope.envelope_open(data=made.read_bytes(), recipient=bank_identity, trust=bank_trust, now=PKI_NOW,
                                    expected_kind="account_opening", expected_signer=enterprise_a.fingerprint)
    request, errors = ao.account_opening_load(opened.payload)
    assert errors == []
    assert [r.mobile for r in request.rows] == ["13900001111"]


@pytest.mark.parametrize("number", ["+852 9123 4567", "+86 139 0000 111", "86-239-0000-1111"])
def test_other_numbers_are_still_refused(number: str) -> None:
    assert ao.mobile_problem(ao.mobile_normalize(number), 2) is not None


@pytest.mark.parametrize(("command", "option"), [
    ("encrypt", "--amount-col"), ("encrypt", "--first-row"), ("encrypt", "--count"), ("encrypt", "--remark-col"),
    ("employee-import", "--account-col"), ("account-opening", "--phone-col"), ("account-opening", "--first-row"),
])
@pytest.mark.parametrize("value", ["0", "-1", "x"])
def test_column_options_refuse_zero_and_negative_numbers(client: Client, tmp_path: Path, command: str, option: str,
                                                         value: str) -> None:
    if option == "--remark-col" and value == "0":
        pytest.skip("--remark-col 0 means: no remark column (the manual's form)")
    extra = ["--pay-date", "2026-12-05", "--batch", "B1"] if command == "encrypt" else []
    result = client.run(command, str(tmp_path / "x.csv"), *extra, "--out", str(tmp_path / "out"), option, value)
    assert result.returncode == 2
    assert "须为正整数" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_return_list_opens_in_excel_with_full_accounts_and_chinese(client: Client, tmp_path: Path, out_dir: Path,
                                                                   bank_identity, enterprise_a) -> None:
    incoming = tmp_path / "return.p7m"
    incoming.write_bytes(sealed_by(bank_identity, enterprise_a))
    client.ok("return", str(incoming), "--out", str(out_dir), env=PIN)
    stem = f"RET_{AGREEMENT_A}_B202612_20261201"
    assert (out_dir / f"{stem}.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows the Chinese
    book = load_workbook(out_dir / f"{stem}.xlsx")
    accounts = [row[1] for row in book.worksheets[0].iter_rows(min_row=2)]
    assert [c.value for c in accounts] == [f"100100000000000{n}" for n in range(1, 5)]
    assert all(c.data_type == "s" for c in accounts)  # text cells, not numbers
    assert all(c.number_format == "@" for c in accounts)  # in Text format: an edit keeps every digit
    with zipfile.ZipFile(io.BytesIO((out_dir / f"{stem}.xlsx").read_bytes())) as archive:
        styles = archive.read("xl/styles.xml").decode()
    assert 'numFmtId="49"' in styles  # Excel's built-in Text format, as Excel writes it
