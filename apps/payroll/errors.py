from __future__ import annotations

from apps.core.errors import ServiceError
from apps.intake.errors import NotYourAgreement, StateError

# The pipeline's one state error; the old name stays importable for the back office's callers.
BatchStateError = StateError

__all__ = ["BatchStateError", "NotYourAgreement", "PayDateOutOfWindow", "StateError"]


class PayDateOutOfWindow(ServiceError):
    pass
