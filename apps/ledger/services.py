"""Ledger writes: opening accounts, balanced transfers and reversals.

Every posting writes its legs with a few set-based statements and then moves the balances of the
accounts it touched with one UPDATE ... FROM (SELECT account, sum GROUP BY account) over its own
txn, in the same database transaction: never a write per leg.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from django.db import connection, transaction

from apps.agreements.models import Company
from apps.core import clock
from apps.core.errors import ServiceError
from apps.core.services import audit_record
from apps.ledger.models import (
    AccountKind,
    AccountStatus,
    EntryKind,
    EntrySide,
    JournalEntry,
    JournalReversal,
    LedgerAccount,
)

# The bank's own accounts, opened on first use.
FEE_INCOME_NUMBER = "FEE-INCOME-CNY"
SUSPENSE_NUMBER = "SUSPENSE-CNY"
_CENT = Decimal("0.01")


class LedgerError(ServiceError):
    pass


def uuid_param(value: uuid.UUID) -> uuid.UUID | str:
    """A txn id as a raw-SQL parameter: PostgreSQL has a uuid type, SQLite stores Django's hex."""
    return value if connection.vendor == "postgresql" else value.hex


def ledger_account_open(
    *,
    number: str,
    holder_name: str,
    kind: str,
    company: Company | None = None,
    status: str = AccountStatus.NORMAL,
) -> LedgerAccount:
    return LedgerAccount.objects.create(number=number, holder_name=holder_name, kind=kind, company=company,
                                        status=status)


def ledger_account_status_set(*, account: LedgerAccount, status: str, actor: str = "system") -> None:
    """冻结 / 解冻 / 销户. A closed account stays closed; only an empty account can be closed. Both
    rules sit in the UPDATE's condition, so a posting racing this call cannot slip between a check
    and the write."""
    if status not in AccountStatus.values:
        raise ValueError(f"unknown account status {status!r}")
    accounts = LedgerAccount.objects.filter(pk=account.pk).exclude(status=AccountStatus.CLOSED)
    if status == AccountStatus.CLOSED:
        accounts = accounts.filter(balance=0)
    before = account.status
    if accounts.update(status=status) != 1:
        current = LedgerAccount.objects.get(pk=account.pk)
        if current.status == AccountStatus.CLOSED:
            raise LedgerError("account_closed", f"账户 {current.number} 已销户，状态不能再改变。",
                              f"Account {current.number} is closed; its status cannot change any more.")
        raise LedgerError("account_not_empty",
                          f"账户 {current.number} 余额为 {current.balance} 元，余额为零才能销户。",
                          f"Account {current.number} holds {current.balance} yuan; "
                          "only an empty account can be closed.")
    account.status = status
    audit_record(actor_kind="staff", actor=actor, action="ledger_account_status", obj=account,
                 company_id=account.company_id, detail={"from": before, "to": status})


def ledger_fee_income_account() -> LedgerAccount:
    account, _created = LedgerAccount.objects.get_or_create(
        number=FEE_INCOME_NUMBER, defaults={"holder_name": "代发手续费收入", "kind": AccountKind.FEE_INCOME}
    )
    return account


def ledger_suspense_account() -> LedgerAccount:
    account, _created = LedgerAccount.objects.get_or_create(
        number=SUSPENSE_NUMBER, defaults={"holder_name": "暂收暂付款项", "kind": AccountKind.SUSPENSE}
    )
    return account


def ledger_posting_lock() -> LedgerAccount:
    """Serialize postings on the fee-income account row. Every pay-day posting credits it anyway;
    taking it first means two postings never lock employee accounts in opposite orders."""
    fee_income = ledger_fee_income_account()
    return LedgerAccount.objects.select_for_update().get(pk=fee_income.pk)


