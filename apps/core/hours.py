"""The service-hours guard every kiosk submission passes through (not only the pages)."""

from __future__ import annotations

from apps.core import clock
from apps.core.errors import KioskClosed


def service_hours_require() -> None:
    from apps.workdays.services import service_hours_status

    status = service_hours_status(at=clock.now())
    if not status.open:
        raise KioskClosed("kiosk_closed", status.reason_zh, status.reason_en)
