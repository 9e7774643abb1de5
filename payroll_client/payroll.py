"""文件加密: a payroll sheet becomes a signed, encrypted payroll file and its checklist.

Order of the manual: read and check every row (all errors at once, nothing written), the
operator's totals go to a second, different user who confirms with their own password (换人复核),
the USB key signs, the file is encrypted for the bank, and the checklist is printed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter
from pathlib import Path

from payroll_client import sheet_input
from payroll_client.checklist import Checklist, checklist_pdf, checklist_text, shanghai_time
from payroll_client.outputs import name_part, outputs_write
from payroll_client.progress import Progress
from payroll_client.review import AmountWarning, amount_warnings
from payroll_client.store import batch_used, file_made_record, log_write, payroll_rows_record, store_transaction
from payroll_client.users import User, user_authenticate
from payroll_exchange import checkcode, checks, clock, envelope, formats, pki, report, sheets
from payroll_exchange.columnar import cycle_collection_paused
from payroll_exchange.corrections import correction_check
from payroll_exchange.errors import ExchangeError, RowError
from payroll_exchange.messages import row_error
from payroll_exchange.records import (
    CURRENCY,
    FORMAT_VERSION,
    PAYROLL_CORRECTION_VERSION,
    AgreementPackage,
    PayrollFile,
    PayrollHeader,
    ReturnFile,
)

STEPS = ["读取 reading", "校验 checking", "复核 review", "签名加密 signing", "写文件 writing"]


@dataclass(frozen=True, slots=True)
class PayrollRequest:
    data: bytes
    filename: str
    columns: sheets.ColumnMap
    agreement: AgreementPackage
    pay_date: date
    batch_no: str
    purpose: str
    today: date
    choice: sheet_input.SheetChoice = sheet_input.SheetChoice()
    reuse_batch: bool = False
    # 更正 (encrypt --corrects RETURN_FILE): the decrypted return file whose failed rows the sheet
    # (文件回盘's 更正表) pays again, and the original payroll file's digest when made here.
    corrects: ReturnFile | None = None
    corrects_digest: str = ""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A checked payroll file, with what the reader said about the sheet and the amount warnings."""

    payroll: PayrollFile
    info: sheets.SheetInfo
    warnings: list[AmountWarning]


@dataclass(frozen=True, slots=True)
class Sealed:
    plain: bytes
    sealed: bytes
    digest: str
    qr: str = ""  # the checklist's QR text, signed by the same enterprise key as the file


def term_check(*, agreement: AgreementPackage, pay_date: date, today: date) -> list[RowError]:
    """The bank refuses a file outside the agreement's term; say so before the trip to the bank."""
    if agreement.start_date <= pay_date <= agreement.end_date and today <= agreement.end_date:
        return []
    return [row_error(
        "agreement_term", None, "pay_date",
        f"发薪日期 {pay_date} 不在协议期限 {agreement.start_date} ~ {agreement.end_date} 内, 请联系银行续签协议",
        f"pay date {pay_date} is outside the agreement term {agreement.start_date} to {agreement.end_date}; "
        "ask the bank to renew the agreement",
    )]


# The three steps of 文件加密 keep a whole sheet's rows alive; none of what they build holds a
# cycle, and CPython's collector walking those rows again and again cost ~7 % of bench_client's
# 100k-row encrypt (columnar.cycle_collection_paused: refcounting still frees everything).
@cycle_collection_paused()
def payroll_prepare(*, request: PayrollRequest, progress: Progress | None = None) -> Prepared:
    """Read the sheet and check every row; raise with every problem found, or return the file."""
    r = request
    if r.corrects is not None:
        from payroll_client.corrections import correction_read

        read = correction_read(data=r.data, filename=r.filename, returned=r.corrects, choice=r.choice)
    else:
        read = sheet_input.payroll_read(data=r.data, filename=r.filename, columns=r.columns, choice=r.choice)
    rows, errors = read.rows, list(read.errors)
    if progress:
        progress.step(name=STEPS[1])
    # filter and sum in C, in row order: the same total as a generator over the rows, without a
    # Python step per row (about 15 ms on 100k rows, bench_client).
    total = sum(filter(Decimal.is_finite, map(attrgetter("amount"), rows)), Decimal("0.00"))
    header = PayrollHeader(
        format_version=FORMAT_VERSION, agreement_no=r.agreement.agreement_no,
        payer_unit_no=r.agreement.payer_unit_no, batch_no=r.batch_no, pay_date=r.pay_date,
        currency=CURRENCY, record_count=len(rows), total_amount=total, purpose=r.purpose,
        check_code=checkcode.code_new(),  # 核对码: inside the encrypted file and on the checklist only
    )
    if r.corrects is not None:  # version 2: linked to the original batch and rows
        header.format_version = PAYROLL_CORRECTION_VERSION
        header.original_batch_no, header.original_digest = r.corrects.header.batch_no, r.corrects_digest
    payroll = PayrollFile(header=header, rows=rows)
    errors = [*errors, *checks.payroll_check(payroll=payroll, today=r.today, single_limit=r.agreement.single_limit)]
    errors += term_check(agreement=r.agreement, pay_date=r.pay_date, today=r.today)
    if r.corrects is not None:
        from payroll_client.corrections import originals_of

        errors += correction_check(payroll=payroll, originals=originals_of(returned=r.corrects))
    if errors:
        raise ExchangeError("payroll_invalid", f"工资文件有 {len(errors)} 处错误, 未写入任何文件",
                            f"the payroll sheet has {len(errors)} problem(s); nothing was written", errors=errors)
    return Prepared(payroll=payroll, info=read.info, warnings=amount_warnings(amounts=[row.amount for row in rows]))


