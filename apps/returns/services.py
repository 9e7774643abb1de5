"""Return files (回盘文件): the day after the pay date, every row's result and the totals, signed by
the bank and encrypted for the company's certificate; the batch becomes 已回盘.

One transaction per batch: lock the batch, write the sealed file (atomically, under a fresh
name), record it and move the batch to returned. A crash before the commit leaves at most an
unreferenced file; the next run makes the file again. A rerun finds the batch returned.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction

from apps.agreements import services as agreement_services
from apps.cards.models import ServiceCard
from apps.core.files import private_file_write, private_path
from apps.core.services import audit_record
from apps.intake.actors import Actor, actor_of
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.transitions import batch_transition
from apps.returns.models import ReturnFile
from payroll_exchange import pki
from payroll_exchange.envelope import envelope_seal
from payroll_exchange.formats import file_digest, return_dump
from payroll_exchange.records import RESULT_PAID, RETURN_DIGEST_VERSION, ReturnHeader, ReturnRow
from payroll_exchange.records import ReturnFile as ReturnRecord

logger = logging.getLogger(__name__)

RETURNS_AREA = "returns"
_ZERO = Decimal("0.00")
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class ReturnContent:
    """The plain return file as the enterprise will read it, and its totals."""

    data: bytes
    record_count: int
    success_count: int
    success_amount: Decimal
    failure_count: int
    failure_amount: Decimal
    fee_charged: Decimal


def return_content_build(*, batch: PayrollBatch, version: str = RETURN_DIGEST_VERSION) -> ReturnContent:
    """Build the plain return file from the batch's rows as they are now (also used by reconciliation,
    with the version the stored file was written in). Version 2 carries the payroll file's digest."""
    with connection.cursor() as cursor:
        # The unique (batch, seq) index serves this order; one round trip, no model instances.
        cursor.execute(
            "SELECT seq, account, name, amount, result_code, result_message FROM payroll_payrollrow"
            " WHERE batch_id = %s ORDER BY seq",
            [batch.pk],
        )
        fetched = cursor.fetchall()
    if connection.vendor != "postgresql":
        # Only PostgreSQL hands a raw NUMERIC back as Decimal; SQLite (the demo) gives int or float.
        fetched = [(seq, account, name, Decimal(str(amount)).quantize(_CENT), code, message)
                   for seq, account, name, amount, code, message in fetched]
    rows = [ReturnRow(seq, account, name, amount, code, message)
            for seq, account, name, amount, code, message in fetched]
    ok_count = 0
    ok_amount = bad_amount = _ZERO
    for row in rows:
        if row.result_code == RESULT_PAID:
            ok_count += 1
            ok_amount += row.amount
        else:
            bad_amount += row.amount
    header = ReturnHeader(
        format_version=version, agreement_no=batch.agreement.number,
        payer_unit_no=batch.agreement.payer_unit_no, batch_no=batch.batch_no or "", pay_date=batch.pay_date,
        success_count=ok_count, success_amount=ok_amount, failure_count=len(rows) - ok_count,
        failure_amount=bad_amount, fee_charged=batch.fee_charged,
        payroll_digest=(batch.digest or "") if version == RETURN_DIGEST_VERSION else "",
        original_batch_no=(batch.corrects.batch_no or "") if batch.corrects_id and version == RETURN_DIGEST_VERSION
        else "",  # 更正: the original batch this correction paid again
    )
    return ReturnContent(
        data=return_dump(ReturnRecord(header=header, rows=rows)), record_count=len(rows),
        success_count=ok_count, success_amount=ok_amount, failure_count=len(rows) - ok_count,
        failure_amount=bad_amount, fee_charged=batch.fee_charged,
    )


def return_files_due(*, today: date) -> list[int]:
    return list(
        PayrollBatch.objects.filter(status__in=[BatchStatus.PAID, BatchStatus.FAILED], pay_date__lt=today)
        .order_by("pay_date", "id")
        .values_list("id", flat=True)
    )


def return_files_run(*, today: date) -> int:
    """Produce the return file of every paid or failed batch whose pay date is before ``today``."""
    due = return_files_due(today=today)
    if not due:
        return 0
    signer = agreement_services.bank_identity()
    made = 0
    for batch_id in due:
        try:
            if return_file_produce(batch_id=batch_id, today=today, signer=signer) is not None:
                made += 1
        except Exception:
            # One batch (say, a certificate that will not load) must not hold up every other company's file.
            logger.exception("return files: batch %s failed", batch_id)
    return made


def return_file_produce(*, batch_id: int, today: date, signer: pki.Identity) -> ReturnFile | None:
    with transaction.atomic():
        batch = (
            PayrollBatch.objects.select_for_update(of=("self",))
            .select_related("agreement__certificate")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None or batch.status not in (BatchStatus.PAID, BatchStatus.FAILED) or batch.pay_date >= today:
            return None
        if ReturnFile.objects.filter(batch_id=batch.pk).exists():
            raise RuntimeError(f"batch {batch.pk} has a return file but is still {batch.status}")
        content = return_content_build(batch=batch)
        recipient = pki.cert_load_pem(batch.agreement.certificate.pem.encode())
        file_id = f"R{uuid.uuid4().hex}"
        sealed = envelope_seal(payload=content.data, kind="return", signer=signer, recipient_cert=recipient,
                               file_id=file_id)
        stored_name = f"{uuid.uuid4().hex}.p7m"
        private_file_write(area=RETURNS_AREA, name=stored_name, data=sealed)
        return_file = ReturnFile.objects.create(
            batch=batch, stored_name=stored_name, file_id=file_id, size=len(sealed), digest=file_digest(sealed),
            plain_digest=file_digest(content.data), format_version=RETURN_DIGEST_VERSION,
            record_count=content.record_count, success_count=content.success_count,
            success_amount=content.success_amount, failure_count=content.failure_count,
            failure_amount=content.failure_amount, fee_charged=content.fee_charged, business_date=today,
        )
        batch_transition(batch_id=batch.pk, action="return")
        audit_record(actor_kind="system", actor="returns", action="return_file_made", obj=batch,
                     company_id=batch.company_id, detail={"file_id": file_id, "digest": return_file.digest})
        return return_file


def return_file_download(*, return_file: ReturnFile, card: ServiceCard | None = None,
                         actor: Actor | None = None) -> bytes:
    """回盘下载 (kiosk or API): the sealed bytes (still encrypted for the company); audited."""
    actor = actor_of(card=card, actor=actor)
    if return_file.batch.company_id != actor.company_id:
        raise ReturnFile.DoesNotExist
    data = private_path(RETURNS_AREA, return_file.stored_name).read_bytes()
    audit_record(actor_kind=actor.kind, actor=actor.name, action="return_file_download", obj=return_file,
                 company_id=actor.company_id, detail={"batch": return_file.batch_id})
    return data
