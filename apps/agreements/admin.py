"""Back office: companies, agreements (with the signed package export) and certificates (issue
the enterprise USB key, revoke, download the CRL).

Agreements and certificates are never edited in place: an exported package and an issued key
carry their values, so a change is a new agreement or a new certificate.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from stdnum.cn import uscc as uscc_number

from apps.agreements.models import Agreement, Certificate, Company
from apps.agreements.services import (
    AgreementRefused,
    agreement_certificate_check,
    agreement_certificate_rebind,
    agreement_create,
    agreement_h2h_set,
    agreement_package_export,
    agreement_settlement_check,
    certificate_reissue,
    certificate_revoke,
    company_create,
    enterprise_key_issue,
    trust_store,
)
from apps.core import clock
from apps.core.admin_pages import PinTwiceForm, ReasonForm, download_response, staff_form_response
from payroll_exchange import pki

ISSUED_SESSION_KEY = "certificate_issued"

def _adopt(obj: Any, created: Any) -> None:
    """Let the admin go on with the row a service created (log entry, redirect, messages)."""
    obj.__dict__.update({k: v for k, v in created.__dict__.items() if not k.startswith("_")})
    obj._state.adding = False
    obj._state.db = created._state.db


# -- companies ---------------------------------------------------------------------------------


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = ("name", "uscc")

    def clean_uscc(self) -> str:
        # Shown on the form before company_create (which checks the same with python-stdnum)
        # so a typo is a field error, not a failed save.
        raw = self.cleaned_data["uscc"]
        try:
            return uscc_number.validate(raw)
        except Exception as exc:  # stdnum raises several ValidationError subclasses
            raise forms.ValidationError(
                gettext("统一社会信用代码 %(code)s 无效，请核对营业执照。") % {"code": raw}, code="uscc_invalid"
            ) from exc


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    form = CompanyForm
    list_display = ("name", "uscc", "created_at")
    search_fields = ("name", "=uscc")
    readonly_fields = ("created_at",)
    list_per_page = 50

    def get_readonly_fields(self, request: HttpRequest, obj: Company | None = None) -> tuple[str, ...]:
        # The code identifies the company on every certificate and file: fixed once created.
        return ("uscc", "created_at") if obj is not None else ("created_at",)

    def has_delete_permission(self, request: HttpRequest, obj: Company | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Company, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)  # the name only
            return
        _adopt(obj, company_create(name=form.cleaned_data["name"], uscc=form.cleaned_data["uscc"]))


# -- agreements --------------------------------------------------------------------------------


class AgreementForm(forms.ModelForm):
    class Meta:
        model = Agreement
        fields = ("company", "number", "payer_unit_no", "start_date", "end_date", "fee_per_payment", "single_limit",
                  "settlement_account", "certificate")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        company, certificate = cleaned.get("company"), cleaned.get("certificate")
        # The service's own checks, run here so a refusal is a field error on the form.
        checks = []
        if company and certificate:
            checks.append(lambda: agreement_certificate_check(company=company, certificate=certificate,
                                                              now=clock.now()))
        if company and cleaned.get("settlement_account"):
            checks.append(lambda: agreement_settlement_check(company=company,
                                                             settlement_account=cleaned["settlement_account"]))
        for check in checks:
            try:
                check()
            except AgreementRefused as exc:
                self.add_error(exc.field or None, exc.message(get_language() or "zh-hans"))
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", gettext("协议到期日不能早于起始日。"))
        return cleaned


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    form = AgreementForm
    list_display = ("number", "company", "payer_unit_no", "start_date", "end_date", "fee_per_payment", "single_limit",
                    "settlement_account", "certificate_serial", "h2h_enabled")
    list_filter = ("end_date", "h2h_enabled")
    search_fields = ("number", "payer_unit_no", "company__name", "=settlement_account")
    list_select_related = ("company", "certificate")
    # Chosen by name (company name; certificate subject, serial or fingerprint), never a typed id.
    autocomplete_fields = ("company", "certificate")
    actions = ("export_package", "h2h_enable", "h2h_disable")
    list_per_page = 50

    def has_change_permission(self, request: HttpRequest, obj: Agreement | None = None) -> bool:
        return False  # a signed package may already be out there with these values

    def has_delete_permission(self, request: HttpRequest, obj: Agreement | None = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Agreement | None = None) -> list[str]:
        fields = list(AgreementForm.Meta.fields)
        return [*fields, "created_at", "package_link", "rebind_link"] if obj is not None else fields

    def get_readonly_fields(self, request: HttpRequest, obj: Agreement | None = None) -> tuple[str, ...]:
        return ("created_at", "package_link", "rebind_link") if obj is not None else ()

    def has_rebind_permission(self, request: HttpRequest) -> bool:
        # Binding is the one change an agreement allows; it needs the agreement change permission.
        return request.user.has_perm("agreements.change_agreement")

    @admin.display(description=_("换绑证书"))
    def rebind_link(self, obj: Agreement) -> str:
        if obj.certificate.revoked_at is None:
            return gettext("绑定证书有效；吊销后才能换绑新证书。")
        url = reverse("admin:agreements_agreement_rebind", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, gettext("绑定新证书"))

    @admin.display(description=_("证书序列号"), ordering="certificate__serial")
    def certificate_serial(self, obj: Agreement) -> str:
        suffix = gettext("（已吊销）") if obj.certificate.revoked_at else ""
        return f"{obj.certificate.serial}{suffix}"

    @admin.display(description=_("协议数据包"))
    def package_link(self, obj: Agreement) -> str:
        url = reverse("admin:agreements_agreement_package", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, gettext("导出协议数据包"))

    def save_model(self, request: HttpRequest, obj: Agreement, form: forms.ModelForm, change: bool) -> None:
        _adopt(obj, agreement_create(**{name: form.cleaned_data[name] for name in AgreementForm.Meta.fields},
                                     now=clock.now()))

    def get_urls(self) -> list:
        return [
            path("<int:pk>/package/", self.admin_site.admin_view(self.package_view),
                 name="agreements_agreement_package"),
            path("<int:pk>/rebind/", self.admin_site.admin_view(self.rebind_view),
                 name="agreements_agreement_rebind"),
            *super().get_urls(),
        ]

    def _package_response(self, agreement: Agreement) -> HttpResponse:
        return download_response(data=agreement_package_export(agreement=agreement),
                                 filename=f"{agreement.number}.agreement.p7s", content_type="application/pkcs7-mime")

    def package_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        agreement = get_object_or_404(Agreement.objects.select_related("company", "certificate"), pk=pk)
        return self._package_response(agreement)

    def rebind_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """换绑证书: the page that binds a new certificate once the old one is revoked."""
        if not self.has_rebind_permission(request):
            raise PermissionDenied
        agreement = get_object_or_404(Agreement.objects.select_related("company", "certificate"), pk=pk)
        change_url = reverse("admin:agreements_agreement_change", args=[agreement.pk])
        form = RebindForm(request.POST or None, agreement=agreement)
        if request.method == "POST" and form.is_valid():
            try:
                agreement_certificate_rebind(agreement=agreement, certificate=form.cleaned_data["certificate"],
                                             now=clock.now(), actor=request.user.get_username())
            except AgreementRefused as exc:
                form.add_error(None, exc.message(get_language() or "zh-hans"))
            else:
                done = gettext("协议 %(number)s 已绑定新证书 %(serial)s；请重新导出协议数据包交给企业。")
                serial = form.cleaned_data["certificate"].serial
                self.message_user(request, done % {"number": agreement.number, "serial": serial}, messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        old = agreement.certificate
        return staff_form_response(
            request, model_admin=self, title=gettext("换绑证书：%(number)s") % {"number": agreement.number},
            form=form, objects=[agreement],
            intro=gettext("原证书 %(serial)s（%(state)s）。新证书须是%(company)s的有效企业证书；原证书保持吊销。")
            % {"serial": old.serial, "state": gettext("已吊销") if old.revoked_at else gettext("有效"),
               "company": agreement.company.name},
            submit_label=gettext("绑定新证书"), cancel_url=change_url,
        )

    def has_h2h_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("agreements.change_agreement")

    def _h2h_set(self, request: HttpRequest, queryset: QuerySet[Agreement], enabled: bool) -> None:
        changed = sum(agreement_h2h_set(agreement=a, enabled=enabled, actor=request.user.get_username())
                      for a in queryset)
        self.message_user(request, (gettext("已为 %(count)d 个协议开通银企直连。") if enabled
                                    else gettext("已为 %(count)d 个协议关闭银企直连。")) % {"count": changed},
                          messages.SUCCESS)

    @admin.action(description=_("开通银企直连"), permissions=["h2h"])
    def h2h_enable(self, request: HttpRequest, queryset: QuerySet[Agreement]) -> None:
        self._h2h_set(request, queryset, True)

    @admin.action(description=_("关闭银企直连"), permissions=["h2h"])
    def h2h_disable(self, request: HttpRequest, queryset: QuerySet[Agreement]) -> None:
        self._h2h_set(request, queryset, False)

    @admin.action(description=_("导出协议数据包"), permissions=["view"])
    def export_package(self, request: HttpRequest, queryset: QuerySet[Agreement]) -> HttpResponse | None:
        agreements = list(queryset.select_related("company", "certificate")[:2])
        if len(agreements) != 1:
            self.message_user(request, gettext("请只选择一个协议导出数据包。"), messages.WARNING)
            return None
        return self._package_response(agreements[0])


class RebindForm(forms.Form):
    certificate = forms.ModelChoiceField(label=_("新证书"), queryset=Certificate.objects.none())

    def __init__(self, *args: Any, agreement: Agreement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        now = clock.now()
        # Only certificates the service would accept are offered, named by subject and serial.
        self.fields["certificate"].queryset = Certificate.objects.filter(
            company=agreement.company, role=Certificate.Role.ENTERPRISE, revoked_at__isnull=True,
            not_before__lte=now, not_after__gt=now,
        ).order_by("-created_at")
        self.fields["certificate"].label_from_instance = lambda c: f"{c.subject} · {c.serial} · {c.fingerprint[:16]}…"


# -- certificates ------------------------------------------------------------------------------


class CertificateStatusFilter(admin.SimpleListFilter):
    title = _("状态")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("valid", _("有效")), ("revoked", _("已吊销")), ("expired", _("已过期"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Certificate]) -> QuerySet[Certificate]:
        now = clock.now()
        if self.value() == "valid":
            return queryset.filter(revoked_at__isnull=True, not_after__gt=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, not_after__lte=now)
        return queryset


class KeyIssueForm(PinTwiceForm):
    # One token per form page: a second POST of the same page (a double click, a resubmitted
    # form) finds it used and shows the certificate already issued instead of issuing another.
    issue_token = forms.CharField(widget=forms.HiddenInput)
    company = forms.ModelChoiceField(label=_("企业"), queryset=Company.objects.order_by("name"))
    common_name = forms.CharField(label=_("证书名称（CN）"), max_length=64, required=False,
                                  help_text=_("留空则使用企业名称。"))
    field_order = ("company", "common_name", "pin1", "pin2")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pin1"].help_text = _("USBKEY 密码，至少 6 位；企业在客户端打开 USBKEY 时输入。")


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    change_list_template = "admin/agreements/certificate/change_list.html"
    list_display = ("serial", "subject", "role", "company", "not_after", "status", "revoked_at")
    list_filter = (CertificateStatusFilter, "role")
    search_fields = ("=serial", "subject", "=fingerprint", "company__name")
    list_select_related = ("company",)
    raw_id_fields = ("company",)
    fields = ("role", "company", "serial", "fingerprint", "subject", "not_before", "not_after", "revoked_at",
              "revocation_reason", "created_at", "pem")
    readonly_fields = fields
    actions = ("revoke_selected", "reissue_selected")
    list_per_page = 50

    def has_change_permission(self, request: HttpRequest, obj: Certificate | None = None) -> bool:
        return False  # issued certificates are facts; revocation is an action

    def has_delete_permission(self, request: HttpRequest, obj: Certificate | None = None) -> bool:
        return False  # the CRL is made from these rows

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Certificate],
                           search_term: str) -> tuple[QuerySet[Certificate], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") == "agreement" and request.GET.get("field_name") == "certificate":
            # The agreement form's autocomplete offers only what can be bound: valid enterprise keys.
            now = clock.now()
            queryset = queryset.filter(role=Certificate.Role.ENTERPRISE, revoked_at__isnull=True,
                                       not_before__lte=now, not_after__gt=now)
        return queryset, may_have_duplicates

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("agreements.change_certificate")

    @admin.display(description=_("状态"))
    def status(self, obj: Certificate) -> str:
        now = clock.now()
        if obj.revoked_at is not None:
            return gettext("已吊销")
        if obj.not_after <= now:
            return gettext("已过期")
        if obj.not_before > now:
            return gettext("未生效")
        return gettext("有效")

    def get_urls(self) -> list:
        return [
            path("crl/", self.admin_site.admin_view(self.crl_view), name="agreements_certificate_crl"),
            path("<int:pk>/issued/", self.admin_site.admin_view(self.issued_view),
                 name="agreements_certificate_issued"),
            path("<int:pk>/issued/usbkey.p12", self.admin_site.admin_view(self.issued_download_view),
                 name="agreements_certificate_issued_download"),
            *super().get_urls(),
        ]

    def crl_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        # Made fresh from the table: a certificate revoked a moment ago is on it.
        crl = trust_store(now=clock.now()).crls[0]
        return download_response(data=pki.crl_pem(crl), filename="payroll-bank.crl.pem",
                                 content_type="application/pkix-crl")

    @method_decorator(sensitive_post_parameters("pin1", "pin2"))
    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        """签发企业证书: the "add" button issues a key pair, then redirects (POST-redirect-GET) to a
        page with the fingerprint and the USB key download, so a reload never issues a second key."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        issued = request.session.get(ISSUED_SESSION_KEY) or {}
        if request.method == "POST" and issued.get("token") and request.POST.get("issue_token") == issued["token"]:
            return HttpResponseRedirect(reverse("admin:agreements_certificate_issued", args=[issued["pk"]]))
        token = request.POST.get("issue_token") if request.method == "POST" else secrets.token_urlsafe(16)
        form = KeyIssueForm(request.POST or None, initial={"issue_token": token})
        if request.method == "POST" and form.is_valid():
            # Claimed in the shared cache (Redis in production), atomically: of two POSTs of one page
            # arriving together, one issues and the other is sent to the list.
            if not cache.add(f"certificate-issue:{form.cleaned_data['issue_token']}", 1, timeout=24 * 3600):
                self.message_user(request, gettext("此签发表单已提交过，未再次签发；请在证书列表中查看已签发的证书。"),
                                  messages.WARNING)
                return HttpResponseRedirect(reverse("admin:agreements_certificate_changelist"))
            company = form.cleaned_data["company"]
            certificate, p12 = enterprise_key_issue(company=company, pin=form.pin, now=clock.now(),
                                                    common_name=form.cleaned_data["common_name"],
                                                    actor=request.user.get_username())
            self.log_addition(request, certificate, [{"added": {}}])
            # The bank keeps no private key: the PIN-protected file waits in this staff user's
            # session only (the latest issue; gone at logout) so the success page can offer it.
            request.session[ISSUED_SESSION_KEY] = {"pk": certificate.pk, "p12": base64.b64encode(p12).decode(),
                                                   "token": form.cleaned_data["issue_token"]}
            return HttpResponseRedirect(reverse("admin:agreements_certificate_issued", args=[certificate.pk]))
        return staff_form_response(
            request, model_admin=self, title=gettext("签发企业证书（USBKEY）"), form=form,
            intro=gettext("签发后在下一页下载 USBKEY 文件（.p12），写入企业的 USBKEY 介质；"
                          "银行不保存私钥，文件丢失只能重新签发。"),
            submit_label=gettext("签发"), cancel_url=reverse("admin:agreements_certificate_changelist"),
        )

    def _issued_p12(self, request: HttpRequest, pk: int) -> bytes | None:
        held = request.session.get(ISSUED_SESSION_KEY) or {}
        return base64.b64decode(held["p12"]) if held.get("pk") == pk else None

    def issued_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """签发成功: the certificate's fingerprint, to read out to the enterprise, and the download."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        certificate = get_object_or_404(Certificate.objects.select_related("company"), pk=pk,
                                        role=Certificate.Role.ENTERPRISE)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("企业证书已签发"),
            "certificate": certificate,
            "fingerprint": pki.fingerprint_display(certificate.fingerprint),
            "downloadable": self._issued_p12(request, pk) is not None,
            "download_url": reverse("admin:agreements_certificate_issued_download", args=[pk]),
            "changelist_url": reverse("admin:agreements_certificate_changelist"),
        }
        return TemplateResponse(request, "admin/agreements/certificate/issued.html", context)

    def issued_download_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        p12 = self._issued_p12(request, pk)
        if p12 is None:
            raise Http404(gettext("USBKEY 文件只能在签发它的会话中下载；如已遗失，请吊销并重新签发。"))
        certificate = get_object_or_404(Certificate.objects.select_related("company"), pk=pk)
        return download_response(data=p12, filename=f"{certificate.company.uscc}-{certificate.serial}.p12",
                                 content_type="application/x-pkcs12")

    @admin.action(description=_("重新签发所选证书（含银企直连用途，旧证书吊销前仍可签名）"), permissions=["add"])
    def reissue_selected(self, request: HttpRequest, queryset: QuerySet[Certificate]) -> HttpResponse | None:
        """重新签发: a new USB key for the selected certificate's company, its agreements moved to it;
        the PIN page and the download page are the ones of 签发企业证书."""
        selected = list(queryset[:2])
        if len(selected) != 1:
            self.message_user(request, gettext("请只选择一张证书重新签发。"), messages.WARNING)
            return None
        form = PinTwiceForm(request.POST if "post" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                certificate, p12 = certificate_reissue(certificate=selected[0], pin=form.pin, now=clock.now(),
                                                       actor=request.user.get_username())
            except AgreementRefused as exc:
                self.message_user(request, exc.message(get_language() or "zh-hans"), messages.ERROR)
                return None
            request.session[ISSUED_SESSION_KEY] = {"pk": certificate.pk, "p12": base64.b64encode(p12).decode(),
                                                   "token": secrets.token_urlsafe(16)}
            return HttpResponseRedirect(reverse("admin:agreements_certificate_issued", args=[certificate.pk]))
        return staff_form_response(
            request, model_admin=self, title=gettext("重新签发企业证书"), form=form, objects=selected,
            intro=gettext("新证书含客户端认证用途（银企直连），绑定旧证书的协议改绑新证书；旧证书不吊销，"
                          "用它签名的文件在吊销前仍可受理。请为企业导出新的协议数据包。"),
            submit_label=gettext("重新签发"), action="reissue_selected",
            cancel_url=reverse("admin:agreements_certificate_changelist"),
        )

    @admin.action(description=_("吊销所选证书（须填写原因）"), permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Certificate]) -> HttpResponse | None:
        selected = list(queryset.select_related("company"))
        bank_certs = [c for c in selected if c.role != Certificate.Role.ENTERPRISE]
        if bank_certs:
            self.message_user(request, gettext("银行证书不能在后台吊销。"), messages.ERROR)
            return None
        form = ReasonForm(request.POST if "post" in request.POST else None, required=True)
        if form.is_bound and form.is_valid():
            now = clock.now()
            for certificate in selected:
                certificate_revoke(certificate=certificate, reason=form.cleaned_data["reason"], now=now,
                                   actor=request.user.get_username())
            self.message_user(request, gettext("已吊销 %(count)d 张证书，证书作废列表（CRL）已更新。")
                              % {"count": len(selected)}, messages.SUCCESS)
            return None
        return staff_form_response(
            request, model_admin=self, title=gettext("吊销证书"), form=form, objects=selected,
            intro=gettext("吊销后，用这些证书签名的文件都会被拒绝，绑定它们的协议需换发新证书。"),
            submit_label=gettext("吊销"), action="revoke_selected",
            cancel_url=reverse("admin:agreements_certificate_changelist"),
        )
