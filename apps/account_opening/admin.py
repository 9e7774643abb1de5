"""Back office: 批量开户 at the counter. The "add" button is the upload (agreement + file), which
calls one service; requests and their rows are read-only; the result file is a download.

The kiosk has no screen for it (the manual has none): the agent brings the file to the counter.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from apps.account_opening.models import AccountOpeningRequest, AccountOpeningRow
from apps.account_opening.services import account_opening_process, account_opening_result_download
from apps.agreements.models import Agreement
from apps.core import clock
from apps.core.admin_pages import ReadOnlyAdmin, download_response
from apps.core.errors import ServiceError

S = AccountOpeningRequest.Status
UPLOAD_PERMISSION = "account_opening.add_accountopeningrequest"


class UploadForm(forms.Form):
    agreement = forms.ModelChoiceField(label=_("代发协议"), queryset=Agreement.objects.select_related("company"),
                                       help_text=_("文件须由该协议绑定的企业证书签名。"))
    file = forms.FileField(label=_("批量开户文件"), help_text=_("企业客户端“批量开户”生成的 .p7m 文件。"))


@admin.register(AccountOpeningRequest)
class AccountOpeningRequestAdmin(ReadOnlyAdmin):
    change_list_template = "admin/account_opening/accountopeningrequest/change_list.html"
    list_display = ("id", "company", "agreement_number", "status", "record_count", "opened_count", "refused_count",
                    "created_at", "staff", "result_link")
    list_filter = ("status", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=file_id", "=agreement__number", "company__name")
    list_select_related = ("company", "agreement", "staff")
    raw_id_fields = ("company", "agreement", "staff")
    readonly_fields = ("result_link", "rows_link")
    ordering = ("-created_at", "-id")
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("company", "agreement", "status", "staff", "created_at", "rows_link", "result_link")}),
        (_("申请文件"), {"fields": ("original_name", "size", "file_id", "digest", "record_count")}),
        (_("结果"), {"fields": ("opened_count", "refused_count", "result_file_id", "result_digest")}),
        (_("拒绝原因"), {"fields": ("refusal_code", "errors")}),
    )

    def has_upload_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(UPLOAD_PERMISSION)

    @admin.display(description=_("协议"), ordering="agreement__number")
    def agreement_number(self, obj: AccountOpeningRequest) -> str:
        return obj.agreement.number

    @admin.display(description=_("结果文件"))
    def result_link(self, obj: AccountOpeningRequest) -> str:
        if obj.status != S.OPENED:
            return "-"
        url = reverse("admin:account_opening_result", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("下载结果文件"))

    @admin.display(description=_("开户明细"))
    def rows_link(self, obj: AccountOpeningRequest) -> str:
        url = reverse("admin:account_opening_accountopeningrow_changelist")
        return format_html('<a href="{}?request__id__exact={}">{}</a>', url, obj.pk,
                           gettext("查看 %(count)s 笔明细") % {"count": obj.record_count})

    def get_urls(self) -> list:
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="account_opening_upload"),
            path("<int:pk>/result/", self.admin_site.admin_view(self.result_view), name="account_opening_result"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra = {"has_upload_permission": self.has_upload_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        """受理批量开户: the agreement and the file, then one service call."""
        if not self.has_upload_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            language = get_language() or "zh-hans"
            try:
                done = account_opening_process(agreement=form.cleaned_data["agreement"],
                                               upload=form.cleaned_data["file"], user=request.user, now=clock.now())
            except ServiceError as exc:
                form.add_error("file", exc.message(language))
            else:
                if done.status == S.OPENED:
                    text = gettext("已开户 %(opened)d 人，未开户 %(refused)d 人。请下载结果文件交给企业。")
                    self.message_user(request, text % {"opened": done.opened_count, "refused": done.refused_count},
                                      messages.SUCCESS)
                else:
                    first = (done.errors or [{}])[0]
                    reason = first.get("en" if language.startswith("en") else "zh", done.refusal_code)
                    self.message_user(request, gettext("文件已拒绝，未开立任何账户：%(reason)s") % {"reason": reason},
                                      messages.ERROR)
                return HttpResponseRedirect(reverse("admin:account_opening_accountopeningrequest_change",
                                                    args=[done.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("受理批量开户"),
            "intro": gettext("选择企业的代发协议并上传企业客户端生成的批量开户文件。文件校验通过后立即开户，"
                             "并生成由银行签名、为企业证书加密的结果文件。同一文件只能开户一次。"),
            "form": form,
            "submit_label": gettext("开户"),
            "cancel_url": reverse("admin:account_opening_accountopeningrequest_changelist"),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/account_opening/upload.html", context)

    def result_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        opening = get_object_or_404(AccountOpeningRequest.objects.select_related("agreement"), pk=pk)
        try:
            data, filename = account_opening_result_download(request=opening, user=request.user)
        except ServiceError as exc:
            self.message_user(request, exc.message(get_language() or "zh-hans"), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:account_opening_accountopeningrequest_change", args=[pk]))
        return download_response(data=data, filename=filename, content_type="application/pkcs7-mime")


@admin.register(AccountOpeningRow)
class AccountOpeningRowAdmin(ReadOnlyAdmin):
    list_display = ("request_id", "seq", "id_type", "id_number", "name", "mobile", "result_code", "account",
                    "message")
    search_fields = ("=id_number", "name", "=account__number")
    list_select_related = ("account",)
    raw_id_fields = ("request", "account")
    ordering = ("request", "seq")
    list_per_page = 100
