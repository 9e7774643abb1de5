"""PostgreSQL itself keeps the journal append-only and balanced, whoever writes to it."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from apps.ledger.models import AccountKind, JournalEntry, JournalReversal, LedgerAccount
from apps.ledger.services import (
    LedgerError,
    journal_reverse,
    journal_transfer,
    ledger_account_open,
    ledger_suspense_account,
)

DAY = date(2026, 12, 1)


@pytest.fixture
def two_accounts(db, business_clock):
    a = ledger_account_open(number="6222000000000001", holder_name="张三", kind=AccountKind.EMPLOYEE)
    b = ledger_account_open(number="6222000000000002", holder_name="李四", kind=AccountKind.EMPLOYEE)
    txn = journal_transfer(debit_account=ledger_suspense_account(), credit_account=a, amount=Decimal("100.00"),
                           memo="存入")
    return a, b, txn


def _journal_snapshot():
    return list(JournalEntry.objects.order_by("id").values_list("id", "txn_id", "account_id", "side", "amount"))


def _balances():
    return dict(LedgerAccount.objects.values_list("number", "balance"))


def _insert_leg(cursor, *, txn: uuid.UUID, account: LedgerAccount, side: str, amount: str) -> None:
    cursor.execute(
        "INSERT INTO ledger_journalentry (txn_id, account_id, side, kind, amount, memo, business_date)"
        " VALUES (%s, %s, %s, 'transfer', %s, 'raw', %s)",
        [txn, account.pk, side, Decimal(amount), DAY],
    )


def _commit_legs(legs: list[tuple[uuid.UUID, LedgerAccount, str, str]], *, check_now: bool) -> None:
    """Insert ``legs`` with raw SQL in one atomic block. Inside a test transaction the commit
    never comes, so ``check_now`` asks PostgreSQL to run the deferred check at once, exactly as
    COMMIT would (SET CONSTRAINTS ALL IMMEDIATE)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for txn, account, side, amount in legs:
            _insert_leg(cursor, txn=txn, account=account, side=side, amount=amount)
        if check_now:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_journalentry SET amount = amount + 1",
    "UPDATE ledger_journalentry SET memo = 'edited' WHERE id = (SELECT min(id) FROM ledger_journalentry)",
    "DELETE FROM ledger_journalentry",
    "DELETE FROM ledger_journalentry WHERE id = (SELECT max(id) FROM ledger_journalentry)",
])
def test_update_and_delete_on_the_journal_are_refused(two_accounts, statement: str) -> None:
    before, balances = _journal_snapshot(), _balances()
    with pytest.raises(IntegrityError, match="append-only") as refused, transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(statement)
    assert refused.value.__cause__.sqlstate == "23001"  # restrict_violation
    assert _journal_snapshot() == before
    assert _balances() == balances


def test_orm_update_and_delete_are_refused_too(two_accounts) -> None:
    before = _journal_snapshot()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        JournalEntry.objects.update(memo="x")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        JournalEntry.objects.all().delete()
    assert _journal_snapshot() == before


def test_unbalanced_legs_are_refused_when_the_constraint_is_checked(two_accounts) -> None:
    a, b, _txn = two_accounts
    before = _journal_snapshot()
    txn = uuid.uuid4()
    with pytest.raises(IntegrityError, match="unbalanced ledger transaction") as refused:
        _commit_legs([(txn, a, "D", "10.00"), (txn, b, "C", "9.99")], check_now=True)
    assert refused.value.__cause__.sqlstate == "23514"  # check_violation
    assert _journal_snapshot() == before


def test_a_later_leg_cannot_unbalance_a_committed_txn(two_accounts) -> None:
    a, _b, txn = two_accounts
    before = _journal_snapshot()
    with pytest.raises(IntegrityError, match="unbalanced"):
        _commit_legs([(txn, a, "C", "1.00")], check_now=True)
    assert _journal_snapshot() == before


