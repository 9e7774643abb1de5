"""Login (刷卡 + 密码), home, 退出系统."""

from __future__ import annotations

import secrets

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.cards.errors import CardLoginError
from apps.cards.services import card_authenticate
from apps.cards.throttle import kiosk_login_failed, kiosk_login_reserve, kiosk_login_succeeded, kiosk_wait_seconds
from apps.kiosk.client_address import kiosk_client_address
from apps.kiosk.forms import CardLoginForm
from apps.kiosk.hours import kiosk_closed_response, kiosk_hours_now
from apps.kiosk.session import kiosk_card_required, kiosk_login, kiosk_logout, kiosk_session_state
from apps.kiosk.views.common import kiosk_render


def _pin_pad_digits() -> list[str]:
    # Shuffled on every page: the kiosk stands in a public hall with a touch screen, so a fixed
    # pad lets an onlooker (or the smudges on the glass) read the PIN from finger positions.
    # Each key still shows its digit in large print, so nobody has to memorise a layout.
    digits = list("0123456789")
    secrets.SystemRandom().shuffle(digits)
    return digits


def _login_page(request: HttpRequest, form: CardLoginForm, *, error: str = "", notice: str = "",
                status: int = 200) -> HttpResponse:
    return kiosk_render(
        request,
        "kiosk/login.html",
        {"form": form, "error": error, "notice": notice, "pin_digits": _pin_pad_digits()},
        status=status,
    )


def _wait_page(request: HttpRequest, seconds: int) -> HttpResponse:
    """429 with a countdown: this kiosk has had too many failed logins and must wait."""
    minutes, rest = divmod(seconds, 60)
    return kiosk_render(
        request, "kiosk/login_wait.html", {"wait_seconds": seconds, "wait_clock": f"{minutes}:{rest:02d}"},
        status=429,
    )


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest, *, timed_out: bool = False) -> HttpResponse:
    hours = kiosk_hours_now()
    if not hours.open:
        kiosk_logout(request)
        return kiosk_closed_response(request, hours)
    card, idle_ended = kiosk_session_state(request)
    address = kiosk_client_address(request)
    if card is not None and request.method == "GET":
        return redirect("kiosk:home")
    waiting = kiosk_wait_seconds(address=address)
    if waiting:  # this kiosk waits: no form is read, nothing is checked
        return _wait_page(request, waiting)
    if request.method == "GET":
        notice = ""
        if timed_out or idle_ended:
            notice = _("由于长时间未操作，系统已自动退出。请重新刷卡登录。")
        return _login_page(request, CardLoginForm(), notice=notice)

    form = CardLoginForm(request.POST)
    if not form.is_valid():
        return _login_page(request, form, error=_("请先刷卡，再在密码键盘上输入 6 位密码，然后点击“进入”。"))
    # The kiosk's try is reserved before any PIN is checked (the per-kiosk limit).
    waiting = kiosk_login_reserve(address=address)
    if waiting:
        return _wait_page(request, waiting)
    try:
        card = card_authenticate(number=form.cleaned_data["card"], pin=form.cleaned_data["pin"])
    except CardLoginError as exc:
        kiosk_login_failed(address=address)
        # Nothing the agent typed is echoed back: neither the card number nor the PIN.
        return _login_page(request, CardLoginForm(), error=exc.message(get_language() or "zh-hans"))
    kiosk_login_succeeded(address=address)
    kiosk_login(request, card=card)
    return redirect("kiosk:home")


@kiosk_card_required
def home_view(request: HttpRequest) -> HttpResponse:
    return kiosk_render(request, "kiosk/home.html")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    # 退出系统, and the page's own idle countdown reaching zero (reason=idle). Allowed at any hour.
    idle = request.POST.get("reason") == "idle"
    kiosk_logout(request)
    return redirect("kiosk:login_timeout" if idle else "kiosk:login")


@kiosk_card_required
def ping_view(request: HttpRequest) -> HttpResponse:
    # The page saw the agent tap or type: the decorator has already refreshed the idle timer.
    return HttpResponse(status=204)
