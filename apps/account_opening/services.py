"""批量开户 at the counter: open the company's request file, open one account per valid row, and
answer with a result file signed by the bank and encrypted for the company's certificate.

One service call per upload, one transaction: the request row, the accounts, their rows, the
result file's record and the audit trail commit together or not at all. The agreement row is
locked for the duration, so two uploads of one agreement never race; the partial unique indexes
on the request (file id; agreement + content digest, both among opened requests) make a second
opening impossible even if that lock were bypassed.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Length

from apps.account_opening.models import AccountOpeningRequest, AccountOpeningRow
from apps.agreements.models import Agreement
from apps.agreements.services import bank_identity
from apps.core.errors import ServiceError
from apps.core.files import private_file_save, private_file_write, private_path
from apps.core.services import audit_record
from apps.intake.errors import FileRefused
from apps.intake.opening import agreement_header_require, exchange_call, signed_file_open
from apps.intake.reports import SCREEN_ERRORS, ErrorTally
from apps.intake.transitions import Transitions, state_transition
from apps.ledger.models import AccountKind, LedgerAccount
from payroll_exchange import account_opening as ao
from payroll_exchange import pki
from payroll_exchange.envelope import envelope_seal
from payroll_exchange.errors import RowError
from payroll_exchange.formats import file_digest
from payroll_exchange.records import FORMAT_VERSION

S = AccountOpeningRequest.Status
AREA = "account-opening"
# The bank's debit-card prefix (BIN): 6 digits + a 12-digit serial + the Luhn digit = 19 digits.
ACCOUNT_BIN = "621999"
ALLOCATE_ATTEMPTS = 5  # another writer taking the next numbers between our read and our insert
OPENED_MESSAGE = "开户成功 opened"

TRANSITIONS: Transitions = {
    "open": ((S.RECEIVED,), S.OPENED),
    "refuse": ((S.RECEIVED,), S.REFUSED),
}


class AccountOpeningError(ServiceError):
    pass


def account_opening_transition(*, pk: int, action: str, **fields: object) -> None:
    """The pipeline's one guarded transition (apps/intake/transitions.py); StateError otherwise."""
    state_transition(model=AccountOpeningRequest, transitions=TRANSITIONS, pk=pk, action=action, **fields)


def _actor(user: AbstractBaseUser) -> str:
    return user.get_username()


# ---------------------------------------------------------------- account numbers


