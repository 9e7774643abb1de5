"""The file kinds the pipeline works: each app registers its kind in its AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models

from apps.intake.transitions import Transitions, state_transition

if TYPE_CHECKING:
    from apps.intake.work import Work

Step = Callable[["Work"], object]


@dataclass(frozen=True)
class FileKind:
    """``steps`` maps a working state (validating, storing) to the function that does that
    state's work; a step receives the claimed Work and ends with the record's next transition."""

    name: str
    model: type[models.Model]
    transitions: Transitions
    steps: dict[str, Step]
    error_status: str
    label_zh: str
    label_en: str

    def transition(self, *, pk: int, action: str, **fields: object) -> None:
        state_transition(model=self.model, transitions=self.transitions, pk=pk, action=action, **fields)


_KINDS: dict[str, FileKind] = {}


def file_kind_register(kind: FileKind) -> None:
    _KINDS[kind.name] = kind


def file_kind(name: str) -> FileKind:
    return _KINDS[name]


def file_kinds() -> list[FileKind]:
    return list(_KINDS.values())
