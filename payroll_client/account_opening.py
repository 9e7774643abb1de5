"""批量开户: employees without an account yet, from a sheet to a signed, encrypted request file;
and the bank's result file back to the list of new accounts.

The request follows the employee file's path (check every row, nothing written on any error,
sign with the USB key, encrypt for the bank). The result is read like a return file: decrypted
with the USB key, accepted only when signed by the bank certificate of the agreement it names,
and written out as an employee sheet in the manual's column order (证件类型, 证件号码, 姓名, 账号)
that ``employee-import`` reads with its default columns.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from payroll_client import sheet_input
from payroll_client.agreements import agreements_list
from payroll_client.keys import trust_store
from payroll_client.outputs import name_part, outputs_write
from payroll_client.payroll import signer_check
from payroll_client.progress import Progress
from payroll_client.store import SheetFacts, file_made_record, log_write, now_text, store_transaction
from payroll_exchange import account_opening as ao
from payroll_exchange import checks, envelope, formats, pki, sheets
from payroll_exchange.errors import ExchangeError, RowError
from payroll_exchange.messages import row_error
from payroll_exchange.records import FORMAT_VERSION, AgreementPackage

ACTION = "account_opening"
RESULT_ACTION = "account_opening_result"
STEPS = ["读取 reading", "校验 checking", "签名加密 signing", "写文件 writing"]
EXCEL_DIGITS = 15  # Excel keeps 15 significant digits of a number cell
# The employee sheet of the manual: what employee-import reads without column options.
ACCOUNTS_COLUMNS = ["证件类型", "证件号码", "姓名", "账号"]
REFUSED_COLUMNS = ["序号 seq", "证件类型 ID type", "证件号码 ID number", "姓名 name", "结果码 result", "说明 message"]
_ID_TABLE = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx", " \u3000\t\xa0")


@dataclass(frozen=True, slots=True)
class OpeningColumns:
    """1-based columns of the sheet; the defaults follow the manual's employee sheet with the
    mobile phone where the account would be. ``remark`` 0 or None: no remark column."""

    id_type: int = 1
    id_number: int = 2
    name: int = 3
    phone: int = 4
    remark: int | None = None
    first_row: int = 2
    record_count: int | None = None


# ---------------------------------------------------------------- the sheet


def _cell(cells: list[str | None], column: int | None) -> str | None:
    if not column or column > len(cells):
        return None
    return cells[column - 1]


def _text(cell: str | None, row: int, field: str, errors: list[RowError]) -> str | None:
    if isinstance(cell, sheets.FormulaText):
        errors.append(row_error("cell_formula", row, field,
                                "是没有计算结果的公式。请在 Excel 中复制后“选择性粘贴 → 数值”，保存后重新导入。",
                                "is a formula with no calculated value. In Excel, copy and Paste Special → "
                                "Values, save, and import again."))
        return None
    return (cell or "").strip()


def _digits(cell: str | None, row: int, field: str, errors: list[RowError]) -> str | None:
    """ID number and phone cells: a number cell is exact only up to 15 digits (Excel)."""
    text = _text(cell, row, field, errors)
    if text is None:
        return None
    upper = text.upper()
    lost = (isinstance(cell, sheets.NumericText) and not (text.isdigit() and len(text) <= EXCEL_DIGITS)) or (
        "E+" in upper and upper.replace("E+", "", 1).replace(".", "", 1).isdigit())
    if lost:
        errors.append(row_error("number_lost_digits", row, field,
                                f"表格把 {text} 存成了数字，超过 15 位的部分已丢失。"
                                "请把该列设为“文本”格式，重新输入后再导入。",
                                f"the sheet stored {text} as a number, and digits past the 15th are lost. Format "
                                "the column as Text, type the numbers again, and import again."))
        return None
    return text


_OPENING_FIELDS = (("id_type", "证件类型", "ID type"), ("id_number", "证件号码", "ID number"), ("name", "姓名", "name"),
                   ("phone", "手机号码", "mobile phone"), ("remark", "备注", "remark"))


def _hidden_columns_check(*, columns: OpeningColumns, info: sheets.SheetInfo) -> None:
    """A column the sheet reads but the user cannot see is refused, as for payroll sheets."""
    if not info.hidden_columns or info.hidden_rows_decision == "include":
        return
    hidden = set(info.hidden_columns)
    found = [(column, zh, en) for field, zh, en in _OPENING_FIELDS if (column := getattr(columns, field)) in hidden]
    if found:
        raise ExchangeError(
            "sheet_hidden_columns",
            "无法读取表格：" + "、".join(f"第 {c} 列（{zh}）" for c, zh, _ in found)
            + "被隐藏，屏幕上看不到，却会被读取。请在 Excel 中取消隐藏该列并核对后重新导入"
            "（或用“--hidden-rows include”照常读取）。",
            "cannot read the spreadsheet: " + ", ".join(f"column {c} ({en})" for c, _, en in found)
            + " is hidden: not on screen, yet it would be read. Unhide it in Excel, check it and import again "
            "(or give --hidden-rows include to read it).")


def rows_from_sheet(*, data: bytes, filename: str, columns: OpeningColumns,
                    choice: sheet_input.SheetChoice | None = None,
                    ) -> tuple[list[ao.AccountOpeningRow], list[RowError], SheetFacts]:
    """Rows (``seq`` = the sheet row the user sees), the problems of reading them, and how the
    sheet was read."""
    rows: list[ao.AccountOpeningRow] = []
    errors: list[RowError] = []
    found = 0
    info, numbered = sheet_input.sheet_open(data=data, filename=filename, choice=choice or sheet_input.SheetChoice())
    _hidden_columns_check(columns=columns, info=info)
    for number, cells in numbered:
        if number < columns.first_row:
            continue
        found += 1
        id_type_text = _text(_cell(cells, columns.id_type), number, "id_type", errors)
        id_number = _digits(_cell(cells, columns.id_number), number, "id_number", errors)
        name = _text(_cell(cells, columns.name), number, "name", errors)
        phone = _digits(_cell(cells, columns.phone), number, "mobile", errors)
        remark = _text(_cell(cells, columns.remark), number, "remark", errors)
        if id_type_text is None or id_number is None or name is None or phone is None or remark is None:
            continue
        id_type = checks.id_type_parse(id_type_text) or id_type_text
        if id_type == "0":
            id_number = id_number.translate(_ID_TABLE)
        rows.append(ao.AccountOpeningRow(number, id_type, id_number, name, ao.mobile_normalize(phone), remark))
    if columns.record_count is not None and columns.record_count != found:
        errors.append(row_error("record_count_mismatch", None, "record_count",
                                f"填写的记录总数为 {columns.record_count}，表格中从第 {columns.first_row} 行起实际有 "
                                f"{found} 行数据。请核对记录总数和起始行号。",
                                f"you entered {columns.record_count} records, the sheet has {found} rows of data "
                                f"from row {columns.first_row}. Check the record count and the first row."))
    return rows, errors, sheet_input.facts_from(info, filename)


# ---------------------------------------------------------------- the request


def _invalid(errors: list[RowError]) -> ExchangeError:
    return ExchangeError("account_opening_invalid", f"开户信息有 {len(errors)} 处错误, 未写入任何文件",
                         f"the account opening sheet has {len(errors)} problem(s); nothing was written",
                         errors=errors)


def _term_problem(agreement: AgreementPackage, today: date) -> list[RowError]:
    if agreement.start_date <= today <= agreement.end_date:
        return []
    return [row_error("agreement_term", None, "agreement_no",
                      f"今天 {today} 不在协议期限 {agreement.start_date} ~ {agreement.end_date} 内, 银行将拒收; "
                      "请联系银行续签协议",
                      f"today, {today}, is outside the agreement term {agreement.start_date} to "
                      f"{agreement.end_date}; the bank would refuse the file. Ask the bank to renew the agreement")]


def request_prepare(*, agreement: AgreementPackage, rows: list[ao.AccountOpeningRow], read_errors: list[RowError],
                    today: date) -> ao.AccountOpeningFile:
    """The request file, or every problem at once (those of reading and those of the rules)."""
    header = ao.AccountOpeningHeader(format_version=FORMAT_VERSION, agreement_no=agreement.agreement_no,
                                     payer_unit_no=agreement.payer_unit_no, record_count=len(rows))
    request = ao.AccountOpeningFile(header=header, rows=rows)
    errors = [*read_errors, *ao.account_opening_check(request=request, today=today),
              *_term_problem(agreement, today)]
    if errors:
        raise _invalid(errors)
    return request


def request_make(
    *,
    conn: sqlite3.Connection,
    operator: str,
    agreement: AgreementPackage,
    data: bytes,
    filename: str,
    columns: OpeningColumns,
    today: date,
    out_dir: Path,
    usbkey: Callable[[], pki.Identity],
    choice: sheet_input.SheetChoice | None = None,
) -> tuple[Path, ao.AccountOpeningFile, str, SheetFacts]:
    """Read, check, sign, encrypt, write. Any refusal writes nothing and is logged."""
    with Progress(steps=STEPS) as progress:
        try:
            progress.step(name=STEPS[0])
            rows, read_errors, facts = rows_from_sheet(data=data, filename=filename, columns=columns, choice=choice)
            progress.step(name=STEPS[1])
            request = request_prepare(agreement=agreement, rows=rows, read_errors=read_errors, today=today)
        except ExchangeError as exc:
            log_write(conn=conn, user_name=operator, action=ACTION, outcome="refused",
                      detail=f"{exc.code} {len(exc.errors)} errors")
            raise
        with progress.paused():
            identity = usbkey()
        progress.step(name=STEPS[2])
        signer_check(identity=identity, agreement=agreement)
        plain = ao.account_opening_dump(request)
        file_id = f"AO{uuid.uuid4().hex}"
        sealed = envelope.envelope_seal(payload=plain, kind=ao.ENVELOPE_KIND_REQUEST, signer=identity,
                                        recipient_cert=pki.cert_load_pem(agreement.bank_cert_pem), file_id=file_id)
        digest = formats.file_digest(plain)
        progress.step(name=STEPS[3])
        stamp = now_text()[:19].replace("-", "").replace(":", "").replace("T", "")
        name = f"AO_{name_part(agreement.agreement_no)}_{stamp}_{digest[:8]}.p7m"
        [path] = outputs_write(out_dir=out_dir, files={name: sealed})
    with store_transaction(conn=conn):
        file_made_record(conn=conn, kind=ACTION, agreement_no=agreement.agreement_no, operation="open",
                         record_count=len(request.rows), digest=digest, operator=operator, path=str(path),
                         sheet=facts)
        log_write(conn=conn, user_name=operator, action=ACTION, outcome="ok",
                  detail=f"agreement {agreement.agreement_no} count {len(request.rows)} file-id {file_id} "
                         f"digest {digest}")
    return path, request, digest, facts


# ---------------------------------------------------------------- the result


def result_open(*, conn: sqlite3.Connection, data: bytes, identity: pki.Identity,
                now: datetime) -> tuple[ao.AccountOpeningResultFile, AgreementPackage, str]:
    """Decrypt and verify; the signer must be the bank certificate of the agreement named inside."""
    opened = envelope.envelope_open(data=data, recipient=identity, trust=trust_store(conn=conn), now=now,
                                    expected_kind=ao.ENVELOPE_KIND_RESULT)
    result, errors = ao.account_opening_result_load(opened.payload)
    agreement = next((a for a in agreements_list(conn=conn) if a.agreement_no == result.header.agreement_no), None)
    if agreement is None:
        raise ExchangeError("agreement_unknown", f"开户结果文件属于未导入的协议 {result.header.agreement_no}",
                            f"the result file belongs to agreement {result.header.agreement_no}, which is not "
                            "imported")
    if pki.cert_fingerprint(opened.signer) != pki.cert_fingerprint(pki.cert_load_pem(agreement.bank_cert_pem)):
        raise ExchangeError("result_signer", "开户结果文件不是由协议中的银行证书签名的, 已拒绝",
                            "the result file was not signed by the bank certificate of the agreement; refused")
    errors += ao.account_opening_result_check(result=result)
    if errors:
        raise ExchangeError("result_invalid", "开户结果文件内容有误, 请联系银行",
                            "the result file's content is damaged; contact the bank", errors=errors)
    return result, agreement, opened.digest


def _cells(values: list[object]) -> list[object]:
    # Names and messages come from outside: neutralize anything a spreadsheet would run.
    return [formats.neutralize_cell(v) if isinstance(v, str) else v for v in values]


def accounts_rows(*, result: ao.AccountOpeningResultFile) -> list[list[object]]:
    return [_cells([r.id_type, r.id_number, r.name, r.account])
            for r in result.rows if r.result_code == ao.RESULT_OPENED]


def refused_rows(*, result: ao.AccountOpeningResultFile) -> list[list[object]]:
    return [_cells([r.seq, r.id_type, r.id_number, r.name, r.result_code, r.message])
            for r in result.rows if r.result_code != ao.RESULT_OPENED]


def csv_bytes(*, header: list[str], rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel then shows the Chinese


def xlsx_bytes(*, title: str, header: list[str], rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(header)
    for row in rows:
        # Accounts and ID numbers are text cells in Text (@) format: as numbers Excel would round them.
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.number_format = "@"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def result_make(*, conn: sqlite3.Connection, operator: str, data: bytes, now: datetime, out_dir: Path,
                usbkey: Callable[[], pki.Identity]) -> tuple[list[Path], ao.AccountOpeningResultFile]:
    identity = usbkey()
    try:
        result, agreement, digest = result_open(conn=conn, data=data, identity=identity, now=now)
    except ExchangeError as exc:
        log_write(conn=conn, user_name=operator, action=RESULT_ACTION, outcome="refused", detail=exc.code)
        raise
    h = result.header
    stem = f"AOR_{name_part(h.agreement_no)}_{name_part(h.request_file_id)[:12]}"
    opened = accounts_rows(result=result)
    files = {
        f"{stem}_新开账户.csv": csv_bytes(header=ACCOUNTS_COLUMNS, rows=opened),
        f"{stem}_新开账户.xlsx": xlsx_bytes(title="新开账户", header=ACCOUNTS_COLUMNS, rows=opened),
    }
    refused = refused_rows(result=result)
    if refused:
        files[f"{stem}_未开户.csv"] = csv_bytes(header=REFUSED_COLUMNS, rows=refused)
    paths = outputs_write(out_dir=out_dir, files=files)
    with store_transaction(conn=conn):
        file_made_record(conn=conn, kind=RESULT_ACTION, agreement_no=h.agreement_no, operation="result",
                         record_count=len(result.rows), digest=digest, operator=operator, path=str(paths[0]))
        log_write(conn=conn, user_name=operator, action=RESULT_ACTION, outcome="ok",
                  detail=f"agreement {agreement.agreement_no} request {h.request_file_id} opened {h.opened_count} "
                         f"refused {h.refused_count}")
    return paths, result
