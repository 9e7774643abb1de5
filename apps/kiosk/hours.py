"""The service-hours gate: bank working days, 09:00–16:30 Asia/Shanghai, on the business clock."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from apps.core import clock
from apps.workdays.services import ServiceHours, service_hours_status


def kiosk_hours_now() -> ServiceHours:
    return service_hours_status(at=clock.now())


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
