"""Errors that reach a user: a stable code plus a message in zh-hans and in English."""

from __future__ import annotations

from dataclasses import dataclass


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
