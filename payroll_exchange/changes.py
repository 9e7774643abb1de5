"""变动提示: what changed since the company's last paid batch of the same agreement.

Shared by the enterprise client (its own store of the files it made) and the kiosk (the ledger's
paid batch), so both show the same list for the same pair of batches. It never refuses anything:
it makes the reviewer look. The one flag that asks more of the reviewer is 疑似重复发放 (the same
rows and amounts as the paid batch under a new batch number); what that asks is the caller's rule.

A person is their ID (证件类型 + 证件号码): an account is where the money goes, and a changed account
is one of the things worth a look. Pure: no Django, input is any rows with the fields of
``payroll_exchange.records.PayrollRow``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

# How many items of each kind are listed; the count is always the full one.
LIST_LIMIT = 20
DEFAULT_THRESHOLD_PERCENT = Decimal("30")

# The kinds, in the order they are shown, with their zh/en titles.
ADDED = "added"  # 较上月新增: paid now, not last time (not 新登记员工: that means not in the registry)
REMOVED = "removed"  # 较上月减少: paid last time, not now
AMOUNT = "amount"  # 金额变动超过阈值
ACCOUNT = "account"  # 同一证件，收款账号不同
ID = "id"  # 同一账号，证件不同
KINDS: tuple[str, ...] = (ADDED, REMOVED, AMOUNT, ACCOUNT, ID)
KIND_TITLES: dict[str, tuple[str, str]] = {
    ADDED: ("较上月新增", "Paid now, not last time"),
    REMOVED: ("较上月减少", "Paid last time, not now"),
    AMOUNT: ("金额变动超过 {threshold}%", "Amount changed by more than {threshold} %"),
    ACCOUNT: ("同一证件改用其他账号", "Same ID, now paid to another account"),
    ID: ("同一账号改用其他证件", "Same account, now paid under another ID"),
}

_TENTH = Decimal("0.1")


class RowLike(Protocol):
    seq: int
    account: str
    name: str
    amount: Decimal
    id_type: str
    id_number: str


@dataclass(frozen=True, slots=True)
class ChangeItem:
    kind: str
    seq: int  # the row in the file reviewed now; for 较上月减少 the row in the previous batch
    name: str
    id_type: str
    id_number: str
    account: str
    amount: Decimal | None  # now (None: not paid now)
    previous_account: str = ""
    previous_amount: Decimal | None = None  # last time (None: not paid last time)
    change_percent: Decimal | None = None  # for 金额变动

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "seq": self.seq, "name": self.name, "id_type": self.id_type,
                "id_number": self.id_number, "account": self.account, "amount": _text(self.amount),
                "previous_account": self.previous_account, "previous_amount": _text(self.previous_amount),
                "change_percent": _text(self.change_percent)}


@dataclass(frozen=True, slots=True)
class ChangeGroup:
    kind: str
    count: int
    items: tuple[ChangeItem, ...]  # the first LIST_LIMIT

    def title(self, language: str, *, threshold: Decimal) -> str:
        zh, en = KIND_TITLES[self.kind]
        return (en if language.startswith("en") else zh).format(threshold=_text(threshold))


@dataclass(frozen=True, slots=True)
class Changes:
    previous_batch_no: str
    previous_count: int
    previous_total: Decimal
    count: int
    total: Decimal
    total_change_percent: Decimal | None  # None when the previous total was 0
    threshold_percent: Decimal
    suspected_duplicate: bool  # 疑似重复发放
    groups: tuple[ChangeGroup, ...] = field(default_factory=tuple)

    @property
    def any(self) -> bool:
        return self.suspected_duplicate or any(g.count for g in self.groups)

    def group(self, kind: str) -> ChangeGroup:
        return next(g for g in self.groups if g.kind == kind)

    def as_dict(self) -> dict[str, object]:
        """A plain form (JSON-ready, strings for money) for storing and for comparing two outputs."""
        return {
            "previous_batch_no": self.previous_batch_no, "previous_count": self.previous_count,
            "previous_total": _text(self.previous_total), "count": self.count, "total": _text(self.total),
            "total_change_percent": _text(self.total_change_percent),
            "threshold_percent": _text(self.threshold_percent), "suspected_duplicate": self.suspected_duplicate,
            "groups": [{"kind": g.kind, "count": g.count, "items": [i.as_dict() for i in g.items]}
                       for g in self.groups],
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _percent(now: Decimal, before: Decimal) -> Decimal | None:
    if before == 0:
        return None
    return ((now - before) * 100 / before).quantize(_TENTH, rounding=ROUND_HALF_UP)


class _Person:
    """One ID's rows in one file. Plain slots class: 100,000 of them are made per comparison."""

    __slots__ = ("seq", "name", "account", "accounts", "amount")

    def __init__(self, seq: int, name: str, account: str, amount: Decimal) -> None:
        self.seq, self.name, self.account, self.amount = seq, name, account, amount
        self.accounts: tuple[str, ...] = (account,)


