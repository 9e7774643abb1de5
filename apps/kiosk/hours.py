"""The kiosk's closed page. The hours themselves are decided in one place, apps/core/hours.py."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from apps.core.hours import service_hours_now as kiosk_hours_now
from apps.workdays.services import ServiceHours

__all__ = ["kiosk_closed_response", "kiosk_hours_now"]


def kiosk_closed_response(request: HttpRequest, hours: ServiceHours) -> HttpResponse:
    english = (get_language() or "").startswith("en")
    # A refused POST is 403 so a script notices; a GET is an ordinary page the kiosk shows.
    return render(
        request,
        "kiosk/closed.html",
        {
            "reason": hours.reason_en if english else hours.reason_zh,
            "next_open": hours.next_open,
        },
        status=403 if request.method == "POST" else 200,
    )
