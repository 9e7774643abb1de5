"""Counter work by bank staff (柜面): open employee and settlement accounts, book deposits (存入) and
withdrawals (支取) against the bank's cash clearing account, and the second staff member's approval
(复核) of a posting above STAFF_POSTING_APPROVAL_THRESHOLD.

Every posting is one balanced two-leg transaction through ``journal_transfer``. The customer
account is locked after the posting lock (the order pay day takes them), so a withdrawal's balance
check and its posting cannot be split by a concurrent debit: no withdrawal takes an account below
zero. A refused call raises StaffPostingRefused and leaves nothing written.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models.functions import Now

from apps.agreements.models import Company
from apps.core.errors import ServiceError
from apps.core.services import audit_record
from apps.ledger.models import AccountKind, AccountStatus, LedgerAccount, StaffPosting
from apps.ledger.services import journal_transfer, ledger_account_open, ledger_posting_lock
from payroll_exchange.checks import MESSAGES, account_normalize, account_problem

CASH_CLEARING_NUMBER = "CASH-CLEARING-CNY"
OPEN_PERMISSION = "ledger.add_ledgeraccount"
POST_PERMISSION = "ledger.add_staffposting"
APPROVE_PERMISSION = "ledger.approve_staffposting"
# Accounts staff may open and book at the counter; the bank's own accounts move only by jobs.
CUSTOMER_KINDS = (AccountKind.EMPLOYEE, AccountKind.SETTLEMENT)
_CENT = Decimal("0.01")


class StaffPostingRefused(ServiceError):
    """Refused counter work; ``field`` names the form field to correct (empty: the whole request)."""

    def __init__(self, code: str, zh: str, en: str, *, field: str = "") -> None:
        super().__init__(code, zh, en)
        self.field = field


def approval_threshold() -> Decimal:
    """STAFF_POSTING_APPROVAL_THRESHOLD in yuan (default 100,000): a posting above it needs approval."""
    raw = getattr(settings, "STAFF_POSTING_APPROVAL_THRESHOLD", "100000.00")
    try:
        threshold = Decimal(str(raw)).quantize(_CENT)
    except InvalidOperation as exc:
        raise ImproperlyConfigured(f"STAFF_POSTING_APPROVAL_THRESHOLD must be an amount in yuan, not {raw!r}") \
            from exc
    if not threshold.is_finite() or threshold < 0:
        raise ImproperlyConfigured(f"STAFF_POSTING_APPROVAL_THRESHOLD must be an amount in yuan, not {raw!r}")
    return threshold


def cash_clearing_account() -> LedgerAccount:
    account, _created = LedgerAccount.objects.get_or_create(
        number=CASH_CLEARING_NUMBER, defaults={"holder_name": "柜面现金清算", "kind": AccountKind.CASH}
    )
    return account


def _not_permitted(zh: str, en: str) -> StaffPostingRefused:
    return StaffPostingRefused("staff_not_permitted", f"您没有{zh}的权限，请联系主管开通。",
                               f"You are not permitted to {en}; ask your supervisor.")


def staff_account_open(*, number: str, holder_name: str, kind: str, company: Company | None,
                       user: AbstractBaseUser) -> LedgerAccount:
    """开户: an employee account (no company) or a company's settlement account."""
    if not user.has_perm(OPEN_PERMISSION):
        raise _not_permitted("开户", "open accounts")
    number = account_normalize(number or "")
    problem = account_problem(number, 1)
    if problem is not None:
        zh, en = MESSAGES[problem.code]
        values = {"value": number, "length": len(number)}
        raise StaffPostingRefused("account_number_invalid", f"账号 {number}：{zh.format(**values)}",
                                  f"Account {number}: {en.format(**values)}", field="number")
    holder_name = (holder_name or "").strip()
    if not holder_name:
        raise StaffPostingRefused("holder_missing", "请填写户名。", "Enter the account holder's name.",
                                  field="holder_name")
    if kind not in CUSTOMER_KINDS:
        raise StaffPostingRefused("kind_not_allowed", "柜面只能开立个人账户或企业结算账户。",
                                  "Staff open only employee or settlement accounts.", field="kind")
    if kind == AccountKind.SETTLEMENT and company is None:
        raise StaffPostingRefused("company_required", "企业结算账户须选择所属企业。",
                                  "A settlement account needs its company.", field="company")
    if kind == AccountKind.EMPLOYEE:
        company = None  # personal accounts belong to no company
    with transaction.atomic():
        # The unique constraint decides; the lookup only turns a collision into a clear refusal.
        if LedgerAccount.objects.select_for_update().filter(number=number).exists():
            raise StaffPostingRefused("account_exists", f"账号 {number} 已存在，不能重复开户。",
                                      f"Account {number} already exists.", field="number")
        account = ledger_account_open(number=number, holder_name=holder_name, kind=kind, company=company)
        audit_record(actor_kind="staff", actor=user.get_username(), action="ledger_account_open", obj=account,
                     company_id=account.company_id, detail={"number": number, "kind": kind})
    return account


