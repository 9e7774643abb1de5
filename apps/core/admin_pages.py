"""Shared pieces of the back office: read-only admins, the one form page, PIN and reason forms,
file downloads. Each admin.py stays a thin layer over its app's services."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from apps.core.admin_paginator import EstimatedCountPaginator


class ReadOnlyAdmin(admin.ModelAdmin):
    """Looked at, never written through the admin form: records that are money, rows of a file or
    history. Writes go through services (actions, custom views), never a model form."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))

    def __init__(self, *args: Any, required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if self.fields["reason"].required and not reason:
            raise forms.ValidationError(_("请填写原因。"), code="required")
        return reason


class PinTwiceForm(forms.Form):
    """A PIN typed twice. PasswordInput never renders the value back, so a PIN is never shown;
    views using it are wrapped in sensitive_post_parameters so error reports never log it.
    Subclasses narrow the rule in ``pin_check``."""

    pin1 = forms.CharField(label=_("密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                           strip=False, max_length=64)
    pin2 = forms.CharField(label=_("再次输入密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                           strip=False, max_length=64)

    def pin_check(self, pin: str) -> None:
        if len(pin) < 6:
            raise forms.ValidationError(_("密码至少 6 位。"), code="pin_short")

    def clean_pin1(self) -> str:
        pin = self.cleaned_data["pin1"]
        self.pin_check(pin)
        return pin

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        pin1, pin2 = cleaned.get("pin1"), cleaned.get("pin2")
        if pin1 and pin2 and pin1 != pin2:
            self.add_error("pin2", forms.ValidationError(_("两次输入的密码不一致。"), code="pin_mismatch"))
        return cleaned

    @property
    def pin(self) -> str:
        return self.cleaned_data["pin1"]


def staff_form_response(
    request: HttpRequest,
    *,
    model_admin: admin.ModelAdmin,
    title: str,
    submit_label: str,
    form: forms.Form | None = None,
    objects: Iterable[Any] = (),
    intro: str = "",
    action: str = "",
    cancel_url: str = "",
) -> TemplateResponse:
    """The page before a service call: a confirmation, a reason, a PIN. For an admin action
    ``action`` is its name and ``objects`` the selection, re-posted like delete_selected does."""
    media = model_admin.media + form.media if form is not None else model_admin.media
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "intro": intro,
        "objects": list(objects),
        "form": form,
        "submit_label": submit_label,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "cancel_url": cancel_url,
        "media": media,
    }
    return TemplateResponse(request, "admin/staff_form.html", context)


def download_response(*, data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    # Keys and signed files are not for shared caches.
    response["Cache-Control"] = "no-store"
    return response