def test_balanced_legs_in_several_statements_pass(two_accounts) -> None:
    a, b, _txn = two_accounts
    txn = uuid.uuid4()
    _commit_legs([(txn, a, "D", "10.00"), (txn, b, "C", "4.00"), (txn, b, "C", "6.00")], check_now=True)
    assert JournalEntry.objects.filter(txn_id=txn).count() == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ledger_txn_pending")
        assert cursor.fetchone() == (0,)  # the note is removed once checked


def test_reversal_mirrors_every_leg_and_restores_balances(two_accounts) -> None:
    a, b, _ = two_accounts
    txn = journal_transfer(debit_account=a, credit_account=b, amount=Decimal("30.00"), memo="转账")
    assert _balances()["6222000000000001"] == Decimal("70.00")
    reversal = journal_reverse(txn_id=txn, memo="冲正：误转")
    legs = list(JournalEntry.objects.filter(txn_id=reversal).order_by("id").values_list(
        "account_id", "side", "amount", "is_reversal"))
    assert legs == [(a.pk, "C", Decimal("30.00"), True), (b.pk, "D", Decimal("30.00"), True)]
    assert JournalReversal.objects.get(original_txn=txn).reversal_txn == reversal
    balances = _balances()
    assert balances["6222000000000001"] == Decimal("100.00")
    assert balances["6222000000000002"] == Decimal("0.00")
    with pytest.raises(LedgerError) as again:
        journal_reverse(txn_id=txn, memo="again")
    assert again.value.code == "txn_reversed"
    with pytest.raises(LedgerError) as of_reversal:
        journal_reverse(txn_id=reversal, memo="again")
    assert of_reversal.value.code == "txn_is_reversal"
    assert JournalEntry.objects.filter(txn_id__in=[txn, reversal]).count() == 4


@pytest.mark.django_db(transaction=True)
def test_commit_of_unbalanced_entries_is_refused_by_postgresql(business_clock) -> None:
    """A real COMMIT, no test transaction around it: the deferred trigger refuses it."""
    a = ledger_account_open(number="6222000000000011", holder_name="王五", kind=AccountKind.EMPLOYEE)
    b = ledger_account_open(number="6222000000000012", holder_name="赵六", kind=AccountKind.EMPLOYEE)
    txn = uuid.uuid4()
    with pytest.raises(IntegrityError, match="unbalanced ledger transaction"):
        # No SET CONSTRAINTS: the check runs at the COMMIT that ends the atomic block.
        _commit_legs([(txn, a, "D", "500.00"), (txn, b, "C", "499.00")], check_now=False)
    assert JournalEntry.objects.count() == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ledger_txn_pending")
        assert cursor.fetchone() == (0,)
    # The same legs, balanced, commit.
    _commit_legs([(txn, a, "D", "500.00"), (txn, b, "C", "500.00")], check_now=False)
    assert JournalEntry.objects.filter(txn_id=txn).count() == 2


def test_a_leg_naming_a_missing_account_is_refused_at_commit(two_accounts) -> None:
    a, _b, _txn = two_accounts
    ghost = LedgerAccount(pk=a.pk + 10_000)  # no such row
    before = _journal_snapshot()
    txn = uuid.uuid4()
    with pytest.raises(IntegrityError, match="account or batch that does not exist") as refused:
        _commit_legs([(txn, a, "D", "10.00"), (txn, ghost, "C", "10.00")], check_now=True)
    assert refused.value.__cause__.sqlstate == "23503"  # foreign_key_violation
    assert _journal_snapshot() == before


def test_ledger_accounts_are_never_deleted(two_accounts) -> None:
    a, _b, _txn = two_accounts
    with pytest.raises(IntegrityError, match="closed, never deleted"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_ledgeraccount WHERE id = %s", [a.pk])
    assert LedgerAccount.objects.filter(pk=a.pk).exists()
