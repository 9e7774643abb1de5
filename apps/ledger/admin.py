"""Back office: ledger accounts and the journal, read-only.

Money is never edited here: balances move only by postings, and PostgreSQL refuses UPDATE and
DELETE on the journal anyway. Anything that writes goes through apps.ledger.services (account
status: freeze, unfreeze, close).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin_pages import ReadOnlyAdmin
from apps.ledger.admin_funding import funding_shortfalls_view
from apps.ledger.admin_staff import StaffPostingAdmin, account_open_view
from apps.ledger.models import AccountStatus, JournalEntry, JournalReversal, LedgerAccount
from apps.ledger.services import LedgerError, ledger_account_status_set
from apps.ledger.staff import CUSTOMER_KINDS, OPEN_PERMISSION

__all__ = ["JournalEntryAdmin", "JournalReversalAdmin", "LedgerAccountAdmin", "StaffPostingAdmin"]


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("number", "holder_name", "kind", "status", "balance", "currency", "company", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("=number", "holder_name", "company__name")
    list_select_related = ("company",)
    raw_id_fields = ("company",)
    readonly_fields = ("entries_link", "posting_link")
    list_per_page = 100
    actions = ("account_freeze", "account_unfreeze", "account_close")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # 开户 through apps.ledger.staff, never the model form (a balance is not typed in).
        return request.user.has_perm(OPEN_PERMISSION)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        return account_open_view(self, request)

    def get_urls(self) -> list:
        # 资金不足预警: per pay date and settlement account (apps/ledger/admin_funding.py).
        funding = path("funding/", self.admin_site.admin_view(lambda request: funding_shortfalls_view(self, request)),
                       name="ledger_funding_shortfalls")
        return [funding, *super().get_urls()]

    @admin.display(description=_("柜面存取"))
    def posting_link(self, obj: LedgerAccount) -> str:
        if obj.kind not in CUSTOMER_KINDS:
            return "-"
        url = reverse("admin:ledger_staffposting_add")
        return format_html('<a class="button" href="{}?account={}">{}</a>', url, obj.number, _("存入 / 支取"))

    def has_status_permission(self, request: HttpRequest) -> bool:
        # Status is the one thing staff change on an account, through the service, never a form.
        return request.user.has_perm("ledger.change_ledgeraccount")

    def _status_set(self, request: HttpRequest, queryset, status: str, done: str) -> None:
        changed = 0
        for account in queryset:
            try:
                ledger_account_status_set(account=account, status=status, actor=request.user.get_username())
            except LedgerError as exc:
                self.message_user(request, exc.message(get_language() or "zh-hans"), messages.ERROR)
            else:
                changed += 1
        if changed:
            self.message_user(request, done % {"count": changed}, messages.SUCCESS)

    @admin.action(description=_("冻结所选账户"), permissions=["status"])
    def account_freeze(self, request: HttpRequest, queryset) -> None:
        self._status_set(request, queryset, AccountStatus.FROZEN, gettext("已冻结账户：%(count)d 个。"))

    @admin.action(description=_("解冻所选账户"), permissions=["status"])
    def account_unfreeze(self, request: HttpRequest, queryset) -> None:
        self._status_set(request, queryset, AccountStatus.NORMAL, gettext("已解冻账户：%(count)d 个。"))

    @admin.action(description=_("销户（余额须为零）"), permissions=["status"])
    def account_close(self, request: HttpRequest, queryset) -> None:
        self._status_set(request, queryset, AccountStatus.CLOSED, gettext("已销户：%(count)d 个。"))

    @admin.display(description=_("会计分录"))
    def entries_link(self, obj: LedgerAccount) -> str:
        url = reverse("admin:ledger_journalentry_changelist")
        return format_html('<a href="{}?account__id__exact={}">{}</a>', url, obj.pk, _("查看分录"))


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "txn_id", "business_date", "account", "side", "kind", "amount", "batch_link", "row_seq",
                    "is_reversal", "memo")
    list_filter = ("side", "kind", "is_reversal", ("business_date", admin.DateFieldListFilter))
    # Exact matches only: a LIKE over millions of legs is a full scan.
    search_fields = ("=txn_id", "=account__number")
    list_select_related = ("account",)
    raw_id_fields = ("account", "batch")
    ordering = ("-id",)
    list_per_page = 100

    @admin.display(description=_("代发批次"), ordering="batch")
    def batch_link(self, obj: JournalEntry) -> str:
        # The id, not str(batch): no join to batches per leg.
        if obj.batch_id is None:
            return "-"
        url = reverse("admin:payroll_payrollbatch_change", args=[obj.batch_id])
        return format_html('<a href="{}">#{}</a>', url, obj.batch_id)


@admin.register(JournalReversal)
class JournalReversalAdmin(ReadOnlyAdmin):
    list_display = ("original_txn", "reversal_txn", "memo", "created_at")
    search_fields = ("=original_txn", "=reversal_txn")
