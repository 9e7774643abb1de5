"""Pay day (发放): pay each stored batch whose pay date has come, exactly once.

Each batch is one database transaction: lock the batch row, re-check it is still stored, classify
every row against the ledger in one UPDATE, then either post it (one INSERT ... SELECT for the
employee credits, one INSERT for the settlement and fee legs, one UPDATE ... FROM for balances)
or fail the whole batch. A worker that dies in the middle leaves nothing of that batch; the next
run finds it still stored and pays it. A rerun finds it paid and skips it; the journal's unique
posting index would refuse a second posting even if every other guard failed.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q, Sum

from apps.core import clock
from apps.core.services import audit_record
from apps.ledger.models import AccountKind, AccountStatus, EntryKind, EntrySide, JournalEntry, LedgerAccount
from apps.ledger.services import balances_apply, ledger_posting_lock, uuid_param
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.payroll.services.transitions import batch_transition

logger = logging.getLogger(__name__)

_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")

# Row result codes: ISO 20022 reason codes (ExternalStatusReason1Code), as the return file carries them.
PAID = "0000"
ACCOUNT_MISSING = "AC01"  # IncorrectAccountNumber: no such account
ACCOUNT_CLOSED = "AC04"  # ClosedAccountNumber
ACCOUNT_FROZEN = "AC06"  # BlockedAccount: frozen by the bank or a court order
# InconsistentWithEndCustomer: the account exists but is held under another name. BE01 is the ISO
# code for exactly this; "NAME" in the exchange contract's comment is not an ISO code.
NAME_MISMATCH = "BE01"
INSUFFICIENT_FUNDS = "AM04"  # the settlement account cannot cover the batch

RESULT_MESSAGES = {
    PAID: "成功",
    ACCOUNT_MISSING: "账户不存在",
    ACCOUNT_CLOSED: "账户已销户",
    ACCOUNT_FROZEN: "账户已冻结",
    NAME_MISMATCH: "户名与账号不符",
}

# Classifying is two UPDATEs: the rows whose account exists (an inner join, so no self-join of the
# batch's rows to reach them through a LEFT JOIN: classify 0.35 s -> 0.28 s backend CPU on 100k rows,
# and no hash of every row id at 1M), then every row the first left blank has no account. Each
# row is written once either way; the caller checks both counts add up to the batch's rows.
# The order of the rules is the order of precedence.
_FOUND_RULES = (
    (f"a.status = '{AccountStatus.CLOSED}'", ACCOUNT_CLOSED),
    (f"a.status = '{AccountStatus.FROZEN}'", ACCOUNT_FROZEN),
    ("a.holder_name <> r.name", NAME_MISMATCH),
)
_CLASSIFY_FOUND_SQL = f"""
UPDATE payroll_payrollrow AS r
   SET result_code = CASE {" ".join(f"WHEN {rule} THEN '{code}'" for rule, code in _FOUND_RULES)} ELSE '{PAID}' END,
       result_message = CASE {" ".join(f"WHEN {rule} THEN %s" for rule, _code in _FOUND_RULES)} ELSE %s END
  FROM ledger_ledgeraccount AS a
 WHERE r.batch_id = %s AND a.number = r.account AND a.kind = '{AccountKind.EMPLOYEE}'
"""  # noqa: S608 - every interpolated value is a module constant; data goes in as parameters
_CLASSIFY_FOUND_PARAMS = [*(RESULT_MESSAGES[code] for _rule, code in _FOUND_RULES), RESULT_MESSAGES[PAID]]
_CLASSIFY_MISSING_SQL = f"""
UPDATE payroll_payrollrow SET result_code = '{ACCOUNT_MISSING}', result_message = %s
 WHERE batch_id = %s AND result_code = ''
"""  # noqa: S608 - as above

_CREDITS_SQL = f"""
INSERT INTO ledger_journalentry (txn_id, account_id, side, kind, amount, batch_id, row_seq, memo, business_date)
SELECT %s, a.id, '{EntrySide.CREDIT}', '{EntryKind.PAYROLL}', r.amount, r.batch_id, r.seq, %s, %s
  FROM payroll_payrollrow AS r
  JOIN ledger_ledgeraccount AS a ON a.number = r.account AND a.kind = '{AccountKind.EMPLOYEE}'
 WHERE r.batch_id = %s AND r.result_code = '{PAID}'
