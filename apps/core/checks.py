"""System checks that keep production honest."""

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
