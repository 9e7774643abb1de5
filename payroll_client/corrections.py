"""更正 (issue 13): resubmit only the failed rows of a return file, never a row already paid.

文件回盘 writes, beside the return list, a correction sheet (``…_更正表.xlsx``) of the failed rows
with their reasons and empty columns for a corrected account or name. ``encrypt SHEET --corrects
RETURN_FILE`` reads it back against the same (bank-signed) return file and makes a payroll file of
version 2 holding only those rows, each linked to its original row; a row that is not among the
return file's failures is refused here already (payroll_exchange.corrections, as the bank does).
"""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass
from decimal import Decimal

from payroll_client import sheet_input
from payroll_exchange import sheets
from payroll_exchange.checks import account_normalize
from payroll_exchange.corrections import OriginalRow, correction_not_failed_error
from payroll_exchange.errors import RowError
from payroll_exchange.messages import row_error
from payroll_exchange.records import RESULT_PAID, PayrollRow, ReturnFile

COLUMNS = ["原序号 original seq", "证件类型 ID type", "证件号码 ID number", "户名 name", "账号 account",
           "金额 amount", "结果码 result", "失败原因 reason", "更正账号 corrected account", "更正户名 corrected name"]
# The payee as read by the ordinary payroll reader (1-based columns of COLUMNS).
PAYEE = sheets.ColumnMap(id_type=2, id_number=3, name=4, account=5, amount=6, first_row=2)
ORIGINAL_SEQ, CORRECTED_ACCOUNT, CORRECTED_NAME = 1, 9, 10


def people_made(*, conn: sqlite3.Connection, agreement_no: str, batch_no: str) -> dict[int, tuple[str, str]]:
    """seq → (ID type, ID number) of the payroll file made here for the batch (the return file
    carries no ID); empty when it was made on another PC, and the user fills the two columns."""
    made = conn.execute("SELECT id FROM files_made WHERE kind = 'payroll' AND agreement_no = ? AND batch_no = ? "
                        "ORDER BY id DESC LIMIT 1", (agreement_no, batch_no)).fetchone()
    if made is None:
        return {}
    return {r["seq"]: (r["id_type"], r["id_number"]) for r in conn.execute(
        "SELECT seq, id_type, id_number FROM payroll_rows_made WHERE file_id = ?", (made["id"],))}


def original_digest(*, conn: sqlite3.Connection, agreement_no: str, batch_no: str) -> str:
    made = conn.execute("SELECT digest FROM files_made WHERE kind = 'payroll' AND agreement_no = ? AND batch_no = ? "
                        "ORDER BY id DESC LIMIT 1", (agreement_no, batch_no)).fetchone()
    return made["digest"] if made else ""


def correction_sheet_xlsx(*, returned: ReturnFile, people: dict[int, tuple[str, str]]) -> bytes | None:
    """The failed rows as a sheet to correct; None when every row was paid."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    failed = [r for r in returned.rows if r.result_code != RESULT_PAID]
    if not failed:
        return None
    book = Workbook(write_only=True)
    sheet = book.create_sheet("更正 correction")
    sheet.append(COLUMNS)

    def text(value: str):  # noqa: ANN202 — a Text (@) cell: Excel keeps every digit of an account
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "@"
        return cell

    for r in failed:
        id_type, id_number = people.get(r.seq, ("", ""))
        sheet.append([r.seq, text(id_type), text(id_number), r.name, text(r.account), float(r.amount),
                      r.result_code, r.message, text(""), text("")])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class CorrectionRead:
    rows: list[PayrollRow]
    errors: list[RowError]
    info: sheets.SheetInfo


def correction_read(*, data: bytes, filename: str, returned: ReturnFile,
                    choice: sheet_input.SheetChoice) -> CorrectionRead:
    """The correction sheet's rows to pay: the corrected account or name where one is given, the
    original's otherwise, each with its original seq; every row checked against the return file."""
    read = sheet_input.payroll_read(data=data, filename=filename, columns=PAYEE, choice=choice)
    errors: list[RowError] = list(read.errors)
    _info, cells = sheet_input.sheet_open(data=data, filename=filename, choice=choice)
    by_row = dict(cells)
    originals = {r.seq: r for r in returned.rows}
    batch_no = returned.header.batch_no
    rows: list[PayrollRow] = []
    for r in read.rows:
        row = by_row.get(r.seq, [])

        def cell(column: int, row: list = row) -> str:
            value = row[column - 1] if len(row) >= column else None
            return (value or "").strip()

        seq_text = cell(ORIGINAL_SEQ)
        if not (seq_text.isascii() and seq_text.isdigit()):
            errors.append(row_error("original_seq_syntax", r.seq, "original_seq",
                                    f"原序号 {seq_text!r} 不是正整数。请使用文件回盘生成的更正表，不要修改原序号。",
                                    f"the original seq {seq_text!r} is not a whole number. Use the correction "
                                    "sheet 文件回盘 wrote; do not change the original seq."))
            continue
        original = originals.get(int(seq_text))
        if original is None or original.result_code == RESULT_PAID:
            errors.append(correction_not_failed_error(
                row=r.seq, original_batch_no=batch_no, original_seq=int(seq_text),
                result_code=None if original is None else original.result_code))
            continue
        account = cell(CORRECTED_ACCOUNT)
        name = cell(CORRECTED_NAME)
        rows.append(PayrollRow(seq=r.seq, account=account_normalize(account) if account else r.account,
                               name=name or r.name, amount=r.amount, id_type=r.id_type, id_number=r.id_number,
                               remark=f"更正 {batch_no} 第 {original.seq} 行"[:100], original_seq=original.seq))
    return CorrectionRead(rows=rows, errors=errors, info=read.info)


def originals_of(*, returned: ReturnFile) -> dict[int, OriginalRow]:
    return {r.seq: OriginalRow(amount=r.amount, result_code=r.result_code) for r in returned.rows}


def failed_total(*, returned: ReturnFile) -> Decimal:
    return sum((r.amount for r in returned.rows if r.result_code != RESULT_PAID), Decimal("0.00"))