def balances_apply(*, txn_id: uuid.UUID, account_ids: list[int] | None = None) -> int:
    """Move the balance of every account ``txn_id`` touched (or only ``account_ids``), in one
    statement. Returns the number of accounts moved."""
    only = ""
    params: list = [uuid_param(txn_id)]
    if account_ids is not None:
        only = f" AND account_id IN ({', '.join(['%s'] * len(account_ids))})"
        params += account_ids
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE ledger_ledgeraccount
               SET balance = ledger_ledgeraccount.balance + d.delta
              FROM (SELECT account_id,
                           SUM(CASE WHEN side = 'C' THEN amount ELSE -amount END) AS delta
                      FROM ledger_journalentry
                     WHERE txn_id = %s{only}
                     GROUP BY account_id) AS d
             WHERE ledger_ledgeraccount.id = d.account_id
            """,  # noqa: S608 - only placeholders are interpolated
            params,
        )
        return cursor.rowcount


def journal_transfer(
    *,
    debit_account: LedgerAccount,
    credit_account: LedgerAccount,
    amount: Decimal,
    memo: str,
    business_date: date | None = None,
) -> uuid.UUID:
    """Move ``amount`` from one account to another: a balanced two-leg transaction."""
    if amount <= 0 or amount != amount.quantize(_CENT):
        raise LedgerError("amount_invalid", "金额须为正数，最多两位小数。", "The amount must be positive with at most "
                          "two decimals.")
    if debit_account.pk == credit_account.pk:
        raise LedgerError("same_account", "借贷方不能为同一账户。", "Debit and credit accounts must differ.")
    txn_id = uuid.uuid4()
    day = business_date or clock.today()
    with transaction.atomic():
        ledger_posting_lock()
        JournalEntry.objects.bulk_create([
            JournalEntry(txn_id=txn_id, account=debit_account, side=EntrySide.DEBIT, kind=EntryKind.TRANSFER,
                         amount=amount, memo=memo, business_date=day),
            JournalEntry(txn_id=txn_id, account=credit_account, side=EntrySide.CREDIT, kind=EntryKind.TRANSFER,
                         amount=amount, memo=memo, business_date=day),
        ])
        balances_apply(txn_id=txn_id)
    return txn_id


def ledger_deposit(*, account: LedgerAccount, amount: Decimal, memo: str = "存入") -> uuid.UUID:
    """Cash in through the suspense account, so every balance is the sum of its journal."""
    return journal_transfer(debit_account=ledger_suspense_account(), credit_account=account, amount=amount,
                            memo=memo)


def journal_reverse(*, txn_id: uuid.UUID, memo: str, business_date: date | None = None) -> uuid.UUID:
    """Cancel a whole transaction with a new one: every leg mirrored on the other side. A txn is
    reversed once and a reversal is not itself reversed (JournalReversal is unique both ways)."""
    day = business_date or clock.today()
    reversal_id = uuid.uuid4()
    with transaction.atomic():
        ledger_posting_lock()
        legs = JournalEntry.objects.filter(txn_id=txn_id)
        if not legs.exists():
            raise LedgerError("txn_unknown", "交易不存在。", f"No ledger transaction {txn_id}.")
        if legs.filter(is_reversal=True).exists():
            raise LedgerError("txn_is_reversal", "冲正交易不能再冲正。", "A reversal cannot be reversed.")
        if JournalReversal.objects.filter(original_txn=txn_id).exists():
            raise LedgerError("txn_reversed", "该交易已冲正。", "This transaction was already reversed.")
        JournalReversal.objects.create(original_txn=txn_id, reversal_txn=reversal_id, memo=memo[:200])
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO ledger_journalentry
                       (txn_id, account_id, side, kind, amount, batch_id, row_seq, is_reversal, memo, business_date)
                SELECT %s, account_id, CASE side WHEN 'D' THEN 'C' ELSE 'D' END, kind, amount, batch_id,
                       row_seq, TRUE, %s, %s
                  FROM ledger_journalentry
                 WHERE txn_id = %s
                """,
                [uuid_param(reversal_id), memo[:200], day, uuid_param(txn_id)],
            )
        balances_apply(txn_id=reversal_id)
    return reversal_id
