"""换人复核: what the reviewer sees before confirming with their password.

Not only totals: the reviewer checks what will be paid, as read: which file and worksheet,
which column was taken for each field (with its header text, so a shifted column shows), the
first 3 and last 2 rows, the hidden-row decision, count, amount, expected fee and the 5 largest
amounts. Amounts that look like something else (a 序号 column: 1, 2, 3 … n; one value copied
down; all under 10 yuan) are warned about here and again in the command's output.
"""

from __future__ import annotations

import heapq
import os
import sqlite3
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from payroll_client import sheet_input
from payroll_client.checklist import money_text
from payroll_client.store import payroll_last_paid
from payroll_exchange import changes, report, sheets
from payroll_exchange.records import AgreementPackage, PayrollFile, PayrollRow

FIRST_ROWS = 3
LAST_ROWS = 2
LARGEST = 5
SMALL_AMOUNT = Decimal("10")
FIELDS = [("name", "户名 name"), ("account", "账号 account"), ("amount", "金额 amount"),
          ("id_type", "证件类型 ID type"), ("id_number", "证件号码 ID number"), ("remark", "备注 remark")]


@dataclass(frozen=True, slots=True)
class AmountWarning:
    code: str
    zh: str
    en: str


def amount_warnings(*, amounts: list[Decimal]) -> list[AmountWarning]:
    """Amount columns that are probably not the amounts: in the order of the rows."""
    warnings: list[AmountWarning] = []
    n = len(amounts)
    # Whole-list comparisons in C: a generator here, and a set of 100k fresh Decimals (each hashed
    # once), cost ~30 ms each on bench_client's 100k rows.
    if n >= 3 and list(map(Decimal.to_integral_value, amounts)) == amounts:
        first = amounts[0]
        if all(a == first + i for i, a in enumerate(amounts)):
            warnings.append(AmountWarning(
                "amount_sequence", f"金额从 {first:.0f} 起逐行加 1 ({first:.0f}, {first + 1:.0f}, … "
                f"{amounts[-1]:.0f}): 是否选错了列 (序号列)? 请核对 --amount-col",
                f"the amounts run {first:.0f}, {first + 1:.0f}, … {amounts[-1]:.0f}: is this the "
                "sequence column? Check --amount-col"))
    if n >= 2 and amounts.count(amounts[0]) == n:  # all equal: the set of them would have one member
        warnings.append(AmountWarning(
            "amount_all_equal", f"全部 {n} 笔金额相同 ({money_text(amounts[0])} 元): 请确认不是复制错了",
            f"all {n} amounts are equal ({money_text(amounts[0])} yuan): make sure this is intended"))
    if n >= 1 and max(amounts) < SMALL_AMOUNT:
        warnings.append(AmountWarning(
            "amount_all_small", f"全部金额都小于 {SMALL_AMOUNT} 元: 是否选错了列, 或金额单位不是元?",
            f"every amount is under {SMALL_AMOUNT} yuan: is it the wrong column, or not in yuan?"))
    return warnings


def _row_line(row: PayrollRow) -> str:
    remark = f"  {row.remark}" if row.remark else ""
    return f"    第 {row.seq} 行 row {row.seq}: {row.name}  {row.account}  {money_text(row.amount)}{remark}"


def _columns_lines(*, columns: sheets.ColumnMap, info: sheets.SheetInfo | None) -> list[str]:
    lines = ["  列 columns (列号: 表头 column: header):"]
    for field, label in FIELDS:
        column = getattr(columns, field, None)
        if not column:
            continue
        header = sheet_input.header_of(info, column)
        shown = f"“{header}”" if header else "(无表头 no header)"
        lines.append(f"    {label}: 第 {column} 列 column {column} {shown}")
    return lines


