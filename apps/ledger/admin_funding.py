"""资金不足预警 in the back office: per pay date and settlement account, every shortfall of the stored
and held, unpaid batches against the balance (apps/ledger/funding.py). Read-only: staff act through the
counter deposit (柜面存取) or by talking to the company."""

from __future__ import annotations

from datetime import date

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext

from apps.ledger.funding import funding_shortfalls


def funding_shortfalls_view(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    raw = request.GET.get("pay_date", "")
    day: date | None = parse_date(raw) if raw else None
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": gettext("资金不足预警（按发薪日期和结算账户）"),
        "shortfalls": funding_shortfalls(pay_date=day),
        "pay_date": day,
    }
    return TemplateResponse(request, "admin/ledger/funding_shortfalls.html", context)
