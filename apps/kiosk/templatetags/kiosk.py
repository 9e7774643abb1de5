"""Display helpers for the kiosk: masked numbers, yuan, the digest in readable groups."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def mask_account(value: object) -> str:
    """6222020200112233446 → "6222 **** **** 3446": enough to recognise, too little to copy."""
    digits = "".join(ch for ch in str(value or "") if ch.isalnum())
    if len(digits) <= 8:
        return "*" * max(len(digits) - 4, 0) + digits[-4:]
    return f"{digits[:4]} **** **** {digits[-4:]}"


@register.filter
def mask_id(value: object) -> str:
    text = str(value or "")
    if len(text) <= 4:
        return "*" * len(text)
    return f"{text[:3]}{'*' * (len(text) - 7)}{text[-4:]}" if len(text) > 7 else f"{'*' * (len(text) - 4)}{text[-4:]}"


@register.filter
def yuan(value: object) -> str:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{amount:,.2f}"


@register.filter
def digest_groups(value: object) -> str:
    """Four characters at a time, the way an agent compares a printed digest by eye."""
    text = str(value or "")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@register.filter
def message_in(value: object, language: str) -> str:
    """A stored row error (a dict with zh/en, or an object with .message) in the page's language."""
    english = str(language or "").startswith("en")
    if isinstance(value, dict):
        return str(value.get("en" if english else "zh") or value.get("zh") or value.get("message") or "")
    message = getattr(value, "message", None)
    if callable(message):
        return str(message(language))
    return str(value)