def _next_serial() -> int:
    """The serial after the highest 19-digit number under our BIN (a range scan of the number
    index, newest first; lengths are equal, so text order is numeric order)."""
    last = (
        LedgerAccount.objects.filter(number__gte=ACCOUNT_BIN + "0" * 13, number__lte=ACCOUNT_BIN + "9" * 13)
        .alias(length=Length("number"))
        .filter(length=ao.ACCOUNT_LENGTH)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return int(last[len(ACCOUNT_BIN):-1]) + 1 if last else 1


def ledger_accounts_open_bulk(*, holders: list[str]) -> list[LedgerAccount]:
    """Open one employee account per holder name, numbered sequentially under ACCOUNT_BIN, in one
    INSERT. A collision (someone took the next numbers meanwhile) retries from the new highest."""
    if not holders:
        return []
    for _attempt in range(ALLOCATE_ATTEMPTS):
        start = _next_serial()
        accounts = [
            LedgerAccount(number=ao.luhn_complete(f"{ACCOUNT_BIN}{start + i:012d}"), holder_name=name,
                          kind=AccountKind.EMPLOYEE)
            for i, name in enumerate(holders)
        ]
        try:
            with transaction.atomic():  # a savepoint: the collision must not abort the whole request
                return LedgerAccount.objects.bulk_create(accounts)
        except IntegrityError:
            continue
    raise AccountOpeningError("account_numbers_busy", "账号分配冲突，请稍后重试。",
                              "account numbers were taken while allocating; try again in a moment.")


# ---------------------------------------------------------------- the request


def _opened_before(*, agreement: Agreement, file_id: str, digest: str) -> AccountOpeningRequest | None:
    return (
        AccountOpeningRequest.objects.filter(status=S.OPENED)
        .filter(Q(file_id=file_id) | Q(agreement=agreement, digest=digest))
        .order_by("id")
        .first()
    )


def _file_problems(*, agreement: Agreement, parsed: ao.AccountOpeningFile,
                   load_errors: list[RowError]) -> list[RowError]:
    """Everything that refuses the file as a whole, after the shared opening (term, envelope)."""
    header = parsed.header
    agreement_header_require(agreement=agreement, agreement_no=header.agreement_no,
                             payer_unit_no=header.payer_unit_no)
    return [*load_errors, *ao.account_opening_header_check(request=parsed)]


def _refuse(*, request: AccountOpeningRequest, errors: list[RowError], user: AbstractBaseUser,
            **fields: object) -> AccountOpeningRequest:
    tally = ErrorTally.of(errors)  # the same cap and order as the background kinds
    kept = tally.kept()
    account_opening_transition(pk=request.pk, action="refuse", refusal_code=kept[0].code,
                               errors=[asdict(e) for e in kept[:SCREEN_ERRORS]], **fields)
    audit_record(actor_kind="staff", actor=_actor(user), action="account_opening_refused", obj=request,
                 company_id=request.company_id, detail={"code": kept[0].code, "errors": tally.total, **fields})
    request.refresh_from_db()
    return request


def _results(*, parsed: ao.AccountOpeningFile, now: datetime) -> list[tuple[ao.AccountOpeningRow, str, str]]:
    """(row, result code, message) per row, in file order; code "" = to be opened."""
    births: dict[str, bool] = {}
    repeats = ao.person_repeats(parsed.rows)
    results = []
    for row in parsed.rows:
        refusal = ao.row_refusal(ao.account_opening_row_problems(row, now.date(), births),
                                 repeated=row.seq in repeats)
        results.append((row, *refusal) if refusal else (row, "", OPENED_MESSAGE))
    return results


def account_opening_process(*, agreement: Agreement, upload: UploadedFile, user: AbstractBaseUser,
                            now: datetime) -> AccountOpeningRequest:
    """受理批量开户: keep the upload, open and verify it, open the accounts of its valid rows and
    write the result file. Returns the request: ``opened`` (result ready) or ``refused`` with
    its reasons in ``errors``. Nothing is opened for a refused request, nor twice for a file."""
    stored_name, size = private_file_save(upload=upload, area=AREA)
    try:
        with transaction.atomic():
            agreement = (Agreement.objects.select_for_update(of=("self",)).select_related("certificate", "company")
                         .get(pk=agreement.pk))
            request = AccountOpeningRequest.objects.create(
                company=agreement.company, agreement=agreement, original_name=(upload.name or "account-opening")[:255],
                stored_name=stored_name, size=size, staff=user, created_at=now)
            audit_record(actor_kind="staff", actor=_actor(user), action="account_opening_received", obj=request,
                         company_id=request.company_id, detail={"file": request.original_name, "size": size})
            return _request_work(request=request, agreement=agreement, user=user, now=now)
    except BaseException:
        private_path(AREA, stored_name).unlink(missing_ok=True)
        raise


def _request_work(*, request: AccountOpeningRequest, agreement: Agreement, user: AbstractBaseUser,
                  now: datetime) -> AccountOpeningRequest:
    data = private_path(AREA, request.stored_name).read_bytes()
    try:
        # The one opening every signed file goes through: the term, then the envelope and binding.
        opened = signed_file_open(data=data, agreement=agreement, kind=ao.ENVELOPE_KIND_REQUEST, now=now)
        parsed, load_errors = exchange_call(ao.account_opening_load, opened.payload)
    except FileRefused as exc:
        return _refuse(request=request, user=user, errors=exc.as_row_errors())
    known = {"file_id": opened.file_id, "digest": opened.digest, "record_count": len(parsed.rows)}
    earlier = _opened_before(agreement=agreement, file_id=opened.file_id, digest=opened.digest)
    if earlier is not None:
        return _refuse(request=request, user=user, errors=[RowError(
            "already_processed", None, None,
            f"该文件已于 {earlier.created_at:%Y-%m-%d %H:%M} 办理过批量开户（申请 {earlier.pk}），不能重复开户。"
            "如需结果文件，请在该申请中下载。",
            f"This file was already processed on {earlier.created_at:%Y-%m-%d %H:%M} (request {earlier.pk}); "
            "accounts are not opened twice. Download the result from that request.")], **known)
    try:
        problems = _file_problems(agreement=agreement, parsed=parsed, load_errors=load_errors)
    except FileRefused as exc:
        return _refuse(request=request, user=user, errors=exc.as_row_errors(), **known)
    if problems:
        return _refuse(request=request, user=user, errors=problems, **known)

    results = _results(parsed=parsed, now=now)
    accounts = iter(ledger_accounts_open_bulk(holders=[row.name for row, code, _m in results if not code]))
    rows: list[AccountOpeningRow] = []
    result_rows: list[ao.AccountOpeningResultRow] = []
    for row, code, message in results:
        account = next(accounts) if not code else None
        rows.append(AccountOpeningRow(
            request=request, seq=row.seq, id_type=row.id_type[:8], id_number=row.id_number[:64], name=row.name[:100],
            mobile=row.mobile[:32], remark=row.remark[:100], result_code=code or ao.RESULT_OPENED, account=account,
            message=message))
        result_rows.append(ao.AccountOpeningResultRow(row.seq, row.id_type, row.id_number, row.name,
                                                      code or ao.RESULT_OPENED, account.number if account else "",
                                                      message))
    AccountOpeningRow.objects.bulk_create(rows)
    opened_count = sum(1 for r in result_rows if r.result_code == ao.RESULT_OPENED)
    result = ao.AccountOpeningResultFile(
        header=ao.AccountOpeningResultHeader(FORMAT_VERSION, agreement.number, opened.file_id, opened_count,
                                             len(result_rows) - opened_count),
        rows=result_rows)
    plain = ao.account_opening_result_dump(result)
    result_file_id = f"AOR{uuid.uuid4().hex}"
    sealed = envelope_seal(payload=plain, kind=ao.ENVELOPE_KIND_RESULT, signer=bank_identity(),
                           recipient_cert=pki.cert_load_pem(agreement.certificate.pem.encode()),
                           file_id=result_file_id)
    result_stored_name = f"{uuid.uuid4().hex}.p7m"
    # Written before the commit: a crash after it leaves an unreferenced file, never a request
    # that says "opened" without its result.
    private_file_write(area=AREA, name=result_stored_name, data=sealed)
    account_opening_transition(
        pk=request.pk, action="open", opened_count=opened_count, refused_count=len(result_rows) - opened_count,
        result_stored_name=result_stored_name, result_file_id=result_file_id, result_digest=file_digest(plain),
        **known)
    audit_record(actor_kind="staff", actor=_actor(user), action="account_opening_opened", obj=request,
                 company_id=request.company_id,
                 detail={"file_id": opened.file_id, "digest": opened.digest, "opened": opened_count,
                         "refused": len(result_rows) - opened_count, "result_file_id": result_file_id})
    request.refresh_from_db()
    return request


# ---------------------------------------------------------------- the result


def account_opening_result_download(*, request: AccountOpeningRequest, user: AbstractBaseUser) -> tuple[bytes, str]:
    """The sealed result file (still encrypted for the company) and its download name."""
    if request.status != S.OPENED or not request.result_stored_name:
        raise AccountOpeningError("result_missing", "该申请没有结果文件（未开户或已拒绝）。",
                                  "This request has no result file (not opened, or refused).")
    data = private_path(AREA, request.result_stored_name).read_bytes()
    audit_record(actor_kind="staff", actor=_actor(user), action="account_opening_result_download", obj=request,
                 company_id=request.company_id, detail={"result_file_id": request.result_file_id})
    return data, f"AOR_{request.agreement.number}_{request.result_file_id}.p7m"
