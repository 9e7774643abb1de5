"""Errors a card login can end with. Each carries the sentence the kiosk shows, in both languages."""

from __future__ import annotations


class CardLoginError(Exception):
    """Unknown card and wrong PIN share this one message: the kiosk never tells which it was,
    so a stolen list of card numbers cannot be sorted into real and made-up ones by trying.

    ``remaining`` is how many tries are left before the number locks (None when there is no
    counter to speak of, e.g. input that is no card number at all); it reads the same for a real
    card and for an unknown number.
    """

    zh = "卡号或密码错误"
    en = "Card number or PIN is incorrect"

    def __init__(self, remaining: int | None = None) -> None:
        self.remaining = remaining
        super().__init__(self.message("en"))

    def message(self, language: str = "zh-hans") -> str:
        if language.startswith("en"):
            if self.remaining is None:
                return self.en
            tries = "try" if self.remaining == 1 else "tries"
            return f"{self.en}. {self.remaining} {tries} left"
        if self.remaining is None:
            return self.zh
        return f"{self.zh}，还可尝试 {self.remaining} 次"


class CardLockedError(CardLoginError):
    zh = "此卡已锁定，请联系银行柜台解锁"
    en = "This card is locked. Please ask the bank counter to unlock it"

    def __init__(self) -> None:
        super().__init__(remaining=None)


class CardPinInvalid(ValueError):
    """A PIN that is not exactly six digits (raised when issuing or setting, never at login)."""


class CardNumberInvalid(ValueError):
    """A card number that is neither a track-2 string nor 12 to 19 typed digits."""


class CardStateError(ValueError):
    """A back-office card action refused in the card's present state (挂失 an already withdrawn
    card, a replacement for a withdrawn card, …). ``zh``/``en`` say why and what to do."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh = zh
        self.en = en
        super().__init__(en)

    def message(self, language: str = "zh-hans") -> str:
        return self.en if language.startswith("en") else self.zh