def batch_check(*, conn: sqlite3.Connection, operator: User, request: PayrollRequest) -> None:
    """The bank refuses a batch number already in flight, stored or paid for the agreement: say so
    here, from this client's history, unless the user says the first file is void (--reuse-batch)."""
    a, b = request.agreement.agreement_no, request.batch_no
    used = batch_used(conn=conn, agreement_no=a, batch_no=b)
    if used is None:
        return
    if request.reuse_batch:
        log_write(conn=conn, user_name=operator.name, action="batch_reuse", outcome="ok",
                  detail=f"agreement {a} batch {b} first made {used['made_at']} digest {used['digest']}")
        return
    log_write(conn=conn, user_name=operator.name, action="encrypt", outcome="refused",
              detail=f"batch_reused agreement {a} batch {b}")
    raise ExchangeError(
        "batch_reused",
        f"批次号 {b} 已于 {used['made_at']} 用于协议 {a} 的工资文件 (摘要 {used['digest'][:16]}…), 未写入任何文件。"
        "银行在第一份文件处理中、已入库或已发放时会拒收同一批次号。请换一个批次号; "
        "若银行已将第一份文件作废或撤消, 加 --reuse-batch 重新制作",
        f"batch number {b} was already used for a payroll file of agreement {a} on {used['made_at']} "
        f"(digest {used['digest'][:16]}…); nothing was written. The bank refuses a batch number while the first "
        "file is in flight, stored or paid. Choose another batch number; if the bank invalidated or revoked "
        "the first file, add --reuse-batch")


def signer_check(*, identity: pki.Identity, agreement: AgreementPackage) -> None:
    if identity.fingerprint != agreement.enterprise_cert_fingerprint:
        raise ExchangeError(
            "usbkey_agreement", "该 USBKEY 的证书不是此协议绑定的企业证书, 银行将拒收; 请插入正确的 USBKEY",
            "this USB key's certificate is not the one bound to the agreement; the bank would refuse the "
            "file. Use the right USB key",
        )


@cycle_collection_paused()
def payroll_seal(*, payroll: PayrollFile, identity: pki.Identity, agreement: AgreementPackage) -> Sealed:
    signer_check(identity=identity, agreement=agreement)
    plain = formats.payroll_dump(payroll)
    sealed = envelope.envelope_seal(payload=plain, kind="payroll", signer=identity,
                                    recipient_cert=pki.cert_load_pem(agreement.bank_cert_pem))
    digest = formats.file_digest(plain)
    h = payroll.header
    facts = checkcode.ChecklistFacts(
        agreement_no=h.agreement_no, batch_no=h.batch_no, pay_date=h.pay_date, record_count=h.record_count,
        total_amount=h.total_amount, digest=digest, code=h.check_code,
        expected_fee=report.expected_fee(fee_per_payment=agreement.fee_per_payment, count=h.record_count))
    return Sealed(plain=plain, sealed=sealed, digest=digest, qr=checkcode.qr_text(facts=facts, key=identity.key))


def reviewer_verify(*, conn: sqlite3.Connection, operator: User, name: str, password: str) -> User:
    """换人复核: another active user holding 文件加密, proven by their own password."""
    if name == operator.name:
        log_write(conn=conn, user_name=operator.name, action="review", outcome="refused", detail="self review")
        raise ExchangeError("review_self", "复核人不能是制作人本人, 请换另一位有“文件加密”权限的用户复核",
                            "the reviewer must be a different user holding the payroll encryption right")
    reviewer = user_authenticate(conn=conn, name=name, password=password)
    if reviewer.must_change:
        log_write(conn=conn, user_name=name, action="review", outcome="refused", detail="password change required")
        raise ExchangeError("review_password_change",
                            f"复核人 {name} 须先登录一次并修改管理员给的密码 (payroll-client login {name})",
                            f"the reviewer {name} must log in once and change the password the administrator "
                            f"gave (payroll-client login {name})")
    if not reviewer.may("encrypt"):
        log_write(conn=conn, user_name=name, action="review", outcome="refused", detail="no permission")
        raise ExchangeError("review_permission", f"用户 {name} 没有“文件加密”权限, 不能复核",
                            f"user {name} does not hold the payroll encryption right and cannot review")
    log_write(conn=conn, user_name=name, action="review", outcome="ok", detail=f"operator {operator.name}")
    return reviewer


