"""The client on real files made by LibreOffice Calc (tests/fixtures/sheets/, see its INDEX.md): what
the user sees on the review, on the checklist and in 信息查询, or the refusal and its advice."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from tests.client.conftest import Client
from tests.client.test_payroll import bank_opens, encrypt

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sheets"
CLEAN_TOTAL = Decimal("67814.38")


def fixture(tmp_path: Path, name: str) -> Path:
    """A copy: the refusals write <name>_errors.csv beside the sheet, never into the repository."""
    copy = tmp_path / name
    shutil.copyfile(FIXTURES / name, copy)
    return copy


@pytest.mark.parametrize(("name", "shown"), [
    ("payroll_clean.xlsx", "payroll_clean.xlsx 工作表 “"),
    ("payroll_clean.xls", "(Excel 97-2003 工作簿)"),
    ("payroll_utf8.csv", "(CSV 文本文件, 编码 utf-8"),
    ("payroll_gb18030.csv", "(CSV 文本文件, 编码 gb18030"),
    ("payroll_tab.xls", "(制表符分隔的文本文件"),
])
def test_clean_payroll_in_every_form_pays_what_the_sheet_shows(client: Client, tmp_path: Path, name: str,
                                                               shown: str, bank_identity, bank_trust,
                                                               enterprise_a) -> None:
    out = tmp_path / "usb"
    result = encrypt(client, fixture(tmp_path, name), out, "--remark-col", "6", "--count", "10")
    assert result.returncode == 0, result.stderr
    assert shown in result.stdout
    assert "总金额 total: 67,814.38 元" in result.stdout
    assert "预计手续费 expected fee: 15.00 元" in result.stdout
    assert "12,345.67" in result.stdout.split("largest amounts:")[1].splitlines()[1]  # the largest first
    [sealed] = out.glob("*.p7m")
    _, payroll = bank_opens(sealed.read_bytes(), bank_identity, bank_trust, enterprise_a)
    assert payroll.header.total_amount == CLEAN_TOTAL
    assert [r.seq for r in payroll.rows] == list(range(2, 12))
    [checklist] = out.glob("*_核对清单.txt")
    assert shown in checklist.read_text(encoding="utf-8")
    assert shown in client.ok("history").stdout


def test_two_sheets_refused_then_the_one_named(client: Client, tmp_path: Path, bank_identity, bank_trust,
                                               enterprise_a) -> None:
    sheet = fixture(tmp_path, "two_sheets.xlsx")
    refused = encrypt(client, sheet, tmp_path / "a")
    assert refused.returncode == 2
    for word in ("一月", "二月", "--sheet"):
        assert word in refused.stderr
    made = encrypt(client, sheet, tmp_path / "b", "--sheet", "二月")
    assert made.returncode == 0, made.stderr
    assert "工作表 “二月”" in made.stdout
    [sealed] = (tmp_path / "b").glob("*.p7m")
    _, payroll = bank_opens(sealed.read_bytes(), bank_identity, bank_trust, enterprise_a)
    assert payroll.rows[0].name == "杨帆"
    assert payroll.rows[-1].name == "吴婷"


@pytest.mark.parametrize(("name", "rows"), [("hidden_rows.xlsx", "第 6、7 行"), ("autofilter.xlsx", "第 5、8 行"),
                                            ("hidden_rows.xls", "第 6、7 行")])
def test_hidden_and_filtered_rows_refused_then_decided(client: Client, tmp_path: Path, name: str, rows: str) -> None:
    sheet = fixture(tmp_path, name)
    refused = encrypt(client, sheet, tmp_path / "a")
    assert refused.returncode == 2
    assert rows in refused.stderr
    assert not (tmp_path / "a").exists()
    skipped = encrypt(client, sheet, tmp_path / "b", "--hidden-rows", "skip")
    assert skipped.returncode == 0, skipped.stderr
    assert "总笔数 count: 8" in skipped.stdout
    assert f"跳过隐藏行 (--hidden-rows skip): {rows}" in skipped.stdout
    assert f"跳过隐藏行 (--hidden-rows skip): {rows}" in client.ok("history").stdout


@pytest.mark.parametrize(("name", "encoding", "first"), [("payroll_big5.csv", "big5", "陳志明"),
                                                         ("payroll_cp1252.csv", "cp1252", "Müller Jürgen")])
def test_non_gb_csv_refused_then_read_with_encoding(client: Client, tmp_path: Path, name: str, encoding: str,
                                                    first: str, bank_identity, bank_trust, enterprise_a) -> None:
    sheet = fixture(tmp_path, name)
    refused = encrypt(client, sheet, tmp_path / "a")
    assert refused.returncode == 2
    assert "--encoding" in refused.stderr
    made = encrypt(client, sheet, tmp_path / "b", "--encoding", encoding)
    assert made.returncode == 0, made.stderr
    assert first in made.stdout  # the first rows as read, on the review
    [sealed] = (tmp_path / "b").glob("*.p7m")
    _, payroll = bank_opens(sealed.read_bytes(), bank_identity, bank_trust, enterprise_a)
    assert payroll.rows[0].name == first


def test_total_row_refused_unless_the_count_is_given(client: Client, tmp_path: Path) -> None:
    sheet = fixture(tmp_path, "total_row.xlsx")
    refused = encrypt(client, sheet, tmp_path / "a", "--remark-col", "6")
    assert refused.returncode == 2
    assert "第 12 行" in refused.stderr
    assert (tmp_path / "total_row_errors.csv").exists()  # beside the input
    made = encrypt(client, sheet, tmp_path / "b", "--remark-col", "6", "--count", "10")
    assert made.returncode == 0, made.stderr
    assert "总金额 total: 67,814.38 元" in made.stdout


@pytest.mark.parametrize(("name", "code"), [("payroll_clean.ods", "sheet_ods"), ("payroll_password.xlsx", None),
                                            ("payroll_html.xls", None), ("hidden_column.xlsx", "sheet_hidden_columns"),
                                            ("wanyuan_header.xlsx", None)])
def test_unreadable_files_are_refused_with_advice_and_no_traceback(client: Client, tmp_path: Path, name: str,
                                                                   code: str | None) -> None:
    result = encrypt(client, fixture(tmp_path, name), tmp_path / "usb")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("错误 error [")
    if code:
        assert f"[{code}]" in result.stderr
    assert not (tmp_path / "usb").exists()
