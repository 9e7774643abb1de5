"""The validation report (报告文件) the kiosk offers for download and the agent compares with the
stamped checklist: the same count, amount, expected fee and digest, then every error."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from payroll_exchange.errors import RowError
from payroll_exchange.formats import neutralize_cell
from payroll_exchange.messages import field_label

_CENT = Decimal("0.01")
KIND_LABELS = {"payroll": ("代发工资文件", "payroll file"), "employees": ("员工信息盘片", "employee file")}


@dataclass(slots=True)
class ValidationReport:
    file_name: str
    kind: str  # "payroll" or "employees"
    agreement_no: str
    batch_no: str | None
    pay_date: date | None
    record_count: int
    total_amount: Decimal
    fee_per_payment: Decimal
    expected_fee: Decimal
    digest: str
    errors: list[RowError] = field(default_factory=list)
    new_employees: int = 0
    # The platform keeps only the first errors of a huge file: the exact total and the count per
    # code of all of them (0 / empty: ``errors`` is all there is).
    error_total: int = 0
    error_codes: dict[str, int] = field(default_factory=dict)
    # The new employees 确认入库 registers, as (row, name, account), for the agent to check (the
    # manual: 核对报告文件无误后，可提交新增员工信息). Accounts are printed masked. ``new_employees``
    # is the exact count; this list may hold only the first of them.
    new_employee_rows: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def errors_found(self) -> int:
        return max(self.error_total, len(self.errors))

    @property
    def errors_more(self) -> int:
        return self.errors_found - len(self.errors)


def expected_fee(*, fee_per_payment: Decimal, count: int) -> Decimal:
    """Fee per payment × rows, in yuan with two places (the checklist's 预计手续费)."""
    return (fee_per_payment * count).quantize(_CENT, rounding=ROUND_HALF_UP)


def _money(value: Decimal) -> str:
    return format(value.quantize(_CENT, rounding=ROUND_HALF_UP), ",f")


def _summary(report: ValidationReport, english: bool) -> list[tuple[str, str]]:
    kind_zh, kind_en = KIND_LABELS.get(report.kind, (report.kind, report.kind))
    if english:
        rows = [("Report", f"validation report, {kind_en}"), ("File", report.file_name),
                ("Agreement number", report.agreement_no)]
        if report.batch_no is not None:
            rows.append(("Batch number", report.batch_no))
        if report.pay_date is not None:
            rows.append(("Pay date", report.pay_date.isoformat()))
        rows += [("Records", str(report.record_count)), ("Total amount (CNY)", _money(report.total_amount)),
                 ("Fee per payment (CNY)", _money(report.fee_per_payment)),
                 ("Expected fee (CNY)", _money(report.expected_fee)), ("Digest (SHA-256)", report.digest),
                 ("New employees", str(report.new_employees)),
                 ("Result", "passed" if not report.errors_found else f"{report.errors_found:,} errors found")]
        return rows
    rows = [("报告", f"{kind_zh}校验报告"), ("文件", report.file_name), ("协议号", report.agreement_no)]
    if report.batch_no is not None:
        rows.append(("批次号", report.batch_no))
    if report.pay_date is not None:
        rows.append(("发薪日期", report.pay_date.isoformat()))
    rows += [("记录总数（笔）", str(report.record_count)), ("总金额（元）", _money(report.total_amount)),
             ("手续费标准（元/笔）", _money(report.fee_per_payment)),
             ("预计手续费（元）", _money(report.expected_fee)), ("文件摘要（SHA-256）", report.digest),
             ("新增员工（人）", str(report.new_employees)),
             ("校验结果", "通过" if not report.errors_found else f"发现 {report.errors_found:,} 个错误")]
    return rows


def account_masked(account: str) -> str:
    """6222020200112233446 → "6222 **** **** 3446": enough to check, too little to copy."""
    return f"{account[:4]} **** **** {account[-4:]}" if len(account) > 8 else f"**** {account[-4:]}"


def _new_employee_lines(report: ValidationReport, english: bool) -> list[str]:
    if not report.new_employee_rows:
        return []
    lines = ["", "New employees (registered by the confirmation; check them):" if english
             else "新增员工（确认入库时一并登记，请核对）："]
    for row, name, account in report.new_employee_rows:
        lines.append(f"  row {row}  {name}  {account_masked(account)}" if english
                     else f"  第 {row} 行  {name}  {account_masked(account)}")
    more = report.new_employees - len(report.new_employee_rows)
    if more > 0:
        lines.append(f"  … and {more:,} more" if english else f"  …… 另有 {more:,} 人")
    return lines


def report_text(report: ValidationReport, language: str = "zh-hans") -> str:
    """Plain text for the screen and for printing; one error per line, as the user reads them."""
    english = language.startswith("en")
    lines = [f"{label}: {value}" if english else f"{label}：{value}" for label, value in _summary(report, english)]
    lines.extend(_new_employee_lines(report, english))
    if report.errors:
        lines.append("")
        lines.append("Errors:" if english else "错误明细：")
        lines.extend(f"  [{e.code}] {e.message(language)}" for e in report.errors)
    lines.extend(_more_lines(report, english))
    return "\n".join(lines) + "\n"


def _more_lines(report: ValidationReport, english: bool) -> list[str]:
    """Under a capped list: "… and 499,000 more of the same kinds", then the count per code."""
    if report.errors_more <= 0:
        return []
    more = report.errors_more
    lines = [f"  … and {more:,} more of the same kinds" if english else f"  …… 另有 {more:,} 条同类错误"]
    lines.extend(f"    {code}: {count:,}" for code, count in sorted(report.error_codes.items(),
                                                                  key=lambda item: (-item[1], item[0])))
    return lines


def report_csv(report: ValidationReport) -> bytes:
    """The report as a spreadsheet: UTF-8 with BOM (so Excel reads Chinese correctly), every
    text cell neutralized because names and remarks come from the enterprise's own sheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for (label_zh, value), (label_en, _) in zip(_summary(report, False), _summary(report, True), strict=True):
        writer.writerow([neutralize_cell(label_zh), neutralize_cell(label_en), neutralize_cell(value)])
    if report.new_employee_rows:
        writer.writerow([])
        writer.writerow(["新增员工 new employees", "行号 row", "户名 name", "账号 account"])
        for row, name, account in report.new_employee_rows:
            writer.writerow(["", str(row), neutralize_cell(name), account_masked(account)])
    writer.writerow([])
    writer.writerow(["行号 row", "字段 field", "错误代码 code", "说明", "message"])
    for e in report.errors:
        writer.writerow(["" if e.row is None else str(e.row),
                         neutralize_cell(f"{field_label(e.field)} {field_label(e.field, 'en')}".strip()),
                         neutralize_cell(e.code), neutralize_cell(e.zh), neutralize_cell(e.en)])
    if report.errors_more > 0:
        writer.writerow(["", "", "", *(line.strip() for line in (_more_lines(report, False)[0],
                                                                  _more_lines(report, True)[0]))])
        for code, count in sorted(report.error_codes.items(), key=lambda item: (-item[1], item[0])):
            writer.writerow(["", "", neutralize_cell(code), str(count), str(count)])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
