"""Errors a card login can end with. Each carries the sentence the kiosk shows, in both languages."""

from __future__ import annotations


class CardLoginError(Exception):
    """Unknown card and wrong PIN share this one message: the kiosk never tells which it was,
    so a stolen list of card numbers cannot be sorted into real and made-up ones by trying."""

    zh = "卡号或密码错误"
    en = "Card number or PIN is incorrect"

    def __init__(self) -> None:
        super().__init__(self.en)

    def message(self, language: str = "zh-hans") -> str:
        return self.en if language.startswith("en") else self.zh


class CardLockedError(CardLoginError):
    zh = "此卡已锁定，请联系银行柜台解锁"
    en = "This card is locked. Please ask the bank counter to unlock it"


class CardPinInvalid(ValueError):
    """A PIN that is not exactly six digits (raised when issuing or setting, never at login)."""


class CardNumberInvalid(ValueError):
    """A card number that is neither a track-2 string nor 12 to 19 typed digits."""
