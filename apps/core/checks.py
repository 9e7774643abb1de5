"""System checks that keep production honest: no pinned clock, no per-process cache."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from payroll_exchange import clock


@register(deploy=True)
def check_business_clock(app_configs, **kwargs):  # noqa: ARG001  (Django's check signature)
    if clock.clock_is_pinned() and not settings.BUSINESS_CLOCK_ALLOWED:
        return [
            Error(
                f"{clock.ENV_VAR} pins the business clock, which production refuses.",
                hint=f"Unset {clock.ENV_VAR}; only test and demo settings may pin the clock.",
                id="core.E001",
            )
        ]
    return []


# Caches that live inside one process: each gunicorn worker would count the kiosk login limit
# alone (N workers, N times the tries), and a restart would forget every wait.
PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register(deploy=True)
def check_shared_cache(app_configs, **kwargs):  # noqa: ARG001  (Django's check signature)
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in PER_PROCESS_CACHES:
        return [
            Error(
                f"The default cache ({backend}) lives inside one process; the kiosk login limit must be "
                "counted in a cache every web worker shares.",
                hint="Set CACHE_URL to a Redis URL (production uses the broker's Redis when it is unset).",
                id="core.E002",
            )
        ]
    return []
