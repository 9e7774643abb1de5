"""pain.002.001.12 customer payment status report of a batch that arrived as a pain.001 (issue 14).

Before pay day it answers the pre-validation: group ACTC (accepted: waiting for 确认入库, stored or
further), or RJCT with the reasons (file-level ones on the group, row ones on their transaction).
Once paid it answers the payment: per row ACSC, or RJCT with the return file's reason code (AC01,
AC04, AC06, BE01, AM04); the group ACSC when all were paid, PART when some failed, RJCT when none.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.db.models import Count, Q, Sum

from apps.core import clock
from apps.core.services import audit_record
from apps.intake.actors import Actor
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.returns.models import Pain001Source
from payroll_exchange.iso20022 import (
    ACCEPTED_SETTLED,
    ACCEPTED_TECHNICAL,
    REJECTED,
    StatusReport,
    TransactionStatus,
    group_status_after_payment,
    pain002_dump,
)
from payroll_exchange.records import RESULT_PAID

PAID_STATUSES = (BatchStatus.PAID, BatchStatus.FAILED, BatchStatus.RETURNED)
REFUSED_STATUSES = (BatchStatus.INVALID, BatchStatus.REJECTED)
PENDING_STATUSES = (BatchStatus.VALIDATING, BatchStatus.ERROR)


def pain002_available(*, batch: PayrollBatch) -> bool:
    """Whether ``batch`` came as a pain.001 and has an answer yet (not while it is being read)."""
    return batch.status not in PENDING_STATUSES and Pain001Source.objects.filter(batch_id=batch.pk).exists()


def _end_to_end(source: Pain001Source, seq: int | None) -> str:
    ids = source.end_to_end_ids
    return ids[seq - 1] if seq and 0 < seq <= len(ids) else ""


def _refusal(batch: PayrollBatch, source: Pain001Source) -> tuple[list[TransactionStatus], str, str]:
    transactions: list[TransactionStatus] = []
    group_code, group_info = "", ""
    for error in batch.errors:
        if error.get("row"):
            transactions.append(TransactionStatus(_end_to_end(source, error["row"]), REJECTED,
                                                  reason_proprietary=error["code"], info=error["zh"]))
        elif not group_code:
            group_code, group_info = error["code"], error["zh"]
    if not group_code and batch.refusal_code:
        group_code = batch.refusal_code
    return transactions, group_code, group_info


def _payment(batch: PayrollBatch, source: Pain001Source) -> tuple[list[TransactionStatus], str]:
    transactions = []
    for seq, code, message in PayrollRow.objects.filter(batch_id=batch.pk).order_by("seq").values_list(
            "seq", "result_code", "result_message").iterator(chunk_size=5000):
        if code == RESULT_PAID:
            transactions.append(TransactionStatus(_end_to_end(source, seq), ACCEPTED_SETTLED))
        else:
            transactions.append(TransactionStatus(_end_to_end(source, seq), REJECTED, reason_code=code,
                                                  info=message))
    counts = PayrollRow.objects.filter(batch_id=batch.pk).aggregate(
        paid=Count("pk", filter=Q(result_code=RESULT_PAID)), failed=Count("pk", filter=~Q(result_code=RESULT_PAID)))
    return transactions, group_status_after_payment(paid=counts["paid"], failed=counts["failed"])


def pain002_build(*, batch: PayrollBatch) -> bytes:
    """The status report as of now. Raises Pain001Source.DoesNotExist for a batch that did not
    come as a pain.001."""
    source = Pain001Source.objects.get(batch_id=batch.pk)
    group_code, group_info = "", ""
    if batch.status in PAID_STATUSES:
        transactions, group_status = _payment(batch, source)
        stage = "PAY"
    elif batch.status in REFUSED_STATUSES:
        transactions, group_code, group_info = _refusal(batch, source)
        group_status, stage = REJECTED, "VAL"
    else:
        transactions, group_status, stage = [], ACCEPTED_TECHNICAL, "VAL"
    total = batch.total_amount
    if total is None:
        total = PayrollRow.objects.filter(batch_id=batch.pk).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    report = StatusReport(
        msg_id=f"PSR{batch.pk}{stage}{clock.now():%Y%m%d%H%M%S}", created=clock.now(),
        original_msg_id=source.msg_id, original_pmt_inf_id=batch.batch_no or str(batch.pk),
        original_count=batch.record_count or len(source.end_to_end_ids), original_total=total,
        group_status=group_status, transactions=transactions,
        group_reason_proprietary=group_code, group_info=group_info)
    return pain002_dump(report)


def pain002_download_name(*, batch: PayrollBatch) -> str:
    return f"PSR_{re.sub(r'[^A-Za-z0-9_-]', '_', batch.batch_no or str(batch.pk))}_{batch.status}.xml"


def pain002_download(*, batch: PayrollBatch, actor: Actor) -> bytes:
    """The report handed to the company (kiosk or API), audited. Another company's batch, or one
    without a report, raises Pain001Source.DoesNotExist."""
    if batch.company_id != actor.company_id or not pain002_available(batch=batch):
        raise Pain001Source.DoesNotExist
    data = pain002_build(batch=batch)
    audit_record(actor_kind=actor.kind, actor=actor.name, action="pain002_download", obj=batch,
                 company_id=actor.company_id, detail={"status": batch.status})
    return data
