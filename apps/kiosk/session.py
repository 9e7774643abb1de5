"""The kiosk session: which card is logged in, and when the agent last did something.

The kiosk logs nobody into ``django.contrib.auth``: the session holds the card's id. Idle time
is measured on the wall clock (``time.time()``), never the business clock, which tests and the
demo pin or move by days: a pinned business clock would otherwise never let a session expire.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from apps.cards.models import CardStatus, ServiceCard
from apps.kiosk.hours import kiosk_closed_response, kiosk_hours_now

SESSION_CARD = "kiosk_card_id"
SESSION_SEEN = "kiosk_last_seen"
# Requests a page makes by itself (the progress page's refresh and polling) carry this query
# parameter: they must not count as the agent doing something, or a page left on 入库中
# would keep an abandoned kiosk logged in forever.
AUTO_PARAM = "auto"


def kiosk_idle_seconds() -> int:
    return int(getattr(settings, "KIOSK_IDLE_SECONDS", 120))


def kiosk_login(request: HttpRequest, *, card: ServiceCard) -> None:
    # A new session id at login, like django.contrib.auth.login: a session id planted before
    # the login (session fixation) is worthless afterwards.
    request.session.cycle_key()
    request.session[SESSION_CARD] = card.pk
    request.session[SESSION_SEEN] = time.time()


def kiosk_logout(request: HttpRequest) -> None:
    request.session.flush()


def kiosk_session_state(request: HttpRequest) -> tuple[ServiceCard | None, bool]:
    """(the logged-in card, whether an idle session was just ended)."""
    card_id = request.session.get(SESSION_CARD)
    if card_id is None:
        return None, False
    seen = request.session.get(SESSION_SEEN, 0)
    if time.time() - float(seen) > kiosk_idle_seconds():
        kiosk_logout(request)
        return None, True
    card = ServiceCard.objects.select_related("company").filter(
        pk=card_id, status=CardStatus.ACTIVE, locked_at__isnull=True
    ).first()
    if card is None:  # locked, blocked or withdrawn by bank staff while logged in
        kiosk_logout(request)
    return card, False


def kiosk_touch(request: HttpRequest) -> None:
    if AUTO_PARAM not in request.GET:
        request.session[SESSION_SEEN] = time.time()


def kiosk_card_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Every kiosk screen after login: service hours, a live card, not idle too long.

    Outside service hours the screen says so and the session ends: no page and no submission
    is served then, GET or POST (issue 5).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        hours = kiosk_hours_now()
        if not hours.open:
            kiosk_logout(request)
            return kiosk_closed_response(request, hours)
        card, timed_out = kiosk_session_state(request)
        if card is None:
            return redirect("kiosk:login" if not timed_out else "kiosk:login_timeout")
        kiosk_touch(request)
        request.kiosk_card = card  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper
