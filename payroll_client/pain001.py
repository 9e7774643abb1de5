"""文件加密 of an ISO 20022 pain.001.001.09 exported by the company's ERP (issue 14): the same job as
for a sheet — check every row, 换人复核, sign with the USB key and encrypt for the bank, checklist —
with the XML itself as the payload (envelope kind ``pain001``), so the bank reads the same bytes
whose digest the checklist prints. The batch number and pay date come from the file (PmtInfId,
ReqdExctnDt); the file carries no 核对码, so the kiosk confirms it by the checklist's signed QR alone
(its code field empty)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from payroll_client import sheet_input
from payroll_client.checklist import Checklist
from payroll_client.outputs import outputs_write
from payroll_client.payroll import (
    PayrollRequest,
    Prepared,
    Sealed,
    batch_check,
    payroll_outputs,
    reviewer_verify,
    signer_check,
    term_check,
)
from payroll_client.review import amount_warnings
from payroll_client.store import file_made_record, log_write, payroll_rows_record, store_transaction
from payroll_client.users import User
from payroll_exchange import checkcode, checks, envelope, formats, pki, report, sheets
from payroll_exchange.errors import ExchangeError
from payroll_exchange.iso20022 import pain001_read
from payroll_exchange.records import AgreementPackage

KIND = "pain001"
XML_INFO = sheets.SheetInfo(kind="xml", kind_zh="ISO 20022 pain.001.001.09 XML 文件", kind_en="ISO 20022 pain.001 XML",
                            sheet=None, encoding="utf-8", hidden_rows=(), hidden_rows_decision="", headers={})
ID_FIELDS = ("id_type", "id_number")


def is_pain001(*, filename: str, data: bytes) -> bool:
    """An .xml file, or one that opens with an XML declaration or a Document element."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return filename.lower().endswith(".xml") or head.startswith((b"<?xml", b"<Document"))


@dataclass
class Pain001Request:
    data: bytes
    filename: str
    agreement: AgreementPackage
    today: object  # date
    reuse_batch: bool = False


def pain001_prepare(*, request: Pain001Request) -> Prepared:
    """Read and check the XML; raise with every problem, or return it as the payroll it pays. A row
    without a creditor ID passes here: the bank takes it from its employee registry (and refuses a
    new employee without one)."""
    a = request.agreement
    payroll, errors, _info = pain001_read(request.data, agreement_no=a.agreement_no, payer_unit_no=a.payer_unit_no,
                                          settlement_account=a.settlement_account)
    no_id = {r.seq for r in payroll.rows if not r.id_type and not r.id_number}
    checked = checks.payroll_check(payroll=payroll, today=request.today, single_limit=a.single_limit)
    errors = [*errors, *(e for e in checked if not (e.row in no_id and e.field in ID_FIELDS))]
    errors += term_check(agreement=a, pay_date=payroll.header.pay_date, today=request.today)
    if errors:
        raise ExchangeError("payroll_invalid", f"pain.001 文件有 {len(errors)} 处错误, 未写入任何文件",
                            f"the pain.001 file has {len(errors)} problem(s); nothing was written", errors=errors)
    return Prepared(payroll=payroll, info=XML_INFO, warnings=amount_warnings(amounts=[r.amount for r in payroll.rows]))


def pain001_seal(*, prepared: Prepared, data: bytes, identity: pki.Identity, agreement: AgreementPackage) -> Sealed:
    signer_check(identity=identity, agreement=agreement)
    sealed = envelope.envelope_seal(payload=data, kind=KIND, signer=identity,
                                    recipient_cert=pki.cert_load_pem(agreement.bank_cert_pem))
    digest = formats.file_digest(data)
    h = prepared.payroll.header
    facts = checkcode.ChecklistFacts(
        agreement_no=h.agreement_no, batch_no=h.batch_no, pay_date=h.pay_date, record_count=h.record_count,
        total_amount=h.total_amount, digest=digest, code="",
        expected_fee=report.expected_fee(fee_per_payment=agreement.fee_per_payment, count=h.record_count))
    return Sealed(plain=data, sealed=sealed, digest=digest, qr=checkcode.qr_text(facts=facts, key=identity.key))


def pain001_make(*, conn: sqlite3.Connection, operator: User, request: Pain001Request, out_dir: Path,
                 review: Callable[[Prepared], tuple[str, str]],
                 usbkey: Callable[[], pki.Identity]) -> tuple[list[Path], Checklist, Prepared]:
    """The whole 文件加密 job for a pain.001; any refusal writes nothing."""
    try:
        prepared = pain001_prepare(request=request)
    except ExchangeError as exc:
        log_write(conn=conn, user_name=operator.name, action="encrypt", outcome="refused",
                  detail=f"pain001 {exc.code} {len(exc.errors)} errors")
        raise
    h = prepared.payroll.header
    batch_check(conn=conn, operator=operator, request=PayrollRequest(
        data=b"", filename=request.filename, columns=None, agreement=request.agreement,  # type: ignore[arg-type]
        pay_date=h.pay_date, batch_no=h.batch_no, purpose=h.purpose, today=request.today,
        reuse_batch=request.reuse_batch))
    name, password = review(prepared)
    reviewer = reviewer_verify(conn=conn, operator=operator, name=name, password=password)
    sealed = pain001_seal(prepared=prepared, data=request.data, identity=usbkey(), agreement=request.agreement)
    files, checklist = payroll_outputs(prepared=prepared, sealed=sealed, agreement=request.agreement,
                                       operator=operator.name, reviewer=reviewer.name, filename=request.filename)
    paths = outputs_write(out_dir=out_dir, files=files)
    with store_transaction(conn=conn):
        file_id = file_made_record(conn=conn, kind="payroll", agreement_no=h.agreement_no, batch_no=h.batch_no,
                                   pay_date=h.pay_date.isoformat(), record_count=h.record_count,
                                   total_amount=f"{h.total_amount:.2f}", digest=sealed.digest,
                                   operator=operator.name, reviewer=reviewer.name, path=str(paths[0]),
                                   sheet=sheet_input.facts_from(XML_INFO, request.filename))
        payroll_rows_record(conn=conn, file_id=file_id, rows=prepared.payroll.rows)
        log_write(conn=conn, user_name=operator.name, action="encrypt", outcome="ok",
                  detail=f"pain001 agreement {h.agreement_no} batch {h.batch_no} count {h.record_count} "
                         f"total {h.total_amount:.2f} digest {sealed.digest} reviewer {reviewer.name}")
    return paths, checklist, prepared
