"""The login limit per kiosk: after N failed logins within a window, the kiosk waits.

Counted in the shared cache (Redis in production and tests), never in the session (a new session
is one cookie away) nor in process memory (each gunicorn worker would count alone). Each try is
reserved before the PIN is checked — an atomic INCR, given back on success — so parallel tries
from one kiosk cannot slip past the limit either. The window and the wait run on the wall clock:
the business clock is pinned in tests and the demo, and a pinned clock would never end a wait.

When a wait starts, a KioskLockout row (the staff's alert in the back office) and an audit event
are written once.
"""

from __future__ import annotations

import contextlib
import math
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.cards.models import KioskLockout
from apps.core.services import audit_record


def _failures_key(address: str) -> str:
    return f"kiosk-login:tries:{address}"


def _wait_key(address: str) -> str:
    return f"kiosk-login:wait:{address}"


def _limit() -> int:
    return int(settings.KIOSK_LOGIN_FAILURES)


def kiosk_wait_seconds(*, address: str) -> int:
    """Seconds this kiosk must still wait before it may try to log in (0: it may)."""
    until = cache.get(_wait_key(address))
    if until is None:
        return 0
    return max(0, math.ceil(float(until) - time.time()))


def _wait_start(*, address: str, failures: int) -> int:
    wait = int(settings.KIOSK_LOGIN_WAIT_SECONDS)
    until = time.time() + wait
    # add() is SET NX: of several requests that reach the limit together, one starts the wait.
    if cache.add(_wait_key(address), until, timeout=wait):
        cache.delete(_failures_key(address))  # after the wait the kiosk has its N tries again
        lockout = KioskLockout.objects.create(address=address, failures=failures,
                                              until=timezone.now() + timedelta(seconds=wait))
        audit_record(actor_kind="system", actor="kiosk-limit", action="kiosk_lockout", obj=lockout,
                     detail={"address": address, "failures": failures, "wait_seconds": wait})
    return kiosk_wait_seconds(address=address) or wait


def kiosk_login_reserve(*, address: str) -> int:
    """Reserve one login try for this kiosk. 0: go ahead (and report the outcome with
    kiosk_login_succeeded / kiosk_login_failed); otherwise the seconds the kiosk must wait."""
    waiting = kiosk_wait_seconds(address=address)
    if waiting:
        return waiting
    key = _failures_key(address)
    cache.add(key, 0, timeout=int(settings.KIOSK_LOGIN_WINDOW_SECONDS))
    try:
        tries = cache.incr(key)
    except ValueError:  # the window expired between add and incr: a fresh window
        cache.add(key, 1, timeout=int(settings.KIOSK_LOGIN_WINDOW_SECONDS))
        tries = 1
    if tries > _limit():
        # The limit's worth of tries have failed or are being checked right now: this kiosk waits.
        return _wait_start(address=address, failures=_limit())
    return 0


def kiosk_login_succeeded(*, address: str) -> None:
    """A right PIN gives its reserved try back (the failures before it still count)."""
    with contextlib.suppress(ValueError):  # the window has expired meanwhile: nothing to give back
        cache.decr(_failures_key(address))


def kiosk_login_failed(*, address: str) -> int:
    """The reserved try failed (it stays counted). Returns the seconds to wait when this failure
    was the last one allowed, else 0."""
    tries = cache.get(_failures_key(address)) or 0
    if int(tries) >= _limit():
        return _wait_start(address=address, failures=int(tries))
    return 0


def kiosk_lockout_release(*, lockout: KioskLockout, actor: str) -> bool:
    """Staff end a wait early (the agent at that kiosk is known and mistyped): the kiosk may log in
    again at once with a fresh count. False, and nothing changed, when the wait is already over."""
    if lockout.until <= timezone.now():
        return False
    cache.delete_many([_wait_key(lockout.address), _failures_key(lockout.address)])
    KioskLockout.objects.filter(pk=lockout.pk).update(until=timezone.now())
    lockout.refresh_from_db(fields=["until"])
    audit_record(actor_kind="staff", actor=actor, action="kiosk_lockout_release", obj=lockout,
                 detail={"address": lockout.address})
    return True