def staff_posting_check(*, account: LedgerAccount, direction: str, amount: Decimal) -> None:
    """What the confirmation page and the posting both check (the posting again, under lock)."""
    if direction not in StaffPosting.Direction.values:
        raise StaffPostingRefused("direction_unknown", "请选择存入或支取。", "Choose deposit or withdrawal.",
                                  field="direction")
    if amount is None or amount <= 0 or amount != amount.quantize(_CENT):
        raise StaffPostingRefused("amount_invalid", "金额须为正数，最多两位小数。",
                                  "The amount must be positive with at most two decimals.", field="amount")
    if account.kind not in CUSTOMER_KINDS:
        raise StaffPostingRefused("account_not_customer", f"账户 {account.number} 是银行内部账户，不能在柜面存取。",
                                  f"Account {account.number} is a bank account; no counter postings.",
                                  field="account")
    if account.status == AccountStatus.CLOSED:
        raise StaffPostingRefused("account_closed", f"账户 {account.number} 已销户，不能存取。",
                                  f"Account {account.number} is closed.", field="account")
    if direction == StaffPosting.Direction.WITHDRAWAL:
        if account.status == AccountStatus.FROZEN:
            raise StaffPostingRefused("account_frozen", f"账户 {account.number} 已冻结，不能支取；解冻后再办理。",
                                      f"Account {account.number} is frozen: no withdrawal until it is unfrozen.",
                                      field="account")
        if amount > account.balance:
            raise StaffPostingRefused(
                "balance_insufficient",
                f"账户 {account.number} 余额 {account.balance} 元，不足支取 {amount} 元。",
                f"Account {account.number} holds {account.balance} yuan, less than the {amount} yuan withdrawal.",
                field="amount")


def _post(*, posting: StaffPosting) -> None:
    """Book ``posting`` now; caller holds the transaction."""
    ledger_posting_lock()
    account = LedgerAccount.objects.select_for_update().get(pk=posting.account_id)
    staff_posting_check(account=account, direction=posting.direction, amount=posting.amount)
    cash = cash_clearing_account()
    deposit = posting.direction == StaffPosting.Direction.DEPOSIT
    posting.txn_id = journal_transfer(
        debit_account=cash if deposit else account, credit_account=account if deposit else cash,
        amount=posting.amount, memo=posting.memo[:200],
    )


