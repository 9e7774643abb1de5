"""The pipeline's errors: all of them ServiceError (apps/core/errors.py), so an edge catches one type."""

from __future__ import annotations

from apps.core.errors import ServiceError
from payroll_exchange.errors import ExchangeError, RowError


class StateError(ServiceError):
    """A transition asked of a record that is not in a state it may start from."""

    def __init__(self, *, pk: int, action: str, allowed_from: tuple[str, ...], actual: str | None) -> None:
        super().__init__(
            "state_conflict",
            f"记录 {pk} 当前状态为“{actual}”，不能执行“{action}”。请刷新查看最新状态。",
            f"record {pk}: cannot {action} from {actual!r} (only from {', '.join(allowed_from)})",
        )
        self.pk = pk
        self.batch_id = pk
        self.action = action
        self.allowed_from = allowed_from
        self.actual = actual


class FileRefused(ServiceError):
    """The file itself is refused (its envelope, its agreement, its format): the record becomes
    invalid at once, never retried. ``errors`` are the row problems found with it, if any."""

    def __init__(self, code: str, zh: str, en: str, errors: list[RowError] | None = None) -> None:
        super().__init__(code, zh, en)
        self.errors = errors or []

    def as_row_errors(self) -> list[RowError]:
        return [RowError(code=self.code, row=None, field=None, zh=self.zh, en=self.en), *self.errors]

    @classmethod
    def from_exchange(cls, exc: ExchangeError) -> FileRefused:
        """The one place a core ExchangeError becomes a platform error."""
        return cls(exc.code, exc.zh, exc.en, list(exc.errors))


class NotYourAgreement(ServiceError):
    pass
