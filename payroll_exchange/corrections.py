"""Corrections (更正, issue 13): a payroll file of version 2 pays again only the failed rows of an
earlier batch, each row naming the original row. The client checks it against the return file's
failed rows before it writes anything; the platform checks it again against its stored rows and a
database constraint (one effective correction per original row) makes a second payment impossible.

Pure: no Django; the same checks and messages on both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from payroll_exchange.errors import RowError
from payroll_exchange.messages import row_error
from payroll_exchange.records import RESULT_PAID, PayrollFile


@dataclass(frozen=True, slots=True)
class OriginalRow:
    """What a correction row is checked against: the original row's amount and result code
    (``""`` while the original batch is not paid yet)."""

    amount: Decimal
    result_code: str


def correction_not_failed_error(*, row: int, original_batch_no: str, original_seq: int,
                                result_code: str | None) -> RowError:
    """The row names an original row that does not exist, was paid, or was not paid yet."""
    where_zh, where_en = f"原批次 {original_batch_no} 第 {original_seq} 行", (
        f"row {original_seq} of the original batch {original_batch_no}")
    if result_code is None:
        zh, en = f"{where_zh}不存在。", f"{where_en} does not exist."
        code = "correction_row_unknown"
    elif result_code == RESULT_PAID:
        zh, en = f"{where_zh}已发放成功，不能再次发放。", f"{where_en} was paid; it cannot be paid again."
        code = "correction_row_paid"
    else:
        zh, en = f"{where_zh}尚未发放，不能更正。", f"{where_en} has not been paid yet; it cannot be corrected."
        code = "correction_row_not_failed"
    return row_error(code, row, "original_seq", zh + "更正文件只能包含回盘文件中失败的行，请删除此行后重新制作。",
                     en + " A correction may hold only the failed rows of the return file; remove this row "
                     "and make the file again.")


def correction_taken_error(*, row: int, original_batch_no: str, original_seq: int, by_batch_no: str) -> RowError:
    return row_error(
        "correction_row_taken", row, "original_seq",
        f"原批次 {original_batch_no} 第 {original_seq} 行已由更正批次 {by_batch_no} 重新发放，不能再次发放。"
        "请删除此行；若那份更正的这一行又失败了，请用它的回盘文件制作更正。",
        f"row {original_seq} of the original batch {original_batch_no} is already paid again by the correction "
        f"batch {by_batch_no}; it cannot be paid twice. Remove this row; if that correction's row failed too, "
        "correct it from that correction's return file.")


def correction_check(*, payroll: PayrollFile, originals: Mapping[int, OriginalRow]) -> list[RowError]:
    """Every problem of a correction file against the original batch's rows (seq → row): a row
    named twice, a row that was not a failure, an amount other than the original's."""
    h = payroll.header
    errors: list[RowError] = []
    if h.original_batch_no == h.batch_no:
        errors.append(row_error("correction_same_batch", None, "batch_no",
                                f"更正文件须使用新的批次号，不能与原批次号 {h.original_batch_no} 相同。",
                                f"a correction needs a new batch number, not the original's {h.original_batch_no}."))
    seen: dict[int, int] = {}
    for r in payroll.rows:
        if r.original_seq in seen:
            errors.append(row_error(
                "correction_row_repeated", r.seq, "original_seq",
                f"原批次第 {r.original_seq} 行已在本文件第 {seen[r.original_seq]} 行更正，同一行只能更正一次。",
                f"original row {r.original_seq} is already corrected by row {seen[r.original_seq]} of this file; "
                "a row is corrected once."))
            continue
        seen[r.original_seq] = r.seq
        original = originals.get(r.original_seq)
        if original is None or original.result_code in ("", RESULT_PAID):
            errors.append(correction_not_failed_error(
                row=r.seq, original_batch_no=h.original_batch_no, original_seq=r.original_seq,
                result_code=None if original is None else original.result_code))
        elif r.amount.is_finite() and r.amount != original.amount:
            errors.append(row_error(
                "correction_amount_changed", r.seq, "amount",
                f"金额 {r.amount} 与原批次第 {r.original_seq} 行的 {original.amount} 不同。"
                "更正只重新发放失败行的原金额；其他金额请另做一份工资文件。",
                f"the amount {r.amount} differs from {original.amount} in original row {r.original_seq}. A "
                "correction pays a failed row's own amount again; pay other amounts in an ordinary payroll file."))
    return errors
