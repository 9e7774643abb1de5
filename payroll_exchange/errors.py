"""Errors that reach a user: a stable code plus a message in zh-hans and in English."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem found in a file. ``row`` is the 1-based row of the source (None: the whole
    file or its header); ``field`` is a stable English key such as ``account``."""

    code: str
    row: int | None
    field: str | None
    zh: str
    en: str

    def message(self, language: str = "zh-hans") -> str:
        return self.en if language.startswith("en") else self.zh


class ErrorSink(Protocol):
    """Where loaders and checks put the errors they find: a list, or anything that counts them
    without keeping them all (a file with 500,000 bad lines must not cost 500,000 objects)."""

    def append(self, error: RowError, /) -> None: ...

    def extend(self, errors: Iterable[RowError], /) -> None: ...


class ExchangeError(Exception):
    """A file refused as a whole. ``errors`` lists row problems when there are any."""

    def __init__(self, code: str, zh: str, en: str, errors: list[RowError] | None = None) -> None:
        super().__init__(f"{code}: {en}")
        self.code = code
        self.zh = zh
        self.en = en
        self.errors = errors or []

    def message(self, language: str = "zh-hans") -> str:
        return self.en if language.startswith("en") else self.zh
