"""员工盘片 / 导入员工: the employee info file (add to or delete from the bank's registry).

Two ways in, as in the manual: rows typed by hand into a draft kept in the store (添加 / 删除,
then 完成), or a spreadsheet read by naming its columns. Both end the same way: check every row,
sign with the USB key, encrypt for the bank, write the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from payroll_client import sheet_input
from payroll_client.outputs import name_part, outputs_write
from payroll_client.payroll import signer_check
from payroll_client.progress import Progress
from payroll_client.store import SheetFacts, file_made_record, log_write, now_text, store_transaction
from payroll_exchange import checks, envelope, formats, pki, sheets
from payroll_exchange.errors import ExchangeError, RowError
from payroll_exchange.records import FORMAT_VERSION, AgreementPackage, EmployeeFile, EmployeeHeader, EmployeeRow

OPERATIONS = {"add": "新增", "delete": "删除"}
STEPS = ["读取 reading", "校验 checking", "签名加密 signing", "写文件 writing"]


@dataclass(frozen=True, slots=True)
class DraftRow:
    id: int
    id_type: str
    id_number: str
    name: str
    account: str


def _invalid(errors: list[RowError]) -> ExchangeError:
    return ExchangeError("employees_invalid", f"员工信息有 {len(errors)} 处错误, 未写入任何文件",
                         f"the employee info has {len(errors)} problem(s); nothing was written", errors=errors)


def employee_file_build(*, agreement: AgreementPackage, operation: str, rows: list[EmployeeRow]) -> EmployeeFile:
    if operation not in OPERATIONS:
        raise ExchangeError("operation_unknown", "操作类型须为 add(新增) 或 delete(删除)",
                            "the operation is add or delete")
    header = EmployeeHeader(format_version=FORMAT_VERSION, agreement_no=agreement.agreement_no,
                            payer_unit_no=agreement.payer_unit_no, operation=operation,  # type: ignore[arg-type]
                            record_count=len(rows))
    return EmployeeFile(header=header, rows=rows)


def draft_add(*, conn: sqlite3.Connection, agreement: AgreementPackage, id_type: str, id_number: str,
              name: str, account: str, today: date, by: str) -> DraftRow:
    """添加: one hand-typed row, checked at once so a typo is caught while the paper is at hand."""
    code = checks.id_type_parse(id_type) or id_type
    row = EmployeeRow(seq=1, id_type=code, id_number=id_number.strip(), name=name.strip(),
                      account=checks.account_normalize(account))
    errors = checks.employee_check(
        employees=employee_file_build(agreement=agreement, operation="add", rows=[row]), today=today)
    if errors:
        raise _invalid(errors)
    with store_transaction(conn=conn):
        # Checked inside the write transaction: two windows adding the same account cannot both pass.
        already = conn.execute("SELECT id, name FROM employee_draft WHERE agreement_no = ? AND account = ?",
                               (agreement.agreement_no, row.account)).fetchone()
        if already is not None:
            raise ExchangeError(
                "draft_account_duplicate",
                f"账号 {row.account} 已在草稿第 #{already['id']} 行 ({already['name']}), 未添加。"
                "同一账号在一个盘片中只能出现一次; 如需修改, 先删除该行 (employee-disk remove)",
                f"account {row.account} is already in the draft, row #{already['id']} ({already['name']}); "
                "nothing added. An account appears once in a file; to change it, remove that row first")
        cursor = conn.execute(
            "INSERT INTO employee_draft (agreement_no, id_type, id_number, name, account, added_by, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (agreement.agreement_no, row.id_type, row.id_number, row.name, row.account, by, now_text()))
        log_write(conn=conn, user_name=by, action="employee_draft_add", outcome="ok",
                  detail=f"agreement {agreement.agreement_no} row {cursor.lastrowid}")
    return DraftRow(id=int(cursor.lastrowid or 0), id_type=row.id_type, id_number=row.id_number,
                    name=row.name, account=row.account)


def draft_list(*, conn: sqlite3.Connection, agreement_no: str) -> list[DraftRow]:
    rows = conn.execute("SELECT * FROM employee_draft WHERE agreement_no = ? ORDER BY id", (agreement_no,))
    return [DraftRow(id=r["id"], id_type=r["id_type"], id_number=r["id_number"], name=r["name"],
                     account=r["account"]) for r in rows]


def draft_remove(*, conn: sqlite3.Connection, agreement_no: str, row_ids: list[int], by: str) -> int:
    """删除: the rows named by the numbers ``draft list`` shows; all of them or none."""
    with store_transaction(conn=conn):
        present = {r["id"] for r in conn.execute("SELECT id FROM employee_draft WHERE agreement_no = ?",
                                                 (agreement_no,))}
        missing = sorted(set(row_ids) - present)
        if missing:
            shown = "、".join(f"#{n}" for n in missing)
            raise ExchangeError("draft_row_unknown",
                                f"草稿中没有 {shown} 行, 未删除任何行。请用 employee-disk list 查看行号",
                                f"the draft has no row {', '.join(f'#{n}' for n in missing)}; nothing was removed. "
                                "See the row numbers with employee-disk list")
        removed = 0
        for row_id in sorted(set(row_ids)):
            removed += conn.execute("DELETE FROM employee_draft WHERE agreement_no = ? AND id = ?",
                                    (agreement_no, row_id)).rowcount
        log_write(conn=conn, user_name=by, action="employee_draft_remove", outcome="ok",
                  detail=f"agreement {agreement_no} rows {sorted(set(row_ids))}")
    return removed


Rows = tuple[list[EmployeeRow], list[RowError], SheetFacts | None]


def rows_from_draft(*, conn: sqlite3.Connection, agreement_no: str) -> Rows:
    rows = [EmployeeRow(seq=i, id_type=d.id_type, id_number=d.id_number, name=d.name, account=d.account)
            for i, d in enumerate(draft_list(conn=conn, agreement_no=agreement_no), 1)]
    if not rows:
        raise ExchangeError("draft_empty", "草稿中没有员工, 请先用 employee-disk add 添加",
                            "the draft is empty; add rows with employee-disk add first")
    return rows, [], None


def rows_from_sheet(*, data: bytes, filename: str, columns: sheets.ColumnMap,
                    choice: sheet_input.SheetChoice) -> Rows:
    read = sheet_input.employee_read(data=data, filename=filename, columns=columns, choice=choice)
    return read.rows, list(read.errors), sheet_input.facts_from(read.info, filename)


def employee_make(
    *,
    conn: sqlite3.Connection,
    operator: str,
    agreement: AgreementPackage,
    operation: str,
    rows: Callable[[], Rows],
    today: date,
    out_dir: Path,
    usbkey: Callable[[], pki.Identity],
    source: str,
) -> tuple[Path, EmployeeFile, str, SheetFacts | None]:
    """Check, sign, encrypt, write; ``source`` is "draft" (cleared once written) or "sheet"."""
    action = "employee_disk" if source == "draft" else "employee_import"
    with Progress(steps=STEPS) as progress:
        try:
            progress.step(name=STEPS[0])
            read, read_errors, facts = rows()
            employees = employee_file_build(agreement=agreement, operation=operation, rows=read)
            progress.step(name=STEPS[1])
            # Every problem at once: those of reading the sheet and those of the rules.
            errors = [*read_errors, *checks.employee_check(employees=employees, today=today)]
            if errors:
                raise _invalid(errors)
        except ExchangeError as exc:
            log_write(conn=conn, user_name=operator, action=action, outcome="refused",
                      detail=f"{exc.code} {len(exc.errors)} errors")
            raise
        with progress.paused():
            identity = usbkey()
        progress.step(name=STEPS[2])
        signer_check(identity=identity, agreement=agreement)
        plain = formats.employee_dump(employees)
        sealed = envelope.envelope_seal(payload=plain, kind="employees", signer=identity,
                                        recipient_cert=pki.cert_load_pem(agreement.bank_cert_pem))
        digest = formats.file_digest(plain)
        progress.step(name=STEPS[3])
        stamp = now_text()[:19].replace("-", "").replace(":", "").replace("T", "")
        name = f"EMP_{name_part(agreement.agreement_no)}_{operation}_{stamp}_{digest[:8]}.p7m"
        [path] = outputs_write(out_dir=out_dir, files={name: sealed})
    with store_transaction(conn=conn):
        file_made_record(conn=conn, kind="employees", agreement_no=agreement.agreement_no, operation=operation,
                         record_count=len(employees.rows), digest=digest, operator=operator, path=str(path),
                         sheet=facts)
        if source == "draft":
            conn.execute("DELETE FROM employee_draft WHERE agreement_no = ?", (agreement.agreement_no,))
        log_write(conn=conn, user_name=operator, action=action, outcome="ok",
                  detail=f"agreement {agreement.agreement_no} {operation} count {len(employees.rows)} "
                         f"digest {digest}")
    return path, employees, digest, facts
