"""Corrections (更正, issue 13): a payroll file of version 2 pays again the failed rows of an
earlier batch of the same agreement, never a row already paid.

Three guards, each naming the rows: pre-validation checks every row against the original batch's
stored rows and the effective corrections (payroll_exchange.corrections); the links written then
carry the original row's result code under a check constraint (no link to a paid or unpaid row);
storing makes the links effective inside the storing transaction, where a partial unique index
allows one effective correction per original row, so a race of two corrections stores one and
refuses the other (→ 校验失败 with the rows named, nothing stored).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db import IntegrityError, transaction

from apps.core.services import audit_record
from apps.intake.reports import ErrorTally, error_report_save
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollCorrection, PayrollRow
from apps.payroll.services.transitions import batch_transition
from payroll_exchange.corrections import OriginalRow, correction_check, correction_taken_error
from payroll_exchange.errors import RowError
from payroll_exchange.messages import row_error
from payroll_exchange.records import PayrollFile

# A correction answers a batch that was paid (rows with result codes): paid, failed or returned.
ORIGINAL_STATUSES = [BatchStatus.PAID, BatchStatus.FAILED, BatchStatus.RETURNED]
SCREEN_ERRORS = 200


class CorrectionRowsTaken(Exception):  # noqa: N818 — raised inside the storing transaction to roll it back
    pass


@dataclass(frozen=True)
class CorrectionPlan:
    """What pre-validation found: the original batch and, per correction row, the original row."""

    original: PayrollBatch
    links: list[tuple[int, int]]  # (correction seq, original seq)


def _header_error(code: str, zh: str, en: str) -> RowError:
    return row_error(code, None, "original_batch_no", zh, en)


def correction_prevalidate(*, batch: PayrollBatch, payroll: PayrollFile, errors: ErrorTally) -> CorrectionPlan | None:
    """Check a correction file against its original batch; add every problem to ``errors``.
    None for an ordinary file, or when the original cannot be found."""
    h = payroll.header
    if not h.is_correction:
        return None
    original = (PayrollBatch.objects.filter(agreement_id=batch.agreement_id, batch_no=h.original_batch_no,
                                            status__in=ORIGINAL_STATUSES).exclude(pk=batch.pk).first())
    if original is None:
        errors.add(_header_error(
            "correction_original_unknown",
            f"本协议下没有已发放的批次 {h.original_batch_no}，无法更正。请用该批次的回盘文件在客户端制作更正文件。",
            f"there is no paid batch {h.original_batch_no} under this agreement to correct. Make the correction in "
            "the client from that batch's return file."))
        return None
    if h.original_digest and h.original_digest != original.digest:
        errors.add(_header_error(
            "correction_original_digest",
            f"更正文件所引用的原文件摘要与批次 {h.original_batch_no} 的文件不一致。"
            "请用该批次的回盘文件重新制作更正文件。",
            f"the original file digest in the correction is not that of batch {h.original_batch_no}. Make the "
            "correction again from that batch's return file."))
        return None
    seqs = [r.original_seq for r in payroll.rows]
    stored = {seq: (amount, code, id_type, id_number) for seq, amount, code, id_type, id_number in
              PayrollRow.objects.filter(batch=original, seq__in=seqs).values_list(
                  "seq", "amount", "result_code", "id_type", "id_number")}
    found = correction_check(payroll=payroll, originals={seq: OriginalRow(amount=v[0], result_code=v[1])
                                                         for seq, v in stored.items()})
    errors.extend(found)
    flagged = {e.row for e in found}
    taken = dict(PayrollCorrection.objects.filter(original_batch=original, original_seq__in=seqs, effective=True)
                 .values_list("original_seq", "correction_batch__batch_no"))
    for r in payroll.rows:
        if r.seq in flagged or r.original_seq not in stored:
            continue
        if r.original_seq in taken:
            errors.add(correction_taken_error(row=r.seq, original_batch_no=original.batch_no or "",
                                              original_seq=r.original_seq, by_batch_no=taken[r.original_seq]))
        elif (r.id_type, r.id_number) != stored[r.original_seq][2:]:
            errors.add(row_error(
                "correction_person_changed", r.seq, "id_number",
                f"证件与原批次第 {r.original_seq} 行不同。更正只能改账号或户名，收款人必须是同一人。",
                f"the ID differs from original row {r.original_seq}. A correction may change the account or "
                "the name only; the payee must be the same person."))
    return CorrectionPlan(original=original, links=[(r.seq, r.original_seq) for r in payroll.rows])


def correction_links_write(*, batch_id: int, plan: CorrectionPlan) -> None:
    """The links, not yet effective, in the transaction that makes the batch 待确认入库. The result
    code comes from the original row itself (INSERT ... SELECT), under the check constraint."""
    rows = {seq: (pk, code) for pk, seq, code in PayrollRow.objects.filter(
        batch=plan.original, seq__in=[o for _c, o in plan.links]).values_list("pk", "seq", "result_code")}
    PayrollCorrection.objects.bulk_create([
        PayrollCorrection(original_batch=plan.original, original_row_id=rows[original][0], original_seq=original,
                          original_result_code=rows[original][1], correction_batch_id=batch_id,
                          correction_seq=seq)
        for seq, original in plan.links
    ], batch_size=5000)


def correction_links_activate(*, batch_id: int) -> int:
    """Inside the storing transaction: make the batch's links effective. Another effective
    correction of one of the rows breaks the partial unique index: CorrectionRowsTaken, which rolls
    the whole storing transaction back (nothing stored)."""
    try:
        with transaction.atomic():
            return PayrollCorrection.objects.filter(correction_batch_id=batch_id).update(effective=True)
    except IntegrityError as exc:
        raise CorrectionRowsTaken(batch_id) from exc


def correction_store_refuse(*, batch_id: int) -> None:
    """The storing step lost the race for a row: → 校验失败, naming each row and who paid it."""
    batch = PayrollBatch.objects.get(pk=batch_id)
    mine = PayrollCorrection.objects.filter(correction_batch_id=batch_id)
    taken = dict(PayrollCorrection.objects.filter(effective=True, original_row_id__in=mine.values("original_row_id"))
                 .exclude(correction_batch_id=batch_id).values_list("original_row_id", "correction_batch__batch_no"))
    tally = ErrorTally()
    for link in mine.select_related("original_batch").filter(original_row_id__in=list(taken)):
        tally.add(correction_taken_error(row=link.correction_seq, original_batch_no=link.original_batch.batch_no or "",
                                         original_seq=link.original_seq, by_batch_no=taken[link.original_row_id]))
    if not tally:  # the other correction was rejected meanwhile: storing may simply run again
        raise CorrectionRowsTaken(batch_id)
    error_report_save(stored_name=batch.stored_name, tally=tally)
    kept = tally.kept()
    with transaction.atomic():
        batch_transition(batch_id=batch_id, action="correction_refuse", error_count=tally.total,
                         refusal_code=kept[0].code, errors=[asdict(e) for e in kept[:SCREEN_ERRORS]],
                         error_codes=dict(tally.by_code))
        audit_record(actor_kind="system", actor="payroll_store", action="payroll_correction_refused", obj=batch,
                     company_id=batch.company_id, detail={"rows": [e.row for e in kept[:SCREEN_ERRORS]]})

