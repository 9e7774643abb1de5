"""文件回盘: decrypt and verify the bank's return file; write it out plain, with the return list.

The return file is encrypted for the enterprise's USB key and signed by the bank; the client
accepts it only when the signature chains to the imported root and the signer is the bank
certificate of the agreement the file names.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from payroll_client.agreements import agreements_list
from payroll_client.checklist import money_text, pdf_render
from payroll_client.keys import trust_store
from payroll_client.outputs import name_part, outputs_write
from payroll_client.store import file_made_record, log_write, store_transaction
from payroll_exchange import envelope, formats, pki
from payroll_exchange.errors import ExchangeError
from payroll_exchange.records import RESULT_PAID, AgreementPackage, ReturnFile

COLUMNS = ["序号 seq", "账号 account", "户名 name", "金额 amount", "结果码 result", "说明 message"]


def return_open(*, conn: sqlite3.Connection, data: bytes, identity: pki.Identity,
                now: datetime) -> tuple[ReturnFile, AgreementPackage, str]:
    opened = envelope.envelope_open(data=data, recipient=identity, trust=trust_store(conn=conn), now=now,
                                    expected_kind="return")
    returned, errors = formats.return_load(opened.payload)
    if errors:
        raise ExchangeError("return_invalid", "回盘文件内容有误, 请联系银行",
                            "the return file's content is damaged; contact the bank", errors=errors)
    agreement = next((a for a in agreements_list(conn=conn) if a.agreement_no == returned.header.agreement_no),
                     None)
    if agreement is None:
        raise ExchangeError("agreement_unknown", f"回盘文件属于未导入的协议 {returned.header.agreement_no}",
                            f"the return file belongs to agreement {returned.header.agreement_no}, "
                            "which is not imported")
    bank_fp = pki.cert_fingerprint(pki.cert_load_pem(agreement.bank_cert_pem))
    if pki.cert_fingerprint(opened.signer) != bank_fp:
        raise ExchangeError("return_signer", "回盘文件不是由协议中的银行证书签名的, 已拒绝",
                            "the return file was not signed by the bank certificate of the agreement; refused")
    return returned, agreement, opened.digest


def return_csv(*, returned: ReturnFile) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in returned.rows:
        # Names and messages come from outside: neutralize anything a spreadsheet would run.
        writer.writerow([r.seq, formats.neutralize_cell(r.account), formats.neutralize_cell(r.name),
                         f"{r.amount:.2f}", formats.neutralize_cell(r.result_code), formats.neutralize_cell(r.message)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def return_xlsx(*, returned: ReturnFile) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("回盘 return")
    sheet.append(COLUMNS)
    for r in returned.rows:
        # Accounts are text cells in a Text (@) column: as numbers, Excel would show a 19-digit card
        # number as 6.22202E+18 and keep only 15 digits of it, even after the user edits the cell.
        account = WriteOnlyCell(sheet, value=formats.neutralize_cell(r.account))
        account.number_format = "@"
        sheet.append([r.seq, account, formats.neutralize_cell(r.name),
                      float(r.amount), formats.neutralize_cell(r.result_code), formats.neutralize_cell(r.message)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def return_totals(*, returned: ReturnFile) -> dict[str, Decimal | int]:
    paid = [r for r in returned.rows if r.result_code == RESULT_PAID]
    failed = [r for r in returned.rows if r.result_code != RESULT_PAID]
    return {
        "success_count": len(paid), "success_amount": sum((r.amount for r in paid), Decimal("0.00")),
        "failure_count": len(failed), "failure_amount": sum((r.amount for r in failed), Decimal("0.00")),
    }


def return_answers(*, conn: sqlite3.Connection, returned: ReturnFile) -> str:
    """Which payroll file made on this PC the return file answers (信息查询's history), by the digest a
    version 2 return file carries; or that none did; or that a version 1 file does not say."""
    digest = returned.header.payroll_digest
    if not digest:
        return ("旧版回盘文件 (版本 1) 未注明所回复的工资文件摘要, 无法与本机记录比对 / a version 1 return file "
                "does not name the payroll file it answers")
    made = conn.execute("SELECT * FROM files_made WHERE kind = 'payroll' AND digest = ? ORDER BY id DESC LIMIT 1",
                        (digest,)).fetchone()
    if made is None:
        return (f"本机没有制作过摘要为 {digest[:16]}… 的工资文件 (可能由其他电脑制作) / no payroll file made on this "
                f"PC has the digest {digest[:16]}… (another PC may have made it)")
    return (f"对应本机 {made['made_at']} 制作的工资文件 {Path(made['path']).name} (批次 {made['batch_no']}, "
            f"制作 {made['operator']} 复核 {made['reviewer'] or '-'}) / answers the payroll file "
            f"{Path(made['path']).name} made on this PC")


def return_list_lines(*, returned: ReturnFile, agreement: AgreementPackage,
                      answers: str = "") -> list[tuple[str, str]]:
    h = returned.header
    digest = [("工资文件摘要 Payroll file digest", h.payroll_digest)] if h.payroll_digest else []
    answered = [("对应工资文件 Answers", answers)] if answers else []
    return [*digest, *answered,
        ("企业名称 Company", agreement.company_name),
        ("协议编号 Agreement", h.agreement_no),
        ("批次号 Batch", h.batch_no),
        *([("更正原批次 Corrects batch", h.original_batch_no)] if h.original_batch_no else []),
        ("发薪日期 Pay date", h.pay_date.isoformat()),
        ("成功笔数 Paid", str(h.success_count)),
        ("成功金额 Paid amount", money_text(h.success_amount)),
        ("失败笔数 Failed", str(h.failure_count)),
        ("失败金额 Failed amount", money_text(h.failure_amount)),
        ("手续费 Fee charged", money_text(h.fee_charged)),
    ]


def return_list_failures(*, returned: ReturnFile) -> list[str]:
    return [f"{r.seq}  {r.account}  {r.name}  {money_text(r.amount)}  {r.result_code}  {r.message}"
            for r in returned.rows if r.result_code != RESULT_PAID]


def return_list_text(*, returned: ReturnFile, agreement: AgreementPackage, answers: str = "") -> str:
    lines = ["回盘清单 (Return list)", "=" * 40]
    lines += [f"{label}: {value}" for label, value in return_list_lines(returned=returned, agreement=agreement,
                                                                        answers=answers)]
    failures = return_list_failures(returned=returned)
    lines += ["", f"失败明细 Failed rows ({len(failures)}): 序号 账号 户名 金额 结果码 原因"]
    lines += failures or ["(无 none)"]
    return "\n".join(lines) + "\n"


def return_make(*, conn: sqlite3.Connection, operator: str, data: bytes, now: datetime, out_dir: Path,
                usbkey: Callable[[], pki.Identity]) -> tuple[list[Path], ReturnFile]:
    identity = usbkey()
    try:
        returned, agreement, digest = return_open(conn=conn, data=data, identity=identity, now=now)
        totals = return_totals(returned=returned)
        h = returned.header
        stated = {"success_count": h.success_count, "success_amount": h.success_amount,
                  "failure_count": h.failure_count, "failure_amount": h.failure_amount}
        if totals != stated:
            raise ExchangeError("return_totals", "回盘文件的汇总与明细不符, 请联系银行",
                                "the return file's totals do not match its rows; contact the bank")
    except ExchangeError as exc:
        log_write(conn=conn, user_name=operator, action="return", outcome="refused", detail=exc.code)
        raise
    stem = f"RET_{name_part(h.agreement_no)}_{name_part(h.batch_no)}_{h.pay_date:%Y%m%d}"
    answers = return_answers(conn=conn, returned=returned)
    text = return_list_text(returned=returned, agreement=agreement, answers=answers)
    pdf = pdf_render(title="回盘清单", lines=return_list_lines(returned=returned, agreement=agreement,
                                                           answers=answers.split(" / ")[0]),
                     footer=["失败明细 Failed rows:", *return_list_failures(returned=returned)], stamp_box=False)
    files = {
        f"{stem}.csv": return_csv(returned=returned),
        f"{stem}.xlsx": return_xlsx(returned=returned),
        f"{stem}_回盘清单.txt": text.encode("utf-8"),
        f"{stem}_回盘清单.pdf": pdf,
    }
    # 更正表: the failed rows to correct, for `encrypt SHEET --corrects RETURN_FILE` (issue 13).
    from payroll_client.corrections import correction_sheet_xlsx, people_made

    sheet = correction_sheet_xlsx(returned=returned,
                                  people=people_made(conn=conn, agreement_no=h.agreement_no, batch_no=h.batch_no))
    if sheet is not None:
        files[f"{stem}_更正表.xlsx"] = sheet
    paths = outputs_write(out_dir=out_dir, files=files)
    with store_transaction(conn=conn):
        file_made_record(conn=conn, kind="return", agreement_no=h.agreement_no, batch_no=h.batch_no,
                         pay_date=h.pay_date.isoformat(), record_count=len(returned.rows),
                         total_amount=f"{h.success_amount:.2f}", digest=digest, operator=operator,
                         path=str(paths[0]))
        log_write(conn=conn, user_name=operator, action="return", outcome="ok",
                  detail=f"agreement {h.agreement_no} batch {h.batch_no} paid {h.success_count} "
                         f"failed {h.failure_count} answers {h.payroll_digest or '-'}")
    return paths, returned
