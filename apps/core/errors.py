from __future__ import annotations


class ServiceError(Exception):
    """A business refusal shown to the user: a stable code and a message in zh-hans and English
    that says what to do next."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(f"{code}: {en}")
        self.code = code
        self.zh = zh
        self.en = en

    def message(self, language: str = "zh-hans") -> str:
        return self.en if language.startswith("en") else self.zh


class UploadRefused(ServiceError):
    pass


class KioskClosed(ServiceError):
    pass