def review_lines(*, payroll: PayrollFile, agreement: AgreementPackage, columns: sheets.ColumnMap,
                 info: sheets.SheetInfo | None, filename: str, warnings: list[AmountWarning]) -> list[str]:
    h = payroll.header
    rows = payroll.rows
    fee = report.expected_fee(fee_per_payment=agreement.fee_per_payment, count=h.record_count)
    sheet_zh, sheet_en = sheet_input.sheet_text(info, filename)
    hidden_zh, hidden_en = sheet_input.hidden_text(info)
    lines = [
        "请复核人查看将要发放的内容。Reviewer: check what will be paid.",
        f"  企业 company: {agreement.company_name}  协议 agreement: {h.agreement_no}",
        f"  批次号 batch: {h.batch_no}  发薪日期 pay date: {h.pay_date.isoformat()}  用途 purpose: {h.purpose}",
        f"  读取 read: {sheet_zh}" + (f" | {sheet_en}" if sheet_en != sheet_zh else ""),
    ]
    if info is not None and info.note_zh:
        lines.append(f"  注意 note: {info.note_zh} | {info.note_en}")
    if info is not None:
        lines.append(f"  隐藏行 hidden rows: {hidden_zh} | {hidden_en}")
    lines += _columns_lines(columns=columns, info=info)
    if len(rows) <= FIRST_ROWS + LAST_ROWS:
        lines.append(f"  全部 {len(rows)} 行 all rows, as read:")
        lines += [_row_line(r) for r in rows]
    else:
        lines.append(f"  前 {FIRST_ROWS} 行 first rows, as read:")
        lines += [_row_line(r) for r in rows[:FIRST_ROWS]]
        lines.append(f"    … ({len(rows) - FIRST_ROWS - LAST_ROWS} 行 rows)")
        lines.append(f"  最后 {LAST_ROWS} 行 last rows:")
        lines += [_row_line(r) for r in rows[-LAST_ROWS:]]
    lines += [
        f"  总笔数 count: {h.record_count}",
        f"  总金额 total: {money_text(h.total_amount)} 元",
        f"  预计手续费 expected fee: {money_text(fee)} 元",
        f"  金额最大的 {min(LARGEST, len(rows))} 笔 largest amounts:",
    ]
    # nsmallest is sorted(...)[:LARGEST] without sorting 100k rows to keep five
    largest = heapq.nsmallest(LARGEST, rows, key=lambda r: (-r.amount, r.seq))
    lines += [_row_line(r) for r in largest]
    lines += warnings_lines(warnings=warnings)
    return lines


def warnings_lines(*, warnings: list[AmountWarning]) -> list[str]:
    return [f"  ! 警告 warning [{w.code}]: {w.zh} | {w.en}" for w in warnings]


CHANGE_THRESHOLD_ENV = "PAYROLL_CHANGE_THRESHOLD_PERCENT"  # the platform's setting of the same name


def change_threshold() -> Decimal:
    raw = os.environ.get(CHANGE_THRESHOLD_ENV, "").strip()
    try:
        value = Decimal(raw) if raw else changes.DEFAULT_THRESHOLD_PERCENT
    except InvalidOperation:
        value = changes.DEFAULT_THRESHOLD_PERCENT
    return value if value.is_finite() and value >= 0 else changes.DEFAULT_THRESHOLD_PERCENT


def review_changes(*, conn: sqlite3.Connection, payroll: PayrollFile) -> changes.Changes | None:
    """变动提示 against the last paid file made here (paid: its return file was decrypted here)."""
    h = payroll.header
    last = payroll_last_paid(conn=conn, agreement_no=h.agreement_no, batch_no=h.batch_no)
    if last is None:
        return None
    made, previous_rows = last
    return changes.payroll_changes(rows=payroll.rows, batch_no=h.batch_no, previous_rows=previous_rows,
                                   previous_batch_no=made["batch_no"], threshold_percent=change_threshold())


def changes_review_lines(*, conn: sqlite3.Connection, payroll: PayrollFile) -> list[str]:
    """The reviewer's 变动提示, in both languages; it never stops the file, it makes the reviewer look."""
    found = review_changes(conn=conn, payroll=payroll)
    if found is None:
        return ["  变动提示 changes: 本机没有该协议已发放（已回盘）的文件可比较 "
                "no paid file of this agreement made here to compare with"]
    zh = changes.changes_text(found, language="zh-hans")
    en = changes.changes_text(found, language="en")
    lines = ["  变动提示 changes since the last paid file:"]
    lines += [f"    {line}" for line in zh]
    lines += [f"    {line}" for line in en]
    return lines
