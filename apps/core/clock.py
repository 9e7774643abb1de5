"""The platform's business clock. Every business decision asks ``now()`` or ``today()``.

Technical bookkeeping (when a row was written, how long a task has been stuck) uses the
database's own timestamps instead, so a clock pinned in a test or demo cannot freeze timeouts.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from payroll_exchange import clock as _clock


def now() -> datetime:
    if _clock.clock_is_pinned() and not settings.BUSINESS_CLOCK_ALLOWED:
        raise ImproperlyConfigured(f"{_clock.ENV_VAR} is set, but these settings refuse a pinned clock")
    return _clock.business_now()


def today() -> date:
    return now().date()
