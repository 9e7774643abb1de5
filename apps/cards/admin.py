"""Back office: financial service cards (金融服务卡) — issue, set or reset the PIN, unlock, 挂失 (block),
解除挂失, 注销 (withdraw) and 补发 (replacement); the kiosks the login limit made wait.

The card number is never stored (only a keyed hash and the last four digits) and the PIN never
shown, logged or put back into a form: PasswordInput, sensitive_post_parameters, and the list
shows the masked number only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from apps.agreements.models import Company
from apps.cards.errors import CardNumberInvalid, CardPinInvalid, CardStateError
from apps.cards.models import CardStatus, KioskLockout, ServiceCard
from apps.cards.services import (
    card_block,
    card_issue,
    card_number_hash,
    card_number_normalize,
    card_pin_set,
    card_replace,
    card_unblock,
    card_unlock,
    card_withdraw,
)
from apps.cards.throttle import kiosk_lockout_release
from apps.core.admin_pages import PinTwiceForm, ReadOnlyAdmin, ReasonForm, staff_form_response

_SENSITIVE = sensitive_post_parameters("number", "pin1", "pin2")
# How many of a card's batches and employee files its page lists (newest first).
SUBMITTED_SHOWN = 50


class CardPinForm(PinTwiceForm):
    def pin_check(self, pin: str) -> None:
        # The kiosk's PIN pad takes exactly six digits (card_pin_set checks it again).
        if not (len(pin) == 6 and pin.isascii() and pin.isdigit()):
            raise forms.ValidationError(_("服务卡密码为 6 位数字。"), code="pin_format")


class CardIssueForm(CardPinForm):
    company = forms.ModelChoiceField(label=_("企业"), queryset=Company.objects.order_by("name"))
    number = forms.CharField(label=_("卡号"), max_length=40, help_text=_("刷卡或输入 12 至 19 位卡号。"),
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))
    field_order = ("company", "number", "pin1", "pin2")

    def clean_number(self) -> str:
        pan = card_number_normalize(self.cleaned_data["number"])
        if pan is None:
            raise forms.ValidationError(_("卡号无效：请刷卡或输入 12 至 19 位数字。"), code="card_number_invalid")
        if ServiceCard.objects.filter(number_hash=card_number_hash(pan)).exists():
            raise forms.ValidationError(_("此卡号已发行。"), code="card_number_taken")
        return pan


class CardReplaceForm(CardIssueForm):
    reason = forms.CharField(label=_("补发原因"), max_length=200, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))
    field_order = ("number", "pin1", "pin2", "reason")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["company"]  # the replacement belongs to the old card's company

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("请填写原因。"), code="required")
        return reason


class LockedFilter(admin.SimpleListFilter):
    title = _("锁定")
    parameter_name = "locked"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", _("已锁定")), ("no", _("未锁定"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ServiceCard]) -> QuerySet[ServiceCard]:
        if self.value() == "yes":
            return queryset.filter(locked_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(locked_at__isnull=True)
        return queryset


@admin.register(ServiceCard)
class ServiceCardAdmin(admin.ModelAdmin):
    list_display = ("masked_number", "company", "status", "is_locked", "failed_attempts", "issued_at",
                    "last_login_at")
    list_filter = (LockedFilter, "status")
    search_fields = ("company__name", "=last4")
    list_select_related = ("company",)
    raw_id_fields = ("company",)
    # number_hash and pin_hash are never on a page.
    fields = ("company", "masked_number", "status", "status_reason", "status_changed_at", "replaces",
              "replacement", "failed_attempts", "locked_at", "issued_at", "last_login_at", "operations",
              "submitted_batches", "submitted_employee_files")
    readonly_fields = fields
    actions = ("unlock_selected",)
    list_per_page = 50

    def has_change_permission(self, request: HttpRequest, obj: ServiceCard | None = None) -> bool:
        return False  # no card field is edited by hand; PIN, lock and status go through the services

    def has_delete_permission(self, request: HttpRequest, obj: ServiceCard | None = None) -> bool:
        return False  # batches and files point at the card

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("cards.change_servicecard")

    @admin.display(description=_("卡号"))
    def masked_number(self, obj: ServiceCard) -> str:
        return obj.masked_number

    @admin.display(description=_("已锁定"), boolean=True, ordering="locked_at")
    def is_locked(self, obj: ServiceCard) -> bool:
        return obj.locked_at is not None

    @admin.display(description=_("补发新卡"))
    def replacement(self, obj: ServiceCard) -> str:
        new = ServiceCard.objects.filter(replaces=obj).first()
        if new is None:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("admin:cards_servicecard_change", args=[new.pk]),
                           new.masked_number)

    @admin.display(description=_("操作"))
    def operations(self, obj: ServiceCard) -> str:
        if obj.status == CardStatus.WITHDRAWN:
            return gettext("已注销：%(reason)s") % {"reason": obj.status_reason}
        buttons = [("cards_servicecard_pin", gettext("设置/重置密码")), ("cards_servicecard_unlock", gettext("解锁"))]
        if obj.status == CardStatus.ACTIVE:
            buttons.append(("cards_servicecard_block", gettext("挂失")))
        if obj.status == CardStatus.BLOCKED:
            buttons.append(("cards_servicecard_unblock", gettext("解除挂失")))
        buttons += [("cards_servicecard_withdraw", gettext("注销")), ("cards_servicecard_replace", gettext("补发新卡"))]
        return format_html_join(" ", '<a class="button" href="{}">{}</a>',
                                ((reverse(f"admin:{name}", args=[obj.pk]), label) for name, label in buttons))

    @admin.display(description=_("本卡提交的代发批次"))
    def submitted_batches(self, obj: ServiceCard) -> str:
        batches = list(obj.batches.order_by("-uploaded_at", "-pk")[:SUBMITTED_SHOWN])
        if not batches:
            return gettext("无")
        rows = format_html_join(
            "", '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            ((reverse("admin:payroll_payrollbatch_change", args=[b.pk]), b.batch_no or b.original_name,
              b.get_status_display(), b.pay_date or "-", b.total_amount,
              timezone.localtime(b.uploaded_at).strftime("%Y-%m-%d %H:%M")) for b in batches),
        )
        head = format_html("<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>", gettext("批次号"),
                           gettext("状态"), gettext("发薪日期"), gettext("总金额"), gettext("上传时间"))
        return format_html('<table class="card-submitted">{}{}</table>', head, rows)

    @admin.display(description=_("本卡提交的员工信息文件"))
    def submitted_employee_files(self, obj: ServiceCard) -> str:
        from apps.employees.models import EmployeeFile

        files = list(EmployeeFile.objects.filter(card=obj).order_by("-uploaded_at", "-pk")[:SUBMITTED_SHOWN])
        if not files:
            return gettext("无")
        rows = format_html_join(
            "", '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>',
            ((reverse("admin:employees_employeefile_change", args=[f.pk]), f.original_name, f.get_status_display(),
              timezone.localtime(f.uploaded_at).strftime("%Y-%m-%d %H:%M")) for f in files),
        )
        head = format_html("<tr><th>{}</th><th>{}</th><th>{}</th></tr>", gettext("文件名"), gettext("状态"),
                           gettext("上传时间"))
        return format_html('<table class="card-submitted">{}{}</table>', head, rows)

    def get_urls(self) -> list:
        views = [("pin", self.pin_view), ("unlock", self.unlock_view), ("block", self.block_view),
                 ("unblock", self.unblock_view), ("withdraw", self.withdraw_view), ("replace", self.replace_view)]
        return [
            *(path(f"<int:pk>/{name}/", self.admin_site.admin_view(view), name=f"cards_servicecard_{name}")
              for name, view in views),
            *super().get_urls(),
        ]

    def _done(self, request: HttpRequest, card: ServiceCard, text: str) -> HttpResponseRedirect:
        self.message_user(request, text, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:cards_servicecard_change", args=[card.pk]))

    def _card(self, request: HttpRequest, pk: int) -> ServiceCard:
        if not self.has_manage_permission(request):
            raise PermissionDenied
        return get_object_or_404(ServiceCard.objects.select_related("company"), pk=pk)

    @method_decorator(_SENSITIVE)
    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        """发卡: the "add" button issues a card through card_issue."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CardIssueForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    card = card_issue(company=form.cleaned_data["company"], number=form.cleaned_data["number"],
                                      pin=form.pin, actor=request.user.get_username())
            except IntegrityError:  # the same card issued at another desk a moment ago
                form.add_error("number", gettext("此卡号已发行。"))
            except (CardNumberInvalid, CardPinInvalid) as exc:
                form.add_error(None, str(exc))
            else:
                self.log_addition(request, card, [{"added": {}}])
                return self._done(request, card, gettext("已发卡 %(card)s。") % {"card": card.masked_number})
        return staff_form_response(
            request, model_admin=self, title=gettext("发放金融服务卡"), form=form,
            intro=gettext("卡号只保存摘要和后四位；密码由企业代理人当面输入两次。"),
            submit_label=gettext("发卡"), cancel_url=reverse("admin:cards_servicecard_changelist"),
        )

    @method_decorator(_SENSITIVE)
    def pin_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        card = self._card(request, pk)
        form = CardPinForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                card_pin_set(card=card, pin=form.pin, actor=request.user.get_username())
            except CardStateError as exc:
                form.add_error(None, exc.message(get_language() or "zh-hans"))
            else:
                return self._done(request, card, gettext("已为 %(card)s 设置新密码。") % {"card": card.masked_number})
        return staff_form_response(
            request, model_admin=self, title=gettext("设置/重置服务卡密码"), form=form, objects=[card],
            intro=gettext("新密码由企业代理人当面输入两次。重置密码会清零错误次数，但不会解锁已锁定的卡。"),
            submit_label=gettext("设置密码"), cancel_url=reverse("admin:cards_servicecard_change", args=[card.pk]),
        )

    def unlock_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        card = self._card(request, pk)
        if request.method == "POST":
            try:
                card_unlock(card=card, actor=request.user.get_username())
            except CardStateError as exc:
                self.message_user(request, exc.message(get_language() or "zh-hans"), messages.ERROR)
                return HttpResponseRedirect(reverse("admin:cards_servicecard_change", args=[card.pk]))
            return self._done(request, card, gettext("已解锁 %(card)s。") % {"card": card.masked_number})
        return staff_form_response(
            request, model_admin=self, title=gettext("解锁服务卡"), objects=[card],
            intro=gettext("请先核实企业代理人身份。"), submit_label=gettext("解锁"),
            cancel_url=reverse("admin:cards_servicecard_change", args=[card.pk]),
        )

    def _reason_view(self, request: HttpRequest, pk: int, *, service, title: str, intro: str, submit: str,
                     done: str) -> HttpResponse:
        """挂失 / 解除挂失 / 注销: a reason, then one service call; a refusal is shown on the form."""
        card = self._card(request, pk)
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                service(card=card, reason=form.cleaned_data["reason"], actor=request.user.get_username())
            except CardStateError as exc:
                form.add_error(None, exc.message(get_language() or "zh-hans"))
            else:
                return self._done(request, card, done % {"card": card.masked_number})
        return staff_form_response(
            request, model_admin=self, title=title, form=form, objects=[card], intro=intro, submit_label=submit,
            cancel_url=reverse("admin:cards_servicecard_change", args=[card.pk]),
        )

    def block_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._reason_view(
            request, pk, service=card_block, title=gettext("挂失服务卡"), submit=gettext("挂失"),
            intro=gettext("挂失后此卡立即不能登录自助平台，在自助终端上与未发行的卡号表现相同。此卡已提交的批次和文件不受影响。"),
            done=gettext("已挂失 %(card)s。"),
        )

    def unblock_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._reason_view(
            request, pk, service=card_unblock, title=gettext("解除挂失"), submit=gettext("解除挂失"),
            intro=gettext("请先核实企业代理人身份和卡片实物。解除挂失后此卡恢复使用（密码和锁定状态不变）。"),
            done=gettext("已解除挂失 %(card)s。"),
        )

    def withdraw_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._reason_view(
            request, pk, service=card_withdraw, title=gettext("注销服务卡"), submit=gettext("注销"),
            intro=gettext("注销不可撤销：此卡从此不能再使用。此卡已提交的批次和文件保持原样。"),
            done=gettext("已注销 %(card)s。"),
        )

    @method_decorator(_SENSITIVE)
    def replace_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """补发: new number and PIN for the same company; the old card is withdrawn in the same step."""
        card = self._card(request, pk)
        form = CardReplaceForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                new = card_replace(card=card, number=form.cleaned_data["number"], pin=form.pin,
                                   reason=form.cleaned_data["reason"], actor=request.user.get_username())
            except IntegrityError:  # the same number issued at another desk a moment ago
                form.add_error("number", gettext("此卡号已发行。"))
            except CardStateError as exc:
                form.add_error(None, exc.message(get_language() or "zh-hans"))
            except (CardNumberInvalid, CardPinInvalid) as exc:
                form.add_error(None, str(exc))
            else:
                return self._done(request, new, gettext("已为 %(old)s 补发新卡 %(new)s，原卡已注销。")
                                  % {"old": card.masked_number, "new": new.masked_number})
        return staff_form_response(
            request, model_admin=self, title=gettext("补发服务卡"), form=form, objects=[card],
            intro=gettext("新卡属于同一企业，使用新卡号和新密码（由企业代理人当面输入两次）；原卡同时注销，"
                          "原卡已提交的批次和文件保持原样。"),
            submit_label=gettext("补发"), cancel_url=reverse("admin:cards_servicecard_change", args=[card.pk]),
        )

    @admin.action(description=_("解锁所选服务卡"), permissions=["manage"])
    def unlock_selected(self, request: HttpRequest, queryset: QuerySet[ServiceCard]) -> None:
        cards = list(queryset.filter(locked_at__isnull=False).exclude(status=CardStatus.WITHDRAWN))
        for card in cards:
            card_unlock(card=card, actor=request.user.get_username())
        self.message_user(request, gettext("已解锁 %(count)d 张服务卡。") % {"count": len(cards)}, messages.SUCCESS)


