"""Card numbers and PINs as the kiosk and the back office receive them.

The card number itself is never stored: a keyed hash finds the card and only the last four
digits are kept to show. The key is ``settings.CARD_HASH_KEY`` when set, else one derived from
``SECRET_KEY`` (salted HMAC with a purpose string) — a dedicated key lets the bank rotate
SECRET_KEY without orphaning every issued card.
"""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings
from django.utils.crypto import salted_hmac

from apps.cards.errors import CardPinInvalid

# Track 2 as a magnetic reader types it: start sentinel ';', the PAN, the field separator '='
# (some readers send 'D'), expiry, service code and discretionary digits, end sentinel '?',
# sometimes a trailing LRC character. Only the PAN matters here.
_TRACK2 = re.compile(r";?(?P<pan>\d{12,19})[=D]\d*\?.?")
_TYPED = re.compile(r"\d{12,19}")
_PIN = re.compile(r"[0-9]{6}")
_HASH_PURPOSE = "apps.cards.card_number_hash"


def card_number_normalize(raw: str) -> str | None:
    """The PAN from a track-2 string or from typed digits (spaces, dashes and full-width digits
    allowed); None for anything else."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    match = _TRACK2.fullmatch(text)
    if match:
        return match["pan"]
    digits = re.sub(r"[\s-]", "", text)
    if _TYPED.fullmatch(digits):
        return digits
    return None


def card_number_hash(pan: str) -> str:
    secret = getattr(settings, "CARD_HASH_KEY", "") or settings.SECRET_KEY
    return salted_hmac(_HASH_PURPOSE, pan, secret=secret, algorithm="sha256").hexdigest()


def pin_is_well_formed(pin: object) -> bool:
    return isinstance(pin, str) and _PIN.fullmatch(pin) is not None


def pin_check_format(pin: str) -> None:
    if not pin_is_well_formed(pin):
        raise CardPinInvalid("a card PIN is exactly six digits")
