"""Back office: financial service cards (金融服务卡) — issue, set or reset the PIN, unlock.

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
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from apps.agreements.models import Company
from apps.cards.errors import CardNumberInvalid, CardPinInvalid
from apps.cards.models import ServiceCard
from apps.cards.services import card_issue, card_number_hash, card_number_normalize, card_pin_set, card_unlock
from apps.core.admin_pages import PinTwiceForm, staff_form_response

_SENSITIVE = sensitive_post_parameters("number", "pin1", "pin2")


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
    list_display = ("masked_number", "company", "is_locked", "failed_attempts", "active", "issued_at",
                    "last_login_at")
    list_filter = (LockedFilter, "active")
    search_fields = ("company__name", "=last4")
    list_select_related = ("company",)
    raw_id_fields = ("company",)
    # number_hash and pin_hash are never on a page.
    fields = ("company", "masked_number", "active", "failed_attempts", "locked_at", "issued_at", "last_login_at",
              "operations")
    readonly_fields = fields
    actions = ("unlock_selected",)
    list_per_page = 50

    def has_change_permission(self, request: HttpRequest, obj: ServiceCard | None = None) -> bool:
        return False  # no card field is edited by hand; PIN and lock go through the services

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

    @admin.display(description=_("操作"))
    def operations(self, obj: ServiceCard) -> str:
        return format_html(
            '<a class="button" href="{}">{}</a> <a class="button" href="{}">{}</a>',
            reverse("admin:cards_servicecard_pin", args=[obj.pk]), gettext("设置/重置密码"),
            reverse("admin:cards_servicecard_unlock", args=[obj.pk]), gettext("解锁"),
        )

    def get_urls(self) -> list:
        return [
            path("<int:pk>/pin/", self.admin_site.admin_view(self.pin_view), name="cards_servicecard_pin"),
            path("<int:pk>/unlock/", self.admin_site.admin_view(self.unlock_view), name="cards_servicecard_unlock"),
            *super().get_urls(),
        ]

    def _done(self, request: HttpRequest, card: ServiceCard, text: str) -> HttpResponseRedirect:
        self.message_user(request, text, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:cards_servicecard_change", args=[card.pk]))

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
        if not self.has_manage_permission(request):
            raise PermissionDenied
        card = get_object_or_404(ServiceCard.objects.select_related("company"), pk=pk)
        form = CardPinForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            card_pin_set(card=card, pin=form.pin, actor=request.user.get_username())
            return self._done(request, card, gettext("已为 %(card)s 设置新密码。") % {"card": card.masked_number})
        return staff_form_response(
            request, model_admin=self, title=gettext("设置/重置服务卡密码"), form=form, objects=[card],
            intro=gettext("新密码由企业代理人当面输入两次。重置密码会清零错误次数，但不会解锁已锁定的卡。"),
            submit_label=gettext("设置密码"), cancel_url=reverse("admin:cards_servicecard_change", args=[card.pk]),
        )

    def unlock_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_manage_permission(request):
            raise PermissionDenied
        card = get_object_or_404(ServiceCard.objects.select_related("company"), pk=pk)
        if request.method == "POST":
            card_unlock(card=card, actor=request.user.get_username())
            return self._done(request, card, gettext("已解锁 %(card)s。") % {"card": card.masked_number})
        return staff_form_response(
            request, model_admin=self, title=gettext("解锁服务卡"), objects=[card],
            intro=gettext("请先核实企业代理人身份。"), submit_label=gettext("解锁"),
            cancel_url=reverse("admin:cards_servicecard_change", args=[card.pk]),
        )

    @admin.action(description=_("解锁所选服务卡"), permissions=["manage"])
    def unlock_selected(self, request: HttpRequest, queryset: QuerySet[ServiceCard]) -> None:
        cards = list(queryset.filter(locked_at__isnull=False))
        for card in cards:
            card_unlock(card=card, actor=request.user.get_username())
        self.message_user(request, gettext("已解锁 %(count)d 张服务卡。") % {"count": len(cards)}, messages.SUCCESS)