class LockoutActiveFilter(admin.SimpleListFilter):
    title = _("等待中")
    parameter_name = "waiting"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", _("等待中")), ("no", _("已结束"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[KioskLockout]) -> QuerySet[KioskLockout]:
        if self.value() == "yes":
            return queryset.filter(until__gt=timezone.now())
        if self.value() == "no":
            return queryset.filter(until__lte=timezone.now())
        return queryset


@admin.register(KioskLockout)
class KioskLockoutAdmin(ReadOnlyAdmin):
    """The staff's alert: each kiosk the login limit made wait (too many failed logins)."""

    list_display = ("address", "started_at", "until", "failures", "waiting")
    list_filter = (LockoutActiveFilter,)
    search_fields = ("=address",)
    date_hierarchy = "started_at"
    actions = ("release_selected",)

    def has_release_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("cards.change_servicecard")

    @admin.action(description=_("结束所选自助终端的等待"), permissions=["release"])
    def release_selected(self, request: HttpRequest, queryset: QuerySet[KioskLockout]) -> None:
        released = sum(kiosk_lockout_release(lockout=lockout, actor=request.user.get_username())
                       for lockout in queryset)
        self.message_user(request, gettext("已结束 %(count)d 个自助终端的等待。") % {"count": released},
                          messages.SUCCESS)

    @admin.display(description=_("等待中"), boolean=True)
    def waiting(self, obj: KioskLockout) -> bool:
        return obj.until > timezone.now()


_index = admin.site.index


def _index_with_kiosk_lockouts(request: HttpRequest, extra_context: dict | None = None):
    """The admin index names the kiosks waiting right now after too many failed logins (the alert)."""
    waiting = list(KioskLockout.objects.filter(until__gt=timezone.now()).order_by("-started_at")[:20])
    return _index(request, {"kiosk_lockouts": waiting, **(extra_context or {})})


admin.site.index = _index_with_kiosk_lockouts
