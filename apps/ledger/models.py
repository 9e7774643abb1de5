"""The core-banking side: accounts and an append-only double-entry journal.

Every account is credit-normal from the bank's point of view (they are deposits the bank owes, or
its own income): balance = credits − debits. PostgreSQL itself refuses UPDATE and DELETE on the
journal and any transaction whose debits and credits differ (see migrations/0002_journal_rules).
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from apps.agreements.models import Company


class AccountKind(models.TextChoices):
    SETTLEMENT = "settlement", _("企业结算账户")
    EMPLOYEE = "employee", _("个人账户")
    FEE_INCOME = "fee_income", _("手续费收入")
    SUSPENSE = "suspense", _("暂收暂付")
    CASH = "cash", _("现金清算")


class AccountStatus(models.TextChoices):
    NORMAL = "normal", _("正常")
    FROZEN = "frozen", _("冻结")
    CLOSED = "closed", _("销户")


class LedgerAccount(models.Model):
    # Unique through Meta.constraints rather than unique=True: the latter adds a second
    # (LIKE-pattern) index that every balance update outside HOT would also have to maintain.
    number = models.CharField(_("账号"), max_length=32)
    holder_name = models.CharField(_("户名"), max_length=100)
    kind = models.CharField(_("账户类型"), max_length=12, choices=AccountKind.choices)
    status = models.CharField(_("状态"), max_length=8, choices=AccountStatus.choices, default=AccountStatus.NORMAL)
    # Only ever changed by the posting services, set-based, in the transaction of the posting.
    balance = models.DecimalField(_("余额"), max_digits=18, decimal_places=2, default=0)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    # No index: only the few settlement accounts carry a company, and no hot query filters by it.
    company = models.ForeignKey(Company, verbose_name=_("企业"), on_delete=models.PROTECT, null=True, blank=True,
                                related_name="ledger_accounts", db_index=False)
    created_at = models.DateTimeField(_("开户时间"), db_default=Now())

    class Meta:
        verbose_name = _("账户")
        verbose_name_plural = _("账户")
        ordering = ["number"]
        # Pay day joins payroll rows to accounts by number.
        constraints = [models.UniqueConstraint(fields=["number"], name="ledger_account_number_unique")]

    def __str__(self) -> str:
        return f"{self.number} {self.holder_name}"


class EntrySide(models.TextChoices):
    DEBIT = "D", _("借")
    CREDIT = "C", _("贷")


class EntryKind(models.TextChoices):
    PAYROLL = "payroll", _("代发工资")
    FEE = "fee", _("手续费")
    TRANSFER = "transfer", _("转账")


class JournalEntry(models.Model):
    """One leg of a transaction (txn_id). Never updated or deleted: a correction is a reversal,
    a new transaction whose legs mirror the original's (same account, kind, batch and row, the
    other side), flagged ``is_reversal`` and tied to the original by a JournalReversal row.

    The account and batch references carry no per-row foreign-key check: at 100,000 legs those
    checks alone cost ~1.3 s at COMMIT (measured, benchmarks/bench_payday.py). The deferred
    commit-time check verifies them set-based instead, once per transaction, and accounts refuse
    DELETE (they are closed, never deleted); a batch with postings has rows, whose own foreign key
    already refuses its deletion.
    """

    txn_id = models.UUIDField(_("交易号"), db_index=True)  # the commit-time check reads a txn's legs
    # Indexed although pay day pays for it (~0.04 s of the 100k-leg INSERT's 0.37 s backend CPU,
    # benchmarks/bench_payday.py with the index dropped): the account admin's 查看分录 link
    # (account__id__exact) and the journal's =account__number search read one account's legs, a
    # full scan of the journal without it. None of the journal's four indexes is redundant: the
    # pkey serves the admin's newest-first pages, txn_id the balance update and commit-time check.
    account = models.ForeignKey(LedgerAccount, verbose_name=_("账户"), on_delete=models.PROTECT,
                                related_name="entries", db_constraint=False)
    side = models.CharField(_("借贷"), max_length=1, choices=EntrySide.choices)
    kind = models.CharField(_("类别"), max_length=10, choices=EntryKind.choices)
    amount = models.DecimalField(_("金额"), max_digits=16, decimal_places=2)
    # No index of its own: the unique posting index below starts with batch and serves
    # "entries of a batch" (reconciliation); one index fewer to maintain on a 100k-row posting.
    batch = models.ForeignKey("payroll.PayrollBatch", verbose_name=_("代发批次"), on_delete=models.PROTECT,
                              null=True, blank=True, related_name="journal_entries", db_index=False,
                              db_constraint=False)
    row_seq = models.PositiveIntegerField(_("明细序号"), null=True, blank=True)
    is_reversal = models.BooleanField(_("冲正"), db_default=False)  # raw INSERT ... SELECT omits it
    memo = models.CharField(_("摘要"), max_length=200, blank=True)
    business_date = models.DateField(_("业务日期"))
    created_at = models.DateTimeField(_("记账时间"), db_default=Now())

    class Meta:
        verbose_name = _("会计分录")
        verbose_name_plural = _("会计分录")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="journal_amount_positive"),
            models.CheckConstraint(condition=models.Q(side__in=["D", "C"]), name="journal_side_known"),
            # The pay-day posting of a batch can happen once: a second attempt collides here
            # even if every other guard failed. NULL row_seq (the settlement and fee legs)
            # counts as equal, so those legs are once per batch too.
            models.UniqueConstraint(
                fields=["batch", "row_seq", "kind", "side"],
                condition=models.Q(batch__isnull=False, is_reversal=False),
                nulls_distinct=False,
                name="journal_batch_posting_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.txn_id} {self.side} {self.amount} {self.account_id}"


class JournalReversal(models.Model):
    """冲正: which transaction cancelled which. One row per reversal, not per leg; unique both
    ways, so a transaction is reversed once and a reversal is not itself reversed twice."""

    original_txn = models.UUIDField(_("原交易号"), unique=True)
    reversal_txn = models.UUIDField(_("冲正交易号"), unique=True)
    memo = models.CharField(_("摘要"), max_length=200)
    created_at = models.DateTimeField(_("冲正时间"), db_default=Now())

    class Meta:
        verbose_name = _("冲正记录")
        verbose_name_plural = _("冲正记录")

    def __str__(self) -> str:
        return f"{self.original_txn} → {self.reversal_txn}"


class StaffPosting(models.Model):
    """A deposit (存入) or withdrawal (支取) a staff member books at the counter against the bank's
    cash clearing account. At or below STAFF_POSTING_APPROVAL_THRESHOLD it is posted at once;
    above it, it waits for a second staff member (four eyes: never the one who asked)."""

    class Direction(models.TextChoices):
        DEPOSIT = "deposit", _("存入")
        WITHDRAWAL = "withdrawal", _("支取")

    class Status(models.TextChoices):
        PENDING = "pending", _("待复核")
        POSTED = "posted", _("已记账")
        REJECTED = "rejected", _("已拒绝")

    account = models.ForeignKey(LedgerAccount, verbose_name=_("账户"), on_delete=models.PROTECT,
                                related_name="staff_postings")
    direction = models.CharField(_("存取"), max_length=10, choices=Direction.choices)
    amount = models.DecimalField(_("金额"), max_digits=16, decimal_places=2)
    memo = models.CharField(_("摘要"), max_length=200)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices)
    requested_by = models.CharField(_("经办人"), max_length=150)
    requested_at = models.DateTimeField(_("经办时间"), db_default=Now())
    decided_by = models.CharField(_("复核人"), max_length=150, blank=True)
    decided_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    reject_reason = models.CharField(_("拒绝原因"), max_length=300, blank=True)
    txn_id = models.UUIDField(_("交易号"), null=True, blank=True)
    # The confirmation page's one-time token: the same page posted twice (a double click) books once.
    request_token = models.CharField(_("提交标识"), max_length=64, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("柜面存取")
        verbose_name_plural = _("柜面存取")
        ordering = ["-requested_at", "-id"]
        permissions = [("approve_staffposting", _("Can approve staff posting (复核柜面存取)"))]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="staff_posting_amount_positive"),
            # Four eyes in the database too: whoever decided is never whoever asked.
            models.CheckConstraint(condition=~models.Q(decided_by=models.F("requested_by")),
                                   name="staff_posting_four_eyes"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_direction_display()} {self.amount} {self.account_id}"


class PaydayRun(models.Model):
    """One pay-day run, written when it starts and when it ends. A run still unfinished whose
    advisory lock nobody holds lost its worker (killed, OOM, connection dropped): the recovery
    sweep (apps/ledger/payday_recovery.py) marks it abandoned and starts the next run at once,
    instead of leaving the batch to the next beat run up to PAYDAY_INTERVAL_MINUTES later."""

    class Outcome(models.TextChoices):
        RUNNING = "", _("进行中")
        DONE = "done", _("已完成")
        ABANDONED = "abandoned", _("中断（已重新发起）")

    started_at = models.DateTimeField(_("开始时间"), db_default=Now())
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices, blank=True, default="")

    class Meta:
        verbose_name = _("发放运行")
        verbose_name_plural = _("发放运行")
        ordering = ["-started_at", "-id"]
        # The recovery sweep reads only the unfinished runs, every INTAKE_SWEEP_SECONDS.
        indexes = [models.Index(fields=["id"], name="payday_run_unfinished",
                                condition=models.Q(finished_at__isnull=True))]

    def __str__(self) -> str:
        return f"pay day #{self.pk} {self.started_at:%Y-%m-%d %H:%M:%S}"
