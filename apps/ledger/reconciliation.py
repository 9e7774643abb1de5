"""Reconciliation (对账): per batch, the batch's totals, its rows, its ledger postings and its return
file must tell the same story; every account's balance must equal the sum of its journal.

The bank cannot decrypt the return file it sent (only the enterprise key can), so the file is
checked through what the bank kept: the digest of its sealed bytes (the file on disk is the
file sent), and the digest and totals of its plain content, which is rebuilt from the rows (the
format is deterministic) so a row changed after the file was made is found too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Sum

from apps.core.files import private_path
from apps.ledger.models import EntryKind, EntrySide, JournalEntry
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.returns.models import ReturnFile
from apps.returns.services import RETURNS_AREA, return_content_build
from payroll_exchange.formats import file_digest
from payroll_exchange.records import RESULT_PAID

_ZERO = Decimal("0.00")
_CENT = Decimal("0.01")
RECONCILED_STATUSES = (BatchStatus.PAID, BatchStatus.FAILED, BatchStatus.RETURNED)


@dataclass(frozen=True, slots=True)
class Difference:
    subject: str  # "batch 12" or "account 6222..."
    what: str
    expected: object
    found: object

    def __str__(self) -> str:
        return f"{self.subject}: {self.what}: expected {self.expected}, found {self.found}"


def _posted(batch_id: int) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """Net (count, amount) per (kind, side) of a batch's postings; a reversal leg counts against
    the side of the leg it cancels."""
    net: dict[tuple[str, str], tuple[int, Decimal]] = defaultdict(lambda: (0, _ZERO))
    grouped = (
        JournalEntry.objects.filter(batch_id=batch_id)
        .values("kind", "side", "is_reversal")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    for group in grouped:
        side, sign = group["side"], 1
        if group["is_reversal"]:
            side, sign = (EntrySide.CREDIT if side == EntrySide.DEBIT else EntrySide.DEBIT), -1
        count, amount = net[(group["kind"], side)]
        net[(group["kind"], side)] = (count + sign * group["n"], amount + sign * group["total"])
    return dict(net)


def _batch_differences(batch: PayrollBatch) -> list[Difference]:
    subject = f"batch {batch.pk} ({batch.agreement.number}/{batch.batch_no})"
    out: list[Difference] = []

    def expect(what: str, expected: object, found: object) -> None:
        if expected != found:
            out.append(Difference(subject, what, expected, found))

    # The batch's own totals against its rows.
    rows = PayrollRow.objects.filter(batch_id=batch.pk)
    row_count = rows.count()
    paid_rows = rows.filter(result_code=RESULT_PAID)
    ok_count = paid_rows.count()
    ok_amount = sum(paid_rows.values_list("amount", flat=True), _ZERO)
    all_amount = sum(rows.values_list("amount", flat=True), _ZERO)
    expect("record count (rows)", batch.record_count, row_count)
    expect("total amount (rows)", batch.total_amount, all_amount)
    expect("success count (rows)", batch.success_count, ok_count)
    expect("success amount (rows)", batch.success_amount, ok_amount)
    expect("failure count (rows)", batch.failure_count, row_count - ok_count)
    expect("failure amount (rows)", batch.failure_amount, all_amount - ok_amount)
    expect("fee charged (agreement fee × successful rows)",
           (batch.agreement.fee_per_payment * batch.success_count).quantize(_CENT) if batch.success_count
           else _ZERO, batch.fee_charged)

    # The ledger: one credit per successful row, the settlement debit, the fee legs.
    posted = _posted(batch.pk)
    credits = posted.get((EntryKind.PAYROLL, EntrySide.CREDIT), (0, _ZERO))
    expect("ledger: employee credits (count, amount)", (batch.success_count, batch.success_amount), credits)
    expect("ledger: settlement debit", batch.success_amount,
           posted.get((EntryKind.PAYROLL, EntrySide.DEBIT), (0, _ZERO))[1])
    expect("ledger: fee debited", batch.fee_charged, posted.get((EntryKind.FEE, EntrySide.DEBIT), (0, _ZERO))[1])
    expect("ledger: fee credited", batch.fee_charged, posted.get((EntryKind.FEE, EntrySide.CREDIT), (0, _ZERO))[1])

    # The return file: present once returned; its totals, its plain content, its bytes on disk.
    return_file = ReturnFile.objects.filter(batch_id=batch.pk).first()
    if batch.status == BatchStatus.RETURNED and return_file is None:
        out.append(Difference(subject, "return file", "a return file", "none"))
    if return_file is not None:
        expect("return file totals (count, ok, ok amount, failed, failed amount, fee)",
               (batch.record_count, batch.success_count, batch.success_amount, batch.failure_count,
                batch.failure_amount, batch.fee_charged),
               (return_file.record_count, return_file.success_count, return_file.success_amount,
                return_file.failure_count, return_file.failure_amount, return_file.fee_charged))
        expect("return file plain content digest (rebuilt from the rows)", return_file.plain_digest,
               file_digest(return_content_build(batch=batch, version=return_file.format_version).data))
        path = private_path(RETURNS_AREA, return_file.stored_name)
        expect("return file on disk (sha-256)", return_file.digest,
               file_digest(path.read_bytes()) if path.exists() else "missing")
    return out


def _balance_differences() -> list[Difference]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.number, a.balance, COALESCE(j.net, 0)
              FROM ledger_ledgeraccount AS a
              LEFT JOIN (SELECT account_id, SUM(CASE WHEN side = 'C' THEN amount ELSE -amount END) AS net
                           FROM ledger_journalentry GROUP BY account_id) AS j ON j.account_id = a.id
             WHERE a.balance <> COALESCE(j.net, 0)
             ORDER BY a.number
            """
        )
        return [Difference(f"account {number}", "balance (sum of its journal)", Decimal(net), Decimal(balance))
                for number, balance, net in cursor.fetchall()]


def _unbalanced_txns() -> list[Difference]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT txn_id, SUM(CASE WHEN side = 'D' THEN amount ELSE 0 END),
                   SUM(CASE WHEN side = 'C' THEN amount ELSE 0 END)
              FROM ledger_journalentry GROUP BY txn_id
            HAVING SUM(CASE WHEN side = 'D' THEN amount ELSE -amount END) <> 0
            """
        )
        return [Difference(f"txn {txn}", "debits = credits", Decimal(debits), Decimal(credits))
                for txn, debits, credits in cursor.fetchall()]


def reconciliation_run(*, pay_date: date | None = None) -> list[Difference]:
    """Every difference found; an empty list means the books agree."""
    batches = PayrollBatch.objects.filter(status__in=RECONCILED_STATUSES).select_related("agreement")
    if pay_date is not None:
        batches = batches.filter(pay_date=pay_date)
    differences: list[Difference] = []
    for batch in batches.order_by("pay_date", "id"):
        differences += _batch_differences(batch)
    # Batches that never reached pay day must have no postings at all.
    unpaid_posted = (
        JournalEntry.objects.filter(batch__isnull=False).exclude(batch__status__in=RECONCILED_STATUSES)
        .values_list("batch_id", flat=True).distinct()
    )
    differences += [Difference(f"batch {batch_id}", "ledger postings of an unpaid batch", "none", "some")
                    for batch_id in unpaid_posted]
    return differences + _balance_differences() + _unbalanced_txns()
