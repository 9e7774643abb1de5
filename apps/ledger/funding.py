"""Funding seen before pay day (资金预警): does a settlement account's balance cover every batch that
will debit it by a pay date?

What a pay date needs from an account is every confirmed, unpaid batch (入库中 after 确认入库, 成功,
已暂停) of the agreements settled on it with that pay date or an earlier one: amount plus expected fee
(pay day charges the fee of the successful rows, so the expected fee is the most it can take). It
warns and never blocks: money may still arrive before pay day. Selectors only: nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import groupby

from django.db.models import Count, F, Sum

from apps.ledger.models import LedgerAccount
from apps.payroll.models import BatchStatus, PayrollBatch

# Confirmed and not yet paid: these will be debited on their pay date.
UNPAID_STATUSES = (BatchStatus.STORING, BatchStatus.STORED, BatchStatus.HELD)
_ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Funding:
    settlement_account: str
    holder_name: str
    pay_date: date
    balance: Decimal
    required: Decimal  # amount + expected fee of every unpaid batch up to pay_date (this one included)
    batch_count: int

    @property
    def shortfall(self) -> Decimal:
        return max(self.required - self.balance, _ZERO)

    @property
    def covered(self) -> bool:
        return self.balance >= self.required


def _balances(numbers: set[str]) -> dict[str, tuple[Decimal, str]]:
    return {n: (b, h) for n, b, h in LedgerAccount.objects.filter(number__in=numbers)
            .values_list("number", "balance", "holder_name")}


def batch_funding(*, batch: PayrollBatch) -> Funding | None:
    """For the batch the agent confirms (or just confirmed): the account's balance against every unpaid
    batch up to its pay date plus this one. None when the batch has no pay date yet."""
    if batch.pay_date is None:
        return None
    account = batch.agreement.settlement_account
    others = (PayrollBatch.objects.filter(agreement__settlement_account=account, status__in=UNPAID_STATUSES,
                                          pay_date__lte=batch.pay_date)
              .exclude(pk=batch.pk)
              .aggregate(n=Count("id"), total=Sum(F("total_amount") + F("expected_fee"))))
    required = (others["total"] or _ZERO) + batch.total_amount + batch.expected_fee
    balance, holder = _balances({account}).get(account, (_ZERO, ""))
    return Funding(settlement_account=account, holder_name=holder, pay_date=batch.pay_date, balance=balance,
                   required=required, batch_count=others["n"] + 1)


def funding_shortfalls(*, pay_date: date | None = None) -> list[Funding]:
    """Every (pay date, settlement account) whose unpaid batches up to that date exceed the balance,
    by pay date then account. ``pay_date``: only that date (earlier batches still count toward it)."""
    per_day = (PayrollBatch.objects.filter(status__in=UNPAID_STATUSES, pay_date__isnull=False)
               .filter(**({"pay_date__lte": pay_date} if pay_date else {}))
               .values("agreement__settlement_account", "pay_date")
               .annotate(n=Count("id"), total=Sum(F("total_amount") + F("expected_fee")))
               .order_by("agreement__settlement_account", "pay_date"))
    rows = list(per_day)
    balances = _balances({r["agreement__settlement_account"] for r in rows})
    shortfalls = []
    for account, days in groupby(rows, key=lambda r: r["agreement__settlement_account"]):
        balance, holder = balances.get(account, (_ZERO, ""))
        required, count = _ZERO, 0
        for day in days:
            required += day["total"]
            count += day["n"]
            if (pay_date is None or day["pay_date"] == pay_date) and required > balance:
                shortfalls.append(Funding(settlement_account=account, holder_name=holder, pay_date=day["pay_date"],
                                          balance=balance, required=required, batch_count=count))
    shortfalls.sort(key=lambda f: (f.pay_date, f.settlement_account))
    return shortfalls
