"""Selectors for 变动提示 on the platform: the company's last paid batch of the agreement, the rows of a
batch as the ledger holds them (stored rows) or as pre-validation prepared them (a batch waiting for
确认入库 has no stored rows yet), and the comparison of payroll_exchange/changes.py between the two."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from apps.core.errors import ServiceError
from apps.core.files import private_path
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from payroll_exchange.changes import Changes, payroll_changes
from payroll_exchange.formats import payroll_load
from payroll_exchange.records import PayrollRow as FileRow

# Paid batches: 已发放, and 已回盘 once its return file is written; a batch that failed as a whole
# (发放失败, then 已回盘 too) paid nobody and has no paid_at.
PAID_STATUSES = (BatchStatus.PAID, BatchStatus.RETURNED)
CACHE_SECONDS = 3600
# Statuses whose rows are in PayrollRow.
STORED_STATUSES = (BatchStatus.STORED, BatchStatus.HELD, BatchStatus.REJECTED, BatchStatus.PAID,
                   BatchStatus.FAILED, BatchStatus.RETURNED)


def change_threshold_percent() -> Decimal:
    raw = getattr(settings, "PAYROLL_CHANGE_THRESHOLD_PERCENT", "30")
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise ImproperlyConfigured(f"PAYROLL_CHANGE_THRESHOLD_PERCENT must be a percentage, not {raw!r}") from exc
    if not value.is_finite() or value < 0:
        raise ImproperlyConfigured(f"PAYROLL_CHANGE_THRESHOLD_PERCENT must be a percentage, not {raw!r}")
    return value


def payroll_batch_last_paid(*, batch: PayrollBatch) -> PayrollBatch | None:
    """The agreement's most recently paid batch other than this one (latest pay date, then payment)."""
    return (PayrollBatch.objects.filter(agreement_id=batch.agreement_id, company_id=batch.company_id,
                                        status__in=PAID_STATUSES, paid_at__isnull=False,
                                        corrects__isnull=True)  # a correction (更正) is no month's payroll
            .exclude(pk=batch.pk).defer("errors", "new_employees")
            .order_by("-pay_date", "-paid_at", "-id").first())


_COPY_UNESCAPE = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def _copy_field(value: str) -> str:
    if "\\" not in value:
        return value
    out, chars = [], iter(value)
    for ch in chars:
        out.append(_COPY_UNESCAPE.get(next(chars, ""), "") if ch == "\\" else ch)
    return "".join(out)


def _prepared_rows(prepared: bytes) -> list[FileRow]:
    """The rows prepared at pre-validation (storing.payroll_rows_prepare): COPY text on PostgreSQL."""
    if connection.vendor != "postgresql":
        payroll, errors = payroll_load(prepared)
        if errors:
            raise RuntimeError("the validated file no longer parses")
        return payroll.rows
    rows = []
    for line in prepared.decode("utf-8").splitlines():
        # batch_id, seq, account, name, amount, id_type, id_number, remark, result_code, result_message
        cols = [_copy_field(c) for c in line.split("\t")]
        rows.append(FileRow(seq=int(cols[1]), account=cols[2], name=cols[3], amount=Decimal(cols[4]),
                            id_type=cols[5], id_number=cols[6], remark=cols[7]))
    return rows


def payroll_batch_rows(*, batch: PayrollBatch) -> list[FileRow]:
    """The batch's rows: stored ones from the ledger's table, else the ones prepared for storing."""
    if batch.status in STORED_STATUSES:
        return [FileRow(seq=seq, account=account, name=name, amount=amount, id_type=id_type, id_number=id_number,
                        remark="")
                for seq, account, name, amount, id_type, id_number in PayrollRow.objects.filter(batch=batch)
                .order_by("seq").values_list("seq", "account", "name", "amount", "id_type", "id_number")
                .iterator(chunk_size=5000)]
    if not batch.rows_digest:
        return []
    return _prepared_rows(private_path("validated", batch.stored_name).read_bytes())


def payroll_batch_changes(*, batch: PayrollBatch) -> Changes | None:
    """变动提示 of a batch against the last paid batch of its agreement; None when none was paid yet,
    and for a correction (更正), which pays a few failed rows again and is not a month's payroll."""
    if batch.corrects_id is not None:
        return None
    previous = payroll_batch_last_paid(batch=batch)
    if previous is None:
        return None
    threshold = change_threshold_percent()
    # A 100,000-row pair costs ~1 s of reading and comparing (CPU, this machine); the page refreshes and
    # 确认入库 asks again. Neither side's rows change once prepared (rows_digest) or paid, so the result is
    # kept under both batches and the threshold.
    key = f"payroll-changes:v1:{batch.pk}:{batch.rows_digest}:{previous.pk}:{threshold}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        rows = payroll_batch_rows(batch=batch)
    except FileNotFoundError:
        return None  # the prepared rows are gone (retention): nothing to compare, rather than "all removed"
    changes = payroll_changes(rows=rows, batch_no=batch.batch_no or "",
                              previous_rows=payroll_batch_rows(batch=previous),
                              previous_batch_no=previous.batch_no or "", threshold_percent=threshold)
    cache.set(key, changes, timeout=CACHE_SECONDS)
    return changes


class DuplicateNotAcknowledged(ServiceError):
    """疑似重复发放 and 确认入库 without the explicit acknowledgement."""


def duplicate_acknowledgement_require(*, batch: PayrollBatch, acknowledged: bool) -> bool:
    """疑似重复发放: a file whose rows and amounts equal the last paid batch under a new batch number
    is confirmed only with the agent's explicit acknowledgement. Returns whether it was suspected
    (the confirmation's audit records the acknowledgement)."""
    if batch.status != BatchStatus.AWAITING_CONFIRMATION:
        return False  # the transition refuses it anyway, and the prepared rows may be gone
    changes = payroll_batch_changes(batch=batch)
    if changes is None or not changes.suspected_duplicate:
        return False
    if not acknowledged:
        raise DuplicateNotAcknowledged(
            "suspected_duplicate_unacknowledged",
            f"疑似重复发放：此文件的明细和金额与已发放批次 {changes.previous_batch_no} 完全相同。"
            "请核实确需再次发放后，勾选“我已核实，确认再次发放”再点击“确认入库”；否则请点击“撤消”。",
            f"Suspected duplicate payment: this file's rows and amounts equal the paid batch "
            f"{changes.previous_batch_no}. If it really must be paid again, tick 'I have checked, pay again' "
            "and press 确认入库; otherwise press 撤消.",
        )
    return True
