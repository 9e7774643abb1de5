from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.kiosk.session import AUTO_PARAM, kiosk_idle_seconds

# The last stretch of an idle session in which the page shows its countdown (issue 5).
COUNTDOWN_SECONDS = 30


def kiosk_render(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HttpResponse:
    card = getattr(request, "kiosk_card", None)
    base = {
        "card": card,
        "company": card.company if card is not None else None,
        "idle_seconds": kiosk_idle_seconds(),
        "countdown_seconds": COUNTDOWN_SECONDS,
        "auto_param": AUTO_PARAM,
    }
    base.update(context or {})
    return render(request, template, base, status=status)