def _people(rows: Iterable[RowLike]) -> dict[tuple[str, str], _Person]:
    """Rows by person. Two rows of one ID in one file (two accounts) count as one person paid the sum."""
    people: dict[tuple[str, str], _Person] = {}
    for row in rows:
        key = (row.id_type, row.id_number.upper())
        person = people.get(key)
        if person is None:
            people[key] = _Person(row.seq, row.name, row.account, row.amount)
        else:
            person.accounts += (row.account,)
            person.amount += row.amount
    return people


def _group(kind: str, items: list[ChangeItem]) -> ChangeGroup:
    items.sort(key=lambda i: i.seq)
    return ChangeGroup(kind=kind, count=len(items), items=tuple(items[:LIST_LIMIT]))


def _fingerprint(rows: list[RowLike]) -> list[tuple[str, str, str, str, Decimal]]:
    return sorted((r.account, r.name, r.id_type, r.id_number.upper(), r.amount) for r in rows)


def payroll_changes(*, rows: Iterable[RowLike], batch_no: str, previous_rows: Iterable[RowLike],
                    previous_batch_no: str,
                    threshold_percent: Decimal = DEFAULT_THRESHOLD_PERCENT) -> Changes:
    """Compare the rows reviewed now with the rows of the last paid batch.

    Per-person changes count when |now − before| / before exceeds ``threshold_percent`` (strictly).
    """
    rows = list(rows)
    previous_rows = list(previous_rows)
    now, before = _people(rows), _people(previous_rows)
    added: list[ChangeItem] = []
    amount: list[ChangeItem] = []
    account: list[ChangeItem] = []
    for key, person in now.items():
        old = before.get(key)
        if old is None:
            added.append(ChangeItem(ADDED, person.seq, person.name, key[0], key[1], person.account, person.amount))
            continue
        # Most people are paid what they were paid last time: no percentage to work out.
        change = None if person.amount == old.amount else _percent(person.amount, old.amount)
        if change is not None and abs(change) > threshold_percent:
            amount.append(ChangeItem(AMOUNT, person.seq, person.name, key[0], key[1], person.account, person.amount,
                                     old.account, old.amount, change))
        if person.account != old.account and not set(person.accounts) <= set(old.accounts):
            new_account = min(set(person.accounts) - set(old.accounts))
            account.append(ChangeItem(ACCOUNT, person.seq, person.name, key[0], key[1], new_account, person.amount,
                                      old.account, old.amount))
    removed = [ChangeItem(REMOVED, old.seq, old.name, key[0], key[1], old.account, None, old.account, old.amount)
               for key, old in before.items() if key not in now]
    # 同一账号改用其他证件: an account paid last time to one ID and now to another.
    previous_by_account = {r.account: r for r in previous_rows}
    other_id = []
    for row in rows:
        old_row = previous_by_account.get(row.account)
        if old_row is not None and (old_row.id_type, old_row.id_number.upper()) != (row.id_type,
                                                                                     row.id_number.upper()):
            other_id.append(ChangeItem(ID, row.seq, row.name, row.id_type, row.id_number.upper(), row.account,
                                       row.amount, old_row.account, old_row.amount))
    total = sum((r.amount for r in rows), Decimal("0.00"))
    previous_total = sum((r.amount for r in previous_rows), Decimal("0.00"))
    # The cheap tests first: the sort of every row runs only when count and total already agree.
    duplicate = (batch_no != previous_batch_no and bool(rows) and len(rows) == len(previous_rows)
                 and total == previous_total and _fingerprint(rows) == _fingerprint(previous_rows))
    return Changes(
        previous_batch_no=previous_batch_no, previous_count=len(previous_rows), previous_total=previous_total,
        count=len(rows), total=total, total_change_percent=_percent(total, previous_total),
        threshold_percent=threshold_percent, suspected_duplicate=duplicate,
        groups=(_group(ADDED, added), _group(REMOVED, removed), _group(AMOUNT, amount), _group(ACCOUNT, account),
                _group(ID, other_id)),
    )


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: the kiosk screen shows who, not the whole name."""
    name = name.strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def changes_text(changes: Changes, *, language: str = "zh-hans") -> list[str]:
    """The lines the client prints on its review (the kiosk renders the same data as a table)."""
    en = language.startswith("en")
    lines = []
    if en:
        lines.append(f"Compared with the last paid batch {changes.previous_batch_no}: {changes.count} rows "
                     f"{changes.total} yuan, last time {changes.previous_count} rows {changes.previous_total} yuan"
                     + (f", total {_signed(changes.total_change_percent)} %" if changes.total_change_percent
                        is not None else ""))
    else:
        lines.append(f"与上次已发放批次 {changes.previous_batch_no} 比较：本次 {changes.count} 笔 {changes.total} 元，"
                     f"上次 {changes.previous_count} 笔 {changes.previous_total} 元"
                     + (f"，总额变动 {_signed(changes.total_change_percent)}%" if changes.total_change_percent
                        is not None else ""))
    if changes.suspected_duplicate:
        lines.append("Suspected duplicate payment: the rows and amounts equal the paid batch "
                     f"{changes.previous_batch_no}." if en else
                     f"疑似重复发放：本文件的明细和金额与已发放批次 {changes.previous_batch_no} 完全相同。")
    for group in changes.groups:
        if not group.count:
            continue
        lines.append(f"{group.title(language, threshold=changes.threshold_percent)}: {group.count}" if en else
                     f"{group.title(language, threshold=changes.threshold_percent)}：{group.count} 人")
        for item in group.items:
            lines.append("  " + _item_text(item, en=en))
        if group.count > len(group.items):
            more = group.count - len(group.items)
            lines.append(f"  … {more} more" if en else f"  …… 另有 {more} 人")
    return lines


def _signed(value: Decimal | None) -> str:
    return "" if value is None else (f"+{value}" if value > 0 else str(value))


def _item_text(item: ChangeItem, *, en: bool) -> str:
    where = f"row {item.seq}" if en else f"第 {item.seq} 行"
    if item.kind == REMOVED:
        where = f"last time row {item.seq}" if en else f"上次第 {item.seq} 行"
    parts = [where, item.name, item.account]
    if item.kind == AMOUNT:
        parts.append(f"{item.previous_amount} → {item.amount} ({_signed(item.change_percent)} %)")
    elif item.kind == ACCOUNT:
        parts.append(f"{item.previous_account} → {item.account}")
    elif item.kind == ID:
        parts.append(f"ID {item.id_number}" if en else f"证件 {item.id_number}")
    else:
        parts.append(str(item.amount if item.amount is not None else item.previous_amount))
    return " ".join(parts)
