"""提交代发工资, the payroll file kind of the intake pipeline (apps/intake): its loader, its row,
duplicate and registry checks, and the agent's 确认入库 or 撤消.

Upload stores the file and records the batch; pre-validation (a pipeline step) opens the
envelope, checks the agreement, the pay date, duplicates, every row and the registry, then waits
for the agent. Nothing about a refused file reaches the registry or the stored rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction

from apps.agreements.models import Agreement
from apps.cards.models import ServiceCard
from apps.core import clock
from apps.core.files import private_file_write
from apps.core.services import audit_record
from apps.employees.selectors import REGISTRY_CHUNK, registry_names, registry_size
from apps.intake.actors import Actor, actor_of
from apps.intake.reports import ErrorTally, error_report_delete, intake_refuse
from apps.intake.steps import LoadedFile, signed_file_load
from apps.intake.uploads import upload_accept, work_queue_after_confirm
from apps.intake.work import DONE, Work, intake_work_run
from apps.payroll.availability import PAY_WINDOW_DAYS, pay_date_outside_window
from apps.payroll.changes import duplicate_acknowledgement_require
from apps.payroll.errors import PayDateOutOfWindow
from apps.payroll.models import FREEING_STATUSES, BatchStatus, PayrollBatch
from apps.payroll.services.checklist import check_code_hash, checklist_confirm_require
from apps.payroll.services.corrections import CorrectionPlan, correction_links_write, correction_prevalidate
from apps.payroll.services.storing import newcomers_path, payroll_rows_prepare, prepared_blocks, prepared_digest
from apps.payroll.services.transitions import batch_transition
from payroll_exchange.checks import payroll_check
from payroll_exchange.columnar import cycle_collection_paused
from payroll_exchange.errors import RowError
from payroll_exchange.formats import payroll_load
from payroll_exchange.records import PayrollHeader
from payroll_exchange.records import PayrollRow as FileRow
from payroll_exchange.report import expected_fee
from payroll_exchange.streaming import PayrollCleanRun, PayrollStream, payroll_stream_open

KIND = "payroll"
VALIDATED = "validated"  # the verified rows, prepared for the storing step
SCREEN_NEW_EMPLOYEES = 500
REGISTRY_CHUNK_MAX = 200_000  # accounts per registry query at most: ~30 MB of names held at once


def payroll_batch_submit(*, card: ServiceCard | None = None, agreement: Agreement, upload: UploadedFile,
                         actor: Actor | None = None) -> PayrollBatch:
    """Store the uploaded file and record the batch; pre-validation starts once this commits."""
    return upload_accept(kind=KIND, card=card, actor=actor, agreement=agreement, upload=upload,
                         action="payroll_submit")


def payroll_batch_prevalidate(*, batch_id: int) -> bool:
    """预校验 through the pipeline (claim, attempts): what the worker runs. Safe to run twice."""
    return intake_work_run(kind=KIND, pk=batch_id, status=BatchStatus.VALIDATING) == DONE


def _error(code: str, field: str | None, zh: str, en: str, row: int | None = None) -> RowError:
    return RowError(code=code, row=row, field=field, zh=zh, en=en)


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


def payroll_prevalidate_step(work: Work) -> None:
    """The validating step: open, check, match the registry, prepare the rows for storing."""
    # Every row of the file stays alive through the step, and CPython's cycle collector walked
    # them again and again although they hold no cycles: client CPU grew faster than the rows
    # (0.37 s at 100k, 4.8 s at 1M, benchmarks/bench_intake.py). Refcounting still frees them.
    with cycle_collection_paused():
        _prevalidate(work)


def _prevalidate(work: Work) -> None:
    batch = PayrollBatch.objects.select_related("agreement__certificate", "company").get(pk=work.pk)
    now = clock.now()
    # On PostgreSQL (storing takes COPY text) a version 1 file is first read a chunk at a time:
    # the row objects of a 1M-row file are ~430 MB, and with them the worker peaked at 607 MB
    # (issue 15, P6: ≤ 512 MB). The chunked pass only ever ends in 待确认 with exactly what the
    # whole pass records; at the first thing it does not recognize as clean it stops, writes
    # nothing, and the whole pass below reads, checks and words the file as before.
    streamed = connection.vendor == "postgresql"
    loaded = signed_file_load(work=work, record=batch, envelope_kind="payroll",
                              loader=payroll_stream_open if streamed else payroll_load, now=now)
    if loaded is None:
        return
    if isinstance(loaded.parsed, PayrollStream):
        if _prevalidate_streamed(work=work, batch=batch, loaded=loaded, today=now.date()):
            return
        loaded.parsed, _errors = payroll_load(loaded.payload, errors=loaded.tally)  # the header read the same
    _prevalidate_whole(work=work, batch=batch, loaded=loaded, today=now.date())


def _identity(*, loaded: LoadedFile, header: PayrollHeader, agreement: Agreement, total: int) -> dict:
    identity = dict(loaded.identity)
    identity |= {"batch_no": header.batch_no[:32], "pay_date": header.pay_date, "purpose": header.purpose[:40],
                 "record_count": total, "total_amount": header.total_amount,
                 "expected_fee": expected_fee(fee_per_payment=agreement.fee_per_payment, count=total)}
    if header.check_code:  # 核对码: kept only as a keyed hash (apps/payroll/services/checklist.py)
        identity["check_code_hash"] = check_code_hash(header.check_code)
    return identity


def _registry_chunk_size(*, batch: PayrollBatch) -> int:
    # Each chunk's query visits every current employee of the company (the planner hashes the
    # chunk's accounts and scans the company's registry): with 10k-row chunks a 1M-row file against
    # a 500k registry made 100 scans of it, 11 s; chunks as large as the registry (up to
    # REGISTRY_CHUNK_MAX, which bounds the names held at once) keep it to a few scans.
    return min(max(REGISTRY_CHUNK, registry_size(company_id=batch.company_id)), REGISTRY_CHUNK_MAX)


class _NotRecognized(Exception):  # noqa: N818 — control flow inside _prevalidate_streamed only
    """The chunked pass met something it does not recognize as clean: the whole pass decides."""


def _prevalidate_streamed(*, work: Work, batch: PayrollBatch, loaded: LoadedFile, today: date) -> bool:
    """The chunked pass: True when it recorded 待确认, False (nothing written) for the whole pass."""
    stream: PayrollStream = loaded.parsed
    header = stream.header
    agreement = batch.agreement
    run = PayrollCleanRun(header=header, today=today, single_limit=agreement.single_limit,
                          max_days_ahead=PAY_WINDOW_DAYS)
    if not run.clean or _duplicates(batch=batch, batch_no=header.batch_no, **loaded.identity):
        return False
    work.progress(rows_done=0, rows_total=header.record_count)
    new_employees: list[dict] = []
    newcomer_seqs: list[int] = []
    size = _registry_chunk_size(batch=batch)

    def matched(group: list[FileRow]) -> Iterator[bytes]:
        """员工登记比对 of a group of rows, then their prepared COPY text."""
        known = registry_names(company_id=batch.company_id, accounts=(r.account for r in group))
        for r in group:
            registered = known.get(r.account)
            if registered is None:
                newcomer_seqs.append(r.seq)
                if len(new_employees) < SCREEN_NEW_EMPLOYEES:
                    new_employees.append({"seq": r.seq, "account": r.account, "name": r.name,
                                          "id_type": r.id_type, "id_number": r.id_number})
            elif registered != r.name:
                raise _NotRecognized  # a refusal: the whole pass words it, in its order
        work.progress(rows_done=run.count, rows_total=header.record_count)
        yield from payroll_rows_prepare(batch_id=work.pk, payload=b"", rows=group)

    def prepared() -> Iterator[bytes]:
        group: list[FileRow] = []
        for rows in stream.chunks():
            if rows is None or not run.add(rows):
                raise _NotRecognized
            group += rows
            if len(group) >= size:
                yield from matched(group)
                group = []
        if not run.finish():
            raise _NotRecognized
        if group:
            yield from matched(group)

    try:
        path = private_file_write(area=VALIDATED, name=batch.stored_name, data=prepared())
    except _NotRecognized:
        return False  # private_file_write removed its temporary file; nothing else was written
    identity = _identity(loaded=loaded, header=header, agreement=agreement, total=run.count)
    identity |= {"new_employee_count": len(newcomer_seqs), "new_employees": new_employees}
    _prepared_record(work=work, batch=batch, header=header, loaded=loaded, identity=identity, path=path,
                     newcomer_seqs=newcomer_seqs, correction=None)
    return True


def _prevalidate_whole(*, work: Work, batch: PayrollBatch, loaded: LoadedFile, today: date) -> None:
    agreement = batch.agreement
    payroll, tally = loaded.parsed, loaded.tally
    # The plain file (~80 MB at 1M rows) is needed from here only where storing cannot take COPY
    # text; dropped now it is no longer beside every row through the checks (issue 15, P6).
    payload = loaded.payload if connection.vendor != "postgresql" else b""
    loaded.payload = b""
    header = payroll.header
    rows = payroll.rows
    total = len(rows)
    work.progress(rows_done=0, rows_total=total)
    identity = _identity(loaded=loaded, header=header, agreement=agreement, total=total)
    payroll_check(payroll=payroll, today=today, single_limit=agreement.single_limit, max_days_ahead=PAY_WINDOW_DAYS,
                  errors=tally)
    tally.extend(_duplicates(batch=batch, batch_no=header.batch_no, **loaded.identity))
    correction = correction_prevalidate(batch=batch, payroll=payroll, errors=tally)  # 更正 (version 2)
    if correction is not None:
        identity["corrects"] = correction.original

    # 员工登记比对: another name is an error; an unknown account is a new employee.
    new_employees: list[dict] = []
    new_count = 0
    # For storing: it registers these rows' accounts. The rows' own int seqs, not a str made per
    # newcomer (500k of them held ~30 MB at 1M rows).
    newcomer_seqs: list[int] = []
    size = _registry_chunk_size(batch=batch)
    for start in range(0, total, size):
        chunk = rows[start : start + size]
        known = registry_names(company_id=batch.company_id, accounts=(r.account for r in chunk))
        for r in chunk:
            registered = known.get(r.account)
            if registered is None:
                new_count += 1
                newcomer_seqs.append(r.seq)
                if len(new_employees) < SCREEN_NEW_EMPLOYEES:
                    new_employees.append({"seq": r.seq, "account": r.account, "name": r.name,
                                          "id_type": r.id_type, "id_number": r.id_number})
            elif registered != r.name:
                tally.add(_error("registry_name_mismatch", "name",
                                 f"第 {r.seq} 行 户名：尾号 {r.account[-4:]} 的账号在员工登记中"
                                 f"的户名为“{registered}”，与文件中的“{r.name}”不一致。请核对后重新制作文件。",
                                 f"Row {r.seq}, name: account ending {r.account[-4:]} is registered as "
                                 f"'{registered}', not '{r.name}'. Check it and make the file again.",
                                 row=r.seq))
        work.progress(rows_done=min(start + size, total), rows_total=total)

    identity |= {"new_employee_count": new_count, "new_employees": new_employees}
    if tally:
        intake_refuse(kind=work.kind, pk=work.pk, tally=tally, **identity)
        return
    # What storing reads, prepared now that the rows are parsed: no second decryption or parse,
    # and storing checks the digest recorded here before it writes a single row.
    # Written chunk by chunk, never whole in memory; the digest is storing's own, of what was written.
    path = private_file_write(area=VALIDATED, name=batch.stored_name,
                              data=payroll_rows_prepare(batch_id=work.pk, payload=payload, rows=rows))
    _prepared_record(work=work, batch=batch, header=header, loaded=loaded, identity=identity, path=path,
                     newcomer_seqs=newcomer_seqs, correction=correction)


def _prepared_record(*, work: Work, batch: PayrollBatch, header: PayrollHeader, loaded: LoadedFile, identity: dict,
                     path: Path, newcomer_seqs: list[int], correction: CorrectionPlan | None) -> None:
    """The prepared rows are written: the newcomers beside them, their digest, and 待确认."""
    seqs = ",".join(map(str, newcomer_seqs)).encode("ascii")
    private_file_write(area=VALIDATED, name=newcomers_path(batch.stored_name).name, data=seqs)
    identity["rows_digest"] = prepared_digest(rows=prepared_blocks(path), newcomer_seqs=seqs)
    error_report_delete(stored_name=batch.stored_name)
    total = identity["record_count"]
    try:
        with transaction.atomic():
            batch_transition(batch_id=work.pk, action="await_confirmation", rows_done=total, rows_total=total,
                             error_count=0, errors=[], error_codes={}, **identity)
            if correction is not None:
                correction_links_write(batch_id=work.pk, plan=correction)
    except IntegrityError:
        # Another upload of the same batch number or file won the race for the unique constraint.
        duplicates = _duplicates(batch=batch, batch_no=header.batch_no, **loaded.identity)
        intake_refuse(kind=work.kind, pk=work.pk, tally=ErrorTally.of(duplicates or [_error(
            "file_already_submitted", None, "同一文件已经提交过。", "This same file was already submitted.")]))


def pay_date_window_require(*, batch: PayrollBatch) -> None:
    today = clock.today()
    latest = today + timedelta(days=PAY_WINDOW_DAYS)
    if pay_date_outside_window(pay_date=batch.pay_date, today=today):
        raise PayDateOutOfWindow(
            "pay_date_out_of_window",
            f"发薪日期 {batch.pay_date} 已不在今天（{today}）至 {latest} 之间，不能入库。"
            "请撤消此文件，在客户端改正发薪日期后重新制作。",
            f"Pay date {batch.pay_date} is no longer between today ({today}) and {latest}; it cannot be stored. "
            "Revoke this file, correct the pay date in the client and make it again.",
        )


def payroll_batch_confirm(*, batch: PayrollBatch, card: ServiceCard | None = None,
                          actor: Actor | None = None, duplicate_acknowledged: bool = False,
                          checklist: str = "") -> bool | None:
    """确认入库 (also 补充入库 from the query screen): the pay-date window is checked again.
    Returns whether the broker took the storing work (False: kept, the sweeper queues it)."""
    actor = actor_of(card=card, actor=actor)
    actor.hours_require()
    if batch.company_id != actor.company_id:
        raise PayrollBatch.DoesNotExist
    pay_date_window_require(batch=batch)
    # 疑似重复发放 needs the agent's explicit acknowledgement (apps/payroll/changes.py); audited below.
    suspected_duplicate = duplicate_acknowledgement_require(batch=batch, acknowledged=duplicate_acknowledged)
    # What the scanner typed (QR) or the agent typed (核对码); a mismatch is audited and refused.
    how = checklist_confirm_require(batch=batch, actor=actor, text=checklist)
    with transaction.atomic():
        batch_transition(batch_id=batch.pk, action="confirm", confirmed_how=how)
        audit_record(actor_kind=actor.kind, actor=actor.name, action="payroll_confirm", obj=batch,
                     company_id=actor.company_id, detail={"new_employees": batch.new_employee_count, "how": how,
                                                          **({"suspected_duplicate_acknowledged": True}
                                                             if suspected_duplicate else {})})
        enqueued = work_queue_after_confirm(kind=KIND, pk=batch.pk)
    return enqueued.ok


def payroll_batch_revoke(*, batch: PayrollBatch, card: ServiceCard | None = None,
                         actor: Actor | None = None) -> None:
    """撤消: only before storing. Revoking frees the batch number and the file."""
    actor = actor_of(card=card, actor=actor)
    actor.hours_require()
    if batch.company_id != actor.company_id:
        raise PayrollBatch.DoesNotExist
    with transaction.atomic():
        batch_transition(batch_id=batch.pk, action="revoke")
        audit_record(actor_kind=actor.kind, actor=actor.name, action="payroll_revoke", obj=batch,
                     company_id=actor.company_id)
