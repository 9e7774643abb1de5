"""Service hours, in one place: the kiosk's pages and every kiosk submission ask here (bank
working days, KIOSK_OPEN_TIME to KIOSK_CLOSE_TIME Asia/Shanghai, on the business clock)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.core import clock
from apps.core.errors import KioskClosed

if TYPE_CHECKING:
    from apps.workdays.services import ServiceHours


def service_hours_now() -> ServiceHours:
    from apps.workdays.services import service_hours_status

    return service_hours_status(at=clock.now())


def service_hours_require() -> None:
    """The guard every kiosk submission passes through (not only the pages)."""
    status = service_hours_now()
    if not status.open:
        raise KioskClosed("kiosk_closed", status.reason_zh, status.reason_en)
