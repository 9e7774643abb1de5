from __future__ import annotations

from apps.core.errors import ServiceError


class PayDateOutOfWindow(ServiceError):
    pass
