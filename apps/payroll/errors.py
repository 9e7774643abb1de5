from __future__ import annotations

from apps.core.errors import ServiceError


class BatchStateError(Exception):
    """A transition asked of a batch that is not in a state it may start from."""

    def __init__(self, *, batch_id: int, action: str, allowed_from: tuple[str, ...], actual: str | None) -> None:
        self.batch_id = batch_id
        self.action = action
        self.allowed_from = allowed_from
        self.actual = actual
        super().__init__(f"batch {batch_id}: cannot {action} from {actual!r} (only from {', '.join(allowed_from)})")


class PayDateOutOfWindow(ServiceError):
    pass


class NotYourAgreement(ServiceError):
    pass
