"""The validation report: the checklist's figures, every error, and a CSV safe to open in Excel."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from payroll_exchange.errors import RowError
from payroll_exchange.messages import row_error
from payroll_exchange.report import ValidationReport, expected_fee, report_csv, report_text

DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize(("fee", "count", "expected"), [
    (Decimal("1.50"), 2, Decimal("3.00")),
    (Decimal("0.5"), 3, Decimal("1.50")),
    (Decimal("0.005"), 3, Decimal("0.02")),  # 0.015 rounds half up to the fen
    (Decimal("2"), 0, Decimal("0.00")),
    (Decimal("1.50"), 100000, Decimal("150000.00")),
])
def test_expected_fee(fee: Decimal, count: int, expected: Decimal) -> None:
    value = expected_fee(fee_per_payment=fee, count=count)
    assert value == expected
    assert value.as_tuple().exponent == -2


def report_of(errors: list[RowError]) -> ValidationReport:
    return ValidationReport(file_name="工资202603.bin", kind="payroll", agreement_no="AG20260001",
                            batch_no="B202603001", pay_date=date(2026, 3, 5), record_count=2,
                            total_amount=Decimal("12850.5"), fee_per_payment=Decimal("1.50"),
                            expected_fee=expected_fee(fee_per_payment=Decimal("1.50"), count=2), digest=DIGEST,
                            errors=errors, new_employees=1)


ERROR = row_error("account_luhn", 12, "account", "6222 的校验位不对。", "6222 has a wrong check digit.")
FORMULA_NAME = row_error("name_char", 3, "name", "=HYPERLINK(\"http://x\")", "=HYPERLINK(\"http://x\")")


def test_report_text_chinese() -> None:
    text = report_text(report_of([ERROR]))
    for line in ("报告：代发工资文件校验报告", "批次号：B202603001", "发薪日期：2026-03-05", "记录总数（笔）：2",
                 "总金额（元）：12,850.50", "预计手续费（元）：3.00", f"文件摘要（SHA-256）：{DIGEST}",
                 "新增员工（人）：1", "校验结果：发现 1 个错误", "  [account_luhn] 第 12 行 账号：6222 的校验位不对。"):
        assert line in text.splitlines()


def test_report_text_english_passed() -> None:
    lines = report_text(report_of([]), language="en").splitlines()
    assert "Expected fee (CNY): 3.00" in lines
    assert "Total amount (CNY): 12,850.50" in lines
    assert lines[-1] == "Result: passed"


def test_report_text_employee_file_has_no_batch() -> None:
    report = report_of([])
    report.kind, report.batch_no, report.pay_date = "employees", None, None
    text = report_text(report)
    assert "员工信息盘片校验报告" in text
    assert "批次号" not in text


def test_report_csv_has_bom_figures_and_neutralized_errors() -> None:
    data = report_csv(report_of([ERROR, FORMULA_NAME]))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert ["预计手续费（元）", "Expected fee (CNY)", "3.00"] in rows
    assert ["文件摘要（SHA-256）", "Digest (SHA-256)", DIGEST] in rows
    errors = rows[rows.index(["行号 row", "字段 field", "错误代码 code", "说明", "message"]) + 1:]
    assert errors[0] == ["12", "账号 account number", "account_luhn", "第 12 行 账号：6222 的校验位不对。",
                         "row 12, account number: 6222 has a wrong check digit."]
    assert errors[1][3] == "第 3 行 户名：=HYPERLINK(\"http://x\")"  # the where comes first: already safe
    assert len(errors) == 2


def test_report_csv_neutralizes_a_file_name_that_is_a_formula() -> None:
    report = report_of([])
    report.file_name = "=cmd|' /C calc'!A0"
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    assert ["文件", "File", "'=cmd|' /C calc'!A0"] in rows