"""  # noqa: S608 - as above

# Planner settings for the posting's transaction only (SET LOCAL ends with it, so they hold behind
# PgBouncer in transaction mode too). Measured in benchmarks/bench_payday.py, backend CPU:
# - work_mem: at the 4 MB default the hash of the employee accounts (~5 MB per 100k) spills in
#   batches to temp files and the balance update sorts 97k legs on disk;
# - no nested loops: the statistics were taken when every row's result was still blank, so the
#   planner expects one paid row and one leg of the fresh txn, and chose 97k index probes for the
#   credits' join and the balance update; hash joins over the same rows cost less than half
#   (with work_mem: 1.40 s -> 1.13 s for classify, credits and balances on 100k rows);
# - no JIT: at 1M rows the classify's cost passes jit_above_cost and compiling cost more than it
#   saved (and made the 1M-row posting grow faster than the row count);
# - no hash aggregate: the balance update's GROUP BY account of 970k legs outgrew even 128 MB × the
#   hash multiplier and spilled in 5 batches; sorted in memory it costs the same at 100k rows and
#   at 1M rows the three statements took 12.8 s instead of 18.1 s.
_POSTING_SETTINGS = ("SET LOCAL work_mem = '128MB'", "SET LOCAL enable_nestloop = off", "SET LOCAL jit = off",
                     "SET LOCAL enable_hashagg = off")


@dataclass
class PaydayResult:
    paid: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)


def payday_due_batch_ids(*, today: date) -> list[int]:
    return list(
        PayrollBatch.objects.filter(status=BatchStatus.STORED, pay_date__lte=today)
        .order_by("pay_date", "id")
        .values_list("id", flat=True)
    )


def payday_run(*, today: date) -> PaydayResult:
    """Pay every stored batch whose pay date is today or earlier, one transaction per batch."""
    result = PaydayResult()
    for batch_id in payday_due_batch_ids(today=today):
        try:
            outcome = payday_batch_post(batch_id=batch_id, today=today)
        except Exception:
            # One broken batch must not keep every later batch from being paid; it stays stored
            # and is tried again at the next run.
            logger.exception("pay day: batch %s could not be posted", batch_id)
            result.errors.append(batch_id)
            continue
        {"paid": result.paid, "failed": result.failed}.get(outcome or "", result.skipped).append(batch_id)
    return result


def _settlement_refusal(account: LedgerAccount | None, needed: Decimal) -> tuple[str, str] | None:
    if account is None:
        return ACCOUNT_MISSING, "结算账户不存在"
    if account.status == AccountStatus.CLOSED:
        return ACCOUNT_CLOSED, "结算账户已销户"
    if account.status == AccountStatus.FROZEN:
        return ACCOUNT_FROZEN, "结算账户已冻结"
    if account.balance < needed:
        return INSUFFICIENT_FUNDS, f"结算账户余额不足：需 {needed} 元，可用 {account.balance} 元"
    return None


def payday_batch_post(*, batch_id: int, today: date) -> str | None:
    """Pay one batch. Returns "paid", "failed", or None when it is no longer due (held, already
    paid by a concurrent run, rejected...)."""
    with transaction.atomic():
        # A hold or a concurrent run that arrives now waits on this lock, then finds the batch paid.
        batch = (
            PayrollBatch.objects.select_for_update(of=("self",))
            .select_related("agreement")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None or batch.status != BatchStatus.STORED or batch.pay_date is None or batch.pay_date > today:
            return None
        agreement = batch.agreement
        fee_income = ledger_posting_lock()
        settlement = (
            LedgerAccount.objects.select_for_update()
            .filter(number=agreement.settlement_account, kind=AccountKind.SETTLEMENT)
            .first()
        )

        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for setting in _POSTING_SETTINGS:
                    cursor.execute(setting)
            cursor.execute(_CLASSIFY_FOUND_SQL, [*_CLASSIFY_FOUND_PARAMS, batch.pk])
            classified = cursor.rowcount
            cursor.execute(_CLASSIFY_MISSING_SQL, [RESULT_MESSAGES[ACCOUNT_MISSING], batch.pk])
            classified += cursor.rowcount
        totals = PayrollRow.objects.filter(batch_id=batch.pk).aggregate(
            rows=Count("id"),
            total=Sum("amount"),
            ok_count=Count("id", filter=Q(result_code=PAID)),
            ok_amount=Sum("amount", filter=Q(result_code=PAID)),
        )
        if classified != totals["rows"]:  # a row carried a result already: roll the batch back
            raise RuntimeError(f"batch {batch.pk}: {classified} rows classified of {totals['rows']}")
        ok_count = totals["ok_count"]
        ok_amount = totals["ok_amount"] or _ZERO
        total = totals["total"] or _ZERO
        fee = (agreement.fee_per_payment * ok_count).quantize(_CENT)
        refusal = _settlement_refusal(settlement, ok_amount + fee)
        if refusal is not None:
            return _batch_fail(batch=batch, refusal=refusal, rows=totals["rows"], total=total)

        txn_id = uuid.uuid4()
        memo = f"代发工资 {agreement.number} {batch.batch_no}"[:200]
        if ok_count:
            _credits_post(txn_id=txn_id, batch_id=batch.pk, memo=memo, today=today, expected=ok_count)
            legs = [JournalEntry(txn_id=txn_id, account=settlement, side=EntrySide.DEBIT, kind=EntryKind.PAYROLL,
                                 amount=ok_amount, batch=batch, memo=memo, business_date=today)]
            if fee > 0:
                fee_memo = f"代发手续费 {agreement.number} {batch.batch_no} {ok_count} 笔"[:200]
                legs += [
                    JournalEntry(txn_id=txn_id, account=settlement, side=EntrySide.DEBIT, kind=EntryKind.FEE,
                                 amount=fee, batch=batch, memo=fee_memo, business_date=today),
                    JournalEntry(txn_id=txn_id, account=fee_income, side=EntrySide.CREDIT, kind=EntryKind.FEE,
                                 amount=fee, batch=batch, memo=fee_memo, business_date=today),
                ]
            JournalEntry.objects.bulk_create(legs)
            balances_apply(txn_id=txn_id, account_ids=[settlement.pk, fee_income.pk])

        fields = {
            "success_count": ok_count, "success_amount": ok_amount,
            "failure_count": totals["rows"] - ok_count, "failure_amount": total - ok_amount,
            "fee_charged": fee, "paid_at": clock.now(), "failure_reason": "",
        }
        batch_transition(batch_id=batch.pk, action="pay", **fields)
        audit_record(actor_kind="system", actor="payday", action="payroll_batch_paid", obj=batch,
                     company_id=batch.company_id,
                     detail={"txn_id": str(txn_id) if ok_count else None, "success_count": ok_count,
                             "success_amount": str(ok_amount), "failure_count": fields["failure_count"],
                             "fee_charged": str(fee)})
        return "paid"


def _credits_post(*, txn_id: uuid.UUID, batch_id: int, memo: str, today: date, expected: int) -> None:
    """Credit every paid row's employee account and move those balances."""
    # Tried: one statement (INSERT ... RETURNING inside WITH feeding the balance UPDATE); it was
    # no faster in benchmarks/bench_payday.py and does not run on SQLite, so two statements.
    with connection.cursor() as cursor:
        cursor.execute(_CREDITS_SQL, [uuid_param(txn_id), memo, today, batch_id])
        credited = cursor.rowcount
    if credited != expected:  # the accounts changed under the classification: roll the batch back
        raise RuntimeError(f"batch {batch_id}: {credited} credits for {expected} paid rows")
    balances_apply(txn_id=txn_id)  # so far the txn holds the credits only


def _batch_fail(*, batch: PayrollBatch, refusal: tuple[str, str], rows: int, total: Decimal) -> str:
    """发放失败: every row carries the batch's reason and nothing moves."""
    code, reason = refusal
    PayrollRow.objects.filter(batch_id=batch.pk).update(result_code=code, result_message=reason[:200])
    batch_transition(batch_id=batch.pk, action="fail", success_count=0, success_amount=_ZERO, failure_count=rows,
                     failure_amount=total, fee_charged=_ZERO, failure_reason=reason[:300])
    audit_record(actor_kind="system", actor="payday", action="payroll_batch_failed", obj=batch,
                 company_id=batch.company_id, detail={"code": code, "reason": reason})
    return "failed"
