"""提交代发工资: upload, background pre-validation, and the agent's 确认入库 or 撤消.

Upload stores the file and records the batch; pre-validation (a task) opens the envelope,
checks the agreement, the pay date, duplicates, every row and the registry, then waits for the
agent. Nothing about a refused file reaches the registry or the stored rows.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Now

from apps.agreements.models import Agreement
from apps.agreements.services import agreement_in_term, bank_identity, trust_store
from apps.cards.models import ServiceCard
from apps.cards.services import card_actor
from apps.core import clock
from apps.core.files import private_file_write, private_path
from apps.core.hours import service_hours_require
from apps.core.services import audit_record
from apps.employees.selectors import REGISTRY_CHUNK, registry_names
from apps.payroll.errors import PayDateOutOfWindow
from apps.payroll.models import FREEING_STATUSES, BatchStatus, PayrollBatch
from apps.payroll.services.storing import payroll_rows_prepare
from apps.payroll.services.transitions import batch_transition
from apps.payroll.services.uploads import UPLOADS, upload_accept
from payroll_exchange.checks import payroll_check
from payroll_exchange.envelope import envelope_open
from payroll_exchange.errors import ExchangeError, RowError
from payroll_exchange.formats import file_digest, payroll_load
from payroll_exchange.report import expected_fee

VALIDATED = "validated"  # the verified rows, prepared for the storing task
REPORTS = "reports"
PAY_WINDOW_DAYS = 15
SCREEN_ERRORS = 200  # the result screen lists this many; the report file has every one
SCREEN_NEW_EMPLOYEES = 500


def payroll_batch_submit(*, card: ServiceCard, agreement: Agreement, upload: UploadedFile) -> PayrollBatch:
    """Store the uploaded file and record the batch; pre-validation starts once this commits."""
    from apps.payroll.tasks import payroll_prevalidate_task

    return upload_accept(model=PayrollBatch, card=card, agreement=agreement, upload=upload,
                         action="payroll_submit", task=payroll_prevalidate_task)


def _file_error(exc: ExchangeError) -> RowError:
    return RowError(code=exc.code, row=None, field=None, zh=exc.zh, en=exc.en)


def _error(code: str, field: str | None, zh: str, en: str, row: int | None = None) -> RowError:
    return RowError(code=code, row=row, field=field, zh=zh, en=en)


def _errors_save(*, batch: PayrollBatch, errors: list[RowError]) -> None:
    data = json.dumps([asdict(e) for e in errors], ensure_ascii=False).encode("utf-8")
    private_file_write(area=REPORTS, name=f"{batch.stored_name}.errors.json", data=data)


def payroll_batch_errors(*, batch: PayrollBatch) -> list[RowError]:
    path = private_path(REPORTS, f"{batch.stored_name}.errors.json")
    if not path.exists():
        return []
    return [RowError(**item) for item in json.loads(path.read_bytes())]


def _refuse(*, batch: PayrollBatch, errors: list[RowError], **fields) -> None:
    _errors_save(batch=batch, errors=errors)
    try:
        batch_transition(
            batch_id=batch.pk, action="refuse", error_count=len(errors), refusal_code=errors[0].code,
            errors=[asdict(e) for e in errors[:SCREEN_ERRORS]], **fields,
        )
    except Exception:
        # Another run of this task finished first: its outcome stands.
        if PayrollBatch.objects.filter(pk=batch.pk, status=BatchStatus.VALIDATING).exists():
            raise


def _progress(*, batch_id: int, done: int, total: int) -> None:
    # Also a heartbeat: the sweeper only requeues a batch whose status_changed_at went stale.
    PayrollBatch.objects.filter(pk=batch_id, status=BatchStatus.VALIDATING).update(
        rows_done=done, rows_total=total, status_changed_at=Now()
    )


def _duplicates(*, batch: PayrollBatch, batch_no: str, digest: str, file_id: str) -> list[RowError]:
    taken = PayrollBatch.objects.exclude(pk=batch.pk).exclude(status__in=FREEING_STATUSES)
    errors = []
    if taken.filter(agreement_id=batch.agreement_id, batch_no=batch_no).exists():
        errors.append(_error("batch_no_used", "batch_no",
                             f"批次号 {batch_no} 已被本协议下的其他文件使用，请在客户端换一个批次号重新制作文件。",
                             f"Batch number {batch_no} is already used under this agreement; make the file again "
                             "with another batch number."))
    if taken.filter(agreement_id=batch.agreement_id, digest=digest).exists() or taken.filter(file_id=file_id).exists():
        errors.append(_error("file_already_submitted", None,
                             "同一文件已经提交过，无需重复提交。请在“查询工资文件”中查看它的状态。",
                             "This same file was already submitted; see its status under 'Query payroll files'."))
    return errors


def payroll_batch_prevalidate(*, batch_id: int) -> None:
    """预校验. Safe to run twice: only a batch still validating is worked on, and its outcome is
    one guarded transition."""
    batch = PayrollBatch.objects.select_related("agreement__certificate", "company").get(pk=batch_id)
    if batch.status != BatchStatus.VALIDATING:
        return
    PayrollBatch.objects.filter(pk=batch_id, status=BatchStatus.VALIDATING).update(
        attempts=F("attempts") + 1, status_changed_at=Now()
    )
    agreement = batch.agreement
    now = clock.now()
    today = now.date()
    data = private_path(UPLOADS, batch.stored_name).read_bytes()
    try:
        opened = envelope_open(
            data=data, recipient=bank_identity(), trust=trust_store(now=now), now=now, expected_kind="payroll",
            expected_signer=agreement.certificate.fingerprint,
        )
    except ExchangeError as exc:
        _refuse(batch=batch, errors=[_file_error(exc)])
        return
    identity = {"digest": opened.digest, "file_id": opened.file_id}
    try:
        payroll, errors = payroll_load(opened.payload)
    except ExchangeError as exc:
        _refuse(batch=batch, errors=[_file_error(exc), *exc.errors], **identity)
        return
    header = payroll.header
    rows = payroll.rows
    total = len(rows)
    _progress(batch_id=batch_id, done=0, total=total)
    identity |= {"batch_no": header.batch_no[:32], "pay_date": header.pay_date, "purpose": header.purpose[:40],
                 "record_count": total, "total_amount": header.total_amount,
                 "expected_fee": expected_fee(fee_per_payment=agreement.fee_per_payment, count=total)}

    if not agreement_in_term(agreement=agreement, day=today):
        errors.insert(0, _error("agreement_out_of_term", None,
                                f"协议 {agreement.number} 不在有效期内"
                                f"（{agreement.start_date} 至 {agreement.end_date}），请联系银行续签协议。",
                                f"Agreement {agreement.number} is outside its term ({agreement.start_date} to "
                                f"{agreement.end_date}); contact the bank to renew it."))
    if header.agreement_no != agreement.number or header.payer_unit_no != agreement.payer_unit_no:
        errors.insert(0, _error("agreement_mismatch", "agreement_no",
                                f"文件属于协议 {header.agreement_no}（发薪单位号 {header.payer_unit_no}），"
                                f"与所选协议 {agreement.number} 不符，请选择正确的协议。",
                                f"The file belongs to agreement {header.agreement_no} (payer unit "
                                f"{header.payer_unit_no}), not the chosen {agreement.number}; choose the right one."))
    errors += payroll_check(payroll=payroll, today=today, single_limit=agreement.single_limit,
                            max_days_ahead=PAY_WINDOW_DAYS)
    errors += _duplicates(batch=batch, batch_no=header.batch_no, digest=opened.digest, file_id=opened.file_id)

    # 员工登记比对: another name is an error; an unknown account is a new employee.
    new_employees: list[dict] = []
    new_count = 0
    for start in range(0, total, REGISTRY_CHUNK):
        chunk = rows[start : start + REGISTRY_CHUNK]
        known = registry_names(company_id=batch.company_id, accounts=(r.account for r in chunk))
        for r in chunk:
            registered = known.get(r.account)
            if registered is None:
                new_count += 1
                if len(new_employees) < SCREEN_NEW_EMPLOYEES:
                    new_employees.append({"seq": r.seq, "account": r.account, "name": r.name,
                                          "id_type": r.id_type, "id_number": r.id_number})
            elif registered != r.name:
                errors.append(_error("registry_name_mismatch", "name",
                                     f"第 {r.seq} 行 户名：尾号 {r.account[-4:]} 的账号在员工登记中"
                                     f"的户名为“{registered}”，与文件中的“{r.name}”不一致。"
                                     "请核对后重新制作文件。",
                                     f"Row {r.seq}, name: account ending {r.account[-4:]} is registered as "
                                     f"'{registered}', not '{r.name}'. Check it and make the file again.",
                                     row=r.seq))
        _progress(batch_id=batch_id, done=min(start + REGISTRY_CHUNK, total), total=total)

    identity |= {"new_employee_count": new_count, "new_employees": new_employees}
    if errors:
        _refuse(batch=batch, errors=errors, **identity)
        return
    # What storing reads, prepared now that the rows are parsed: no second decryption or parse,
    # and storing checks the digest recorded here before it writes a single row.
    prepared = payroll_rows_prepare(batch_id=batch_id, payload=opened.payload, rows=rows)
    private_file_write(area=VALIDATED, name=batch.stored_name, data=prepared)
    identity["rows_digest"] = file_digest(prepared)
    _errors_save(batch=batch, errors=[])
    try:
        with transaction.atomic():
            batch_transition(batch_id=batch_id, action="await_confirmation", rows_done=total, rows_total=total,
                             error_count=0, errors=[], **identity)
    except IntegrityError:
        # Another upload of the same batch number or file won the race for the unique constraint.
        duplicates = _duplicates(batch=batch, batch_no=header.batch_no, digest=opened.digest, file_id=opened.file_id)
        _refuse(batch=batch, errors=duplicates or [_error("file_already_submitted", None, "同一文件已经提交过。",
                                                          "This same file was already submitted.")])


def pay_date_window_require(*, batch: PayrollBatch) -> None:
    today = clock.today()
    latest = today + timedelta(days=PAY_WINDOW_DAYS)
    if batch.pay_date is None or not today <= batch.pay_date <= latest:
        raise PayDateOutOfWindow(
            "pay_date_out_of_window",
            f"发薪日期 {batch.pay_date} 已不在今天（{today}）至 {latest} 之间，不能入库。"
            "请撤消此文件，在客户端改正发薪日期后重新制作。",
            f"Pay date {batch.pay_date} is no longer between today ({today}) and {latest}; it cannot be stored. "
            "Revoke this file, correct the pay date in the client and make it again.",
        )


def payroll_batch_confirm(*, batch: PayrollBatch, card: ServiceCard) -> None:
    """确认入库 (also 补充入库 from the query screen): the pay-date window is checked again."""
    from apps.payroll.tasks import payroll_store_task

    service_hours_require()
    if batch.company_id != card.company_id:
        raise PayrollBatch.DoesNotExist
    pay_date_window_require(batch=batch)
    with transaction.atomic():
        batch_transition(batch_id=batch.pk, action="confirm")
        audit_record(actor_kind="card", actor=card_actor(card), action="payroll_confirm", obj=batch,
                     company_id=card.company_id, detail={"new_employees": batch.new_employee_count})
        transaction.on_commit(lambda: payroll_store_task.delay(batch.pk))


def payroll_batch_revoke(*, batch: PayrollBatch, card: ServiceCard) -> None:
    """撤消: only before storing. Revoking frees the batch number and the file."""
    service_hours_require()
    if batch.company_id != card.company_id:
        raise PayrollBatch.DoesNotExist
    with transaction.atomic():
        batch_transition(batch_id=batch.pk, action="revoke")
        audit_record(actor_kind="card", actor=card_actor(card), action="payroll_revoke", obj=batch,
                     company_id=card.company_id)
