"""Back office counter work (柜面): open accounts, deposits and withdrawals with a confirmation page,
and the second staff member's approval. Registered from apps/ledger/admin.py; every write is a call
into apps.ledger.staff."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from apps.agreements.models import Company
from apps.core.admin_pages import ReadOnlyAdmin, ReasonForm, staff_form_response
from apps.ledger.models import AccountKind, LedgerAccount, StaffPosting
from apps.ledger.staff import (
    APPROVE_PERMISSION,
    OPEN_PERMISSION,
    POST_PERMISSION,
    StaffPostingRefused,
    approval_threshold,
    staff_account_open,
    staff_posting_approve,
    staff_posting_check,
    staff_posting_reject,
    staff_posting_request,
)


def _language() -> str:
    return get_language() or "zh-hans"


def _refusal_to_form(form: forms.Form, exc: StaffPostingRefused) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message(_language()))


class AccountOpenForm(forms.Form):
    kind = forms.ChoiceField(label=_("账户类型"), choices=[(AccountKind.EMPLOYEE, AccountKind.EMPLOYEE.label),
                                                         (AccountKind.SETTLEMENT, AccountKind.SETTLEMENT.label)])
    number = forms.CharField(label=_("账号"), max_length=32)
    holder_name = forms.CharField(label=_("户名"), max_length=100)
    company = forms.ModelChoiceField(label=_("所属企业"), queryset=Company.objects.order_by("name"), required=False,
                                     help_text=_("企业结算账户必填；个人账户不填。"))


def account_open_view(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    """开户: the ledger account list's add button."""
    if not request.user.has_perm(OPEN_PERMISSION):
        raise PermissionDenied
    form = AccountOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = staff_account_open(user=request.user, **form.cleaned_data)
        except StaffPostingRefused as exc:
            _refusal_to_form(form, exc)
        else:
            model_admin.message_user(request, gettext("已开户：%(number)s %(holder)s。")
                                     % {"number": account.number, "holder": account.holder_name}, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:ledger_ledgeraccount_change", args=[account.pk]))
    return staff_form_response(
        request, model_admin=model_admin, title=gettext("开户"), form=form,
        intro=gettext("个人账户无所属企业；企业结算账户须选择企业，代发协议的结算账号须是该企业的结算账户。"),
        submit_label=gettext("开户"), cancel_url=reverse("admin:ledger_ledgeraccount_changelist"),
    )


class PostingForm(forms.Form):
    # Made with the form page and carried through the confirmation page: booked once per token.
    request_token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    account_number = forms.CharField(label=_("账号"), max_length=32)
    direction = forms.ChoiceField(label=_("存取"), choices=StaffPosting.Direction.choices)
    amount = forms.DecimalField(label=_("金额（元）"), max_digits=16, decimal_places=2, min_value=Decimal("0.01"))
    memo = forms.CharField(label=_("摘要"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        number = cleaned.get("account_number")
        if number:
            account = LedgerAccount.objects.filter(number=number.strip()).select_related("company").first()
            if account is None:
                missing = gettext("账号 %(number)s 不存在，请核对或先开户。")
                self.add_error("account_number", missing % {"number": number})
                return cleaned
            cleaned["account"] = account
            if cleaned.get("direction") and cleaned.get("amount"):
                try:
                    staff_posting_check(account=account, direction=cleaned["direction"], amount=cleaned["amount"])
                except StaffPostingRefused as exc:
                    _refusal_to_form(self, exc)
        return cleaned


@admin.register(StaffPosting)
class StaffPostingAdmin(ReadOnlyAdmin):
    list_display = ("id", "account", "direction", "amount", "status", "requested_by", "requested_at",
                    "decided_by", "decided_at", "txn_id")
    list_filter = ("status", "direction")
    search_fields = ("=account__number", "=requested_by", "=decided_by")
    list_select_related = ("account",)
    raw_id_fields = ("account",)
    ordering = ("-requested_at", "-id")
    actions = ("approve_selected", "reject_selected")
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(POST_PERMISSION)

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(APPROVE_PERMISSION)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        """存入 / 支取: the form, then a confirmation page, then the posting and a redirect."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {"account_number": request.GET.get("account", ""), "request_token": secrets.token_urlsafe(24)}
        form = PostingForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if request.POST.get("confirm") == "yes":
                try:
                    posting = staff_posting_request(account=data["account"], direction=data["direction"],
                                                    amount=data["amount"], memo=data["memo"], user=request.user,
                                                    request_token=data["request_token"])
                except StaffPostingRefused as exc:
                    _refusal_to_form(form, exc)
                else:
                    done = (gettext("已提交复核：%(posting)s，金额超过 %(threshold)s 元，须由另一位员工复核后记账。")
                            if posting.status == StaffPosting.Status.PENDING else gettext("已记账：%(posting)s。"))
                    self.message_user(request, done % {"posting": posting, "threshold": approval_threshold()},
                                      messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:ledger_staffposting_change", args=[posting.pk]))
            else:
                return self._confirm_response(request, form)
        return staff_form_response(
            request, model_admin=self, title=gettext("柜面存取"), form=form,
            intro=gettext("存入或支取记为与柜面现金清算账户对转的平衡分录；超过 %(threshold)s 元须另一位员工复核。")
            % {"threshold": approval_threshold()},
            submit_label=gettext("下一步"), cancel_url=reverse("admin:ledger_staffposting_changelist"),
        )

    def _confirm_response(self, request: HttpRequest, form: PostingForm) -> TemplateResponse:
        data = form.cleaned_data
        account: LedgerAccount = data["account"]
        sign = 1 if data["direction"] == StaffPosting.Direction.DEPOSIT else -1
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("确认柜面存取"),
            "form": form,
            "account": account,
            "direction_label": StaffPosting.Direction(data["direction"]).label,
            "amount": data["amount"],
            "memo": data["memo"],
            "balance_after": account.balance + sign * data["amount"],
            "needs_approval": data["amount"] > approval_threshold(),
            "threshold": approval_threshold(),
            "cancel_url": reverse("admin:ledger_staffposting_changelist"),
        }
        return TemplateResponse(request, "admin/ledger/staffposting/confirm.html", context)

    def _decide(self, request: HttpRequest, queryset: QuerySet[StaffPosting], call, done: str) -> None:
        succeeded = 0
        for posting in queryset.order_by("pk"):
            try:
                call(posting)
            except StaffPostingRefused as exc:
                self.message_user(request, exc.message(_language()), messages.ERROR)
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, done % {"count": succeeded}, messages.SUCCESS)

    @admin.action(description=_("复核通过并记账"), permissions=["approve"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[StaffPosting]) -> HttpResponse | None:
        selected = list(queryset.select_related("account"))
        if "post" in request.POST:
            self._decide(request, queryset, lambda p: staff_posting_approve(posting=p, user=request.user),
                         gettext("已复核记账 %(count)d 笔。"))
            return None
        return staff_form_response(
            request, model_admin=self, title=gettext("复核柜面存取"), objects=selected,
            intro=gettext("复核通过后立即记账；本人经办的存取须由另一位员工复核。"),
            submit_label=gettext("复核通过并记账"), action="approve_selected",
            cancel_url=reverse("admin:ledger_staffposting_changelist"),
        )

    @admin.action(description=_("拒绝（须填写原因）"), permissions=["approve"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[StaffPosting]) -> HttpResponse | None:
        form = ReasonForm(request.POST if "post" in request.POST else None, required=True)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._decide(request, queryset, lambda p: staff_posting_reject(posting=p, user=request.user,
                                                                           reason=reason),
                         gettext("已拒绝 %(count)d 笔。"))
            return None
        return staff_form_response(
            request, model_admin=self, title=gettext("拒绝柜面存取"), form=form,
            objects=queryset.select_related("account"), intro=gettext("拒绝后不记账。"),
            submit_label=gettext("拒绝"), action="reject_selected",
            cancel_url=reverse("admin:ledger_staffposting_changelist"),
        )