def staff_posting_request(*, account: LedgerAccount, direction: str, amount: Decimal, memo: str,
                          user: AbstractBaseUser, request_token: str | None = None) -> StaffPosting:
    """存入 / 支取 after the confirmation page: posted at once at or below the threshold, otherwise
    kept as 待复核 for a second staff member. ``request_token`` (the confirmation page's) makes the
    call idempotent: the same page posted twice returns the first posting and books nothing more."""
    if not user.has_perm(POST_PERMISSION):
        raise _not_permitted("柜面存取", "post deposits or withdrawals")
    token = request_token or None
    if token is not None:
        earlier = StaffPosting.objects.filter(request_token=token).first()
        if earlier is not None:
            return earlier
    staff_posting_check(account=account, direction=direction, amount=amount)
    memo = (memo or "").strip() or f"柜面{StaffPosting.Direction(direction).label}"
    username = user.get_username()
    needs_approval = amount > approval_threshold()
    try:
        with transaction.atomic():
            status = StaffPosting.Status.PENDING if needs_approval else StaffPosting.Status.POSTED
            posting = StaffPosting(account=account, direction=direction, amount=amount, memo=memo[:200],
                                   requested_by=username, status=status, request_token=token)
            if not needs_approval:
                _post(posting=posting)
            posting.save()
            audit_record(actor_kind="staff", actor=username,
                         action="staff_posting_request" if needs_approval else "staff_posting_post", obj=posting,
                         company_id=account.company_id,
                         detail={"direction": direction, "amount": str(amount), "account": account.number,
                                 "txn_id": str(posting.txn_id) if posting.txn_id else ""})
    except IntegrityError:
        # The same token committed by a concurrent POST of the same page: its legs stand, ours
        # rolled back with this transaction.
        first = StaffPosting.objects.filter(request_token=token).first() if token is not None else None
        if first is None:
            raise
        return first
    posting.refresh_from_db()
    return posting


def _decide_lock(*, posting: StaffPosting, user: AbstractBaseUser, zh: str, en: str) -> StaffPosting:
    if not user.has_perm(APPROVE_PERMISSION):
        raise _not_permitted(f"{zh}柜面存取", f"{en} counter postings")
    locked = StaffPosting.objects.select_for_update().get(pk=posting.pk)
    if locked.status != StaffPosting.Status.PENDING:
        raise StaffPostingRefused("posting_not_pending",
                                  f"柜面存取 #{locked.pk} {locked.get_status_display()}，不能再{zh}。",
                                  f"Counter posting #{locked.pk} is already {locked.status}; no second decision.")
    if locked.requested_by == user.get_username():
        raise StaffPostingRefused("posting_own_request", f"柜面存取 #{locked.pk} 由您本人经办，须由另一位员工{zh}。",
                                  f"You requested counter posting #{locked.pk}; another staff member must {en} it.")
    return locked


def staff_posting_approve(*, posting: StaffPosting, user: AbstractBaseUser) -> StaffPosting:
    """复核通过: a second staff member books a pending posting (balance checked again, now)."""
    username = user.get_username()
    with transaction.atomic():
        # The posting lock first, as every posting takes it, then the request row.
        ledger_posting_lock()
        locked = _decide_lock(posting=posting, user=user, zh="复核", en="approve")
        _post(posting=locked)
        StaffPosting.objects.filter(pk=locked.pk, status=StaffPosting.Status.PENDING).update(
            status=StaffPosting.Status.POSTED, decided_by=username, decided_at=Now(), txn_id=locked.txn_id)
        audit_record(actor_kind="staff", actor=username, action="staff_posting_approve", obj=locked,
                     company_id=locked.account.company_id,
                     detail={"requested_by": locked.requested_by, "amount": str(locked.amount),
                             "txn_id": str(locked.txn_id)})
    locked.refresh_from_db()
    return locked


def staff_posting_reject(*, posting: StaffPosting, user: AbstractBaseUser, reason: str) -> StaffPosting:
    """复核拒绝: nothing is booked; the reason is kept."""
    reason = (reason or "").strip()
    if not reason:
        raise StaffPostingRefused("reason_required", "拒绝须填写原因。", "A reason is required to reject.",
                                  field="reason")
    username = user.get_username()
    with transaction.atomic():
        locked = _decide_lock(posting=posting, user=user, zh="拒绝", en="reject")
        StaffPosting.objects.filter(pk=locked.pk, status=StaffPosting.Status.PENDING).update(
            status=StaffPosting.Status.REJECTED, decided_by=username, decided_at=Now(), reject_reason=reason[:300])
        audit_record(actor_kind="staff", actor=username, action="staff_posting_reject", obj=locked,
                     company_id=locked.account.company_id,
                     detail={"requested_by": locked.requested_by, "reason": reason})
    locked.refresh_from_db()
    return locked