@cycle_collection_paused()
def payroll_outputs(*, prepared: Prepared, sealed: Sealed, agreement: AgreementPackage, operator: str,
                    reviewer: str, filename: str) -> tuple[dict[str, bytes], Checklist]:
    h = prepared.payroll.header
    sheet_zh, _ = sheet_input.sheet_text(prepared.info, filename)
    hidden_zh, _ = sheet_input.hidden_text(prepared.info)
    stem = f"PAY_{name_part(h.agreement_no)}_{name_part(h.batch_no)}_{h.pay_date:%Y%m%d}"
    checklist = Checklist(
        company_name=agreement.company_name, agreement_no=h.agreement_no, payer_unit_no=h.payer_unit_no,
        batch_no=h.batch_no, pay_date=h.pay_date, purpose=h.purpose, record_count=h.record_count,
        total_amount=h.total_amount, fee_per_payment=agreement.fee_per_payment,
        expected_fee=report.expected_fee(fee_per_payment=agreement.fee_per_payment, count=h.record_count),
        digest=sealed.digest, file_name=f"{stem}.p7m", operator=operator, reviewer=reviewer,
        made_at=shanghai_time(clock.business_now()), settlement_account=agreement.settlement_account,
        sheet_read=sheet_zh, hidden_rows=hidden_zh, check_code=h.check_code, qr_text=sealed.qr,
    )
    files = {
        f"{stem}.p7m": sealed.sealed,
        f"{stem}_核对清单.pdf": checklist_pdf(checklist=checklist),
        f"{stem}_核对清单.txt": checklist_text(checklist=checklist).encode("utf-8"),
    }
    return files, checklist


def payroll_make(
    *,
    conn: sqlite3.Connection,
    operator: User,
    request: PayrollRequest,
    out_dir: Path,
    review: Callable[[Prepared], tuple[str, str]],
    usbkey: Callable[[], pki.Identity],
) -> tuple[list[Path], Checklist, Prepared]:
    """The whole 文件加密 job. ``review`` shows what will be paid and returns the reviewer's name
    and password; ``usbkey`` asks the PIN and opens the key. Any refusal writes nothing."""
    batch_check(conn=conn, operator=operator, request=request)
    with Progress(steps=STEPS) as progress:
        progress.step(name=STEPS[0])
        try:
            prepared = payroll_prepare(request=request, progress=progress)
            payroll = prepared.payroll
        except ExchangeError as exc:
            log_write(conn=conn, user_name=operator.name, action="encrypt", outcome="refused",
                      detail=f"{exc.code} {len(exc.errors)} errors")
            raise
        progress.step(name=STEPS[2])
        with progress.paused():
            name, password = review(prepared)
            reviewer = reviewer_verify(conn=conn, operator=operator, name=name, password=password)
            identity = usbkey()
        progress.step(name=STEPS[3])
        sealed = payroll_seal(payroll=payroll, identity=identity, agreement=request.agreement)
        progress.step(name=STEPS[4])
        files, checklist = payroll_outputs(prepared=prepared, sealed=sealed, agreement=request.agreement,
                                           operator=operator.name, reviewer=reviewer.name, filename=request.filename)
        paths = outputs_write(out_dir=out_dir, files=files)
    h = payroll.header
    with store_transaction(conn=conn):
        file_id = file_made_record(conn=conn, kind="payroll", agreement_no=h.agreement_no, batch_no=h.batch_no,
                                   pay_date=h.pay_date.isoformat(), record_count=h.record_count,
                                   total_amount=f"{h.total_amount:.2f}", digest=sealed.digest,
                                   operator=operator.name, reviewer=reviewer.name, path=str(paths[0]),
                                   sheet=sheet_input.facts_from(prepared.info, request.filename))
        # Kept for 变动提示 of the next file (payroll_client/review.py review_changes); not for a
        # correction (更正), which pays a few failed rows again and is no month's payroll.
        if not h.is_correction:
            payroll_rows_record(conn=conn, file_id=file_id, rows=payroll.rows)
        warned = "".join(f" warning {w.code}" for w in prepared.warnings)
        log_write(conn=conn, user_name=operator.name, action="encrypt", outcome="ok",
                  detail=f"agreement {h.agreement_no} batch {h.batch_no} count {h.record_count} "
                         f"total {h.total_amount:.2f} digest {sealed.digest} reviewer {reviewer.name}{warned}")
    return paths, checklist, prepared
