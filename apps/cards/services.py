"""Financial service cards (金融服务卡): number hashing, issue, PIN, lock and the kiosk login.

The card number itself is never stored: a keyed hash finds the card and only the last four
digits are kept to show. The key is ``settings.CARD_HASH_KEY`` when set, else one derived from
``SECRET_KEY`` (salted HMAC with a purpose string) — a dedicated key lets the bank rotate
SECRET_KEY without orphaning every issued card.
"""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db.models import Case, F, Value, When
from django.utils.crypto import salted_hmac

from apps.agreements.models import Company
from apps.cards.errors import CardLockedError, CardLoginError, CardNumberInvalid, CardPinInvalid
from apps.cards.models import ServiceCard
from apps.core import clock
from apps.core.services import audit_record

# Consecutive wrong PINs that lock a card until bank staff unlock it (issue 5).
MAX_FAILED_ATTEMPTS = 3

# Track 2 as a magnetic reader types it: start sentinel ';', the PAN, the field separator '='
# (some readers send 'D'), expiry, service code and discretionary digits, end sentinel '?',
# sometimes a trailing LRC character. Only the PAN matters here.
_TRACK2 = re.compile(r";?(?P<pan>\d{12,19})[=D]\d*\?.?")
_TYPED = re.compile(r"\d{12,19}")
_PIN = re.compile(r"[0-9]{6}")
_HASH_PURPOSE = "apps.cards.card_number_hash"

# Checking a PIN against this on an unknown card costs what a real check costs, so the answer
# time does not tell an unknown card from a wrong PIN either.
_DUMMY_PIN_HASH = None


def card_actor(card: ServiceCard) -> str:
    """How a card appears as the actor in the audit log (never its number)."""
    return f"card#{card.pk}"


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


def _pin_check_format(pin: str) -> None:
    if not isinstance(pin, str) or not _PIN.fullmatch(pin):
        raise CardPinInvalid("a card PIN is exactly six digits")


def card_issue(*, company: Company, number: str, pin: str, actor: str = "bank") -> ServiceCard:
    pan = card_number_normalize(number)
    if pan is None:
        raise CardNumberInvalid("not a card number")
    _pin_check_format(pin)
    card = ServiceCard.objects.create(
        company=company, number_hash=card_number_hash(pan), last4=pan[-4:], pin_hash=make_password(pin)
    )
    audit_record(actor_kind="staff", actor=actor, action="card_issue", obj=card, company_id=company.pk)
    return card


def card_pin_set(*, card: ServiceCard, pin: str, actor: str = "bank") -> None:
    """Set a new PIN (bank staff reset). Also clears the failure counter, not the lock."""
    _pin_check_format(pin)
    ServiceCard.objects.filter(pk=card.pk).update(pin_hash=make_password(pin), failed_attempts=0)
    card.refresh_from_db(fields=["pin_hash", "failed_attempts"])
    # The PIN never reaches the audit log or any logger.
    audit_record(actor_kind="staff", actor=actor, action="card_pin_set", obj=card, company_id=card.company_id)


def card_unlock(*, card: ServiceCard, actor: str = "bank") -> None:
    ServiceCard.objects.filter(pk=card.pk).update(locked_at=None, failed_attempts=0)
    card.refresh_from_db(fields=["locked_at", "failed_attempts"])
    audit_record(actor_kind="staff", actor=actor, action="card_unlock", obj=card, company_id=card.company_id)


def _dummy_pin_check(pin: str) -> None:
    global _DUMMY_PIN_HASH
    if _DUMMY_PIN_HASH is None:
        _DUMMY_PIN_HASH = make_password("000000")
    check_password(pin, _DUMMY_PIN_HASH)


def card_authenticate(*, number: str, pin: str) -> ServiceCard:
    """The kiosk login. Raises CardLoginError (unknown card, wrong PIN) or CardLockedError."""
    pan = card_number_normalize(number)
    card = (
        ServiceCard.objects.select_related("company").filter(number_hash=card_number_hash(pan), active=True).first()
        if pan
        else None
    )
    if card is None:
        _dummy_pin_check(pin or "")
        audit_record(
            actor_kind="card", actor=f"****{pan[-4:]}" if pan else "unknown", action="card_login_unknown",
            detail={"reason": "unknown card" if pan else "not a card number"},
        )
        raise CardLoginError()
    actor = card_actor(card)
    if card.locked_at is not None:
        audit_record(actor_kind="card", actor=actor, action="card_login_locked", obj=card, company_id=card.company_id)
        raise CardLockedError()

    now = clock.now()
    if isinstance(pin, str) and _PIN.fullmatch(pin) and check_password(pin, card.pin_hash):
        # Conditional on "still unlocked": a lock that raced in between wins.
        if ServiceCard.objects.filter(pk=card.pk, locked_at__isnull=True).update(
            failed_attempts=0, last_login_at=now
        ) != 1:
            raise CardLockedError()
        card.refresh_from_db(fields=["failed_attempts", "last_login_at", "locked_at"])
        audit_record(actor_kind="card", actor=actor, action="card_login", obj=card, company_id=card.company_id)
        return card

    # One UPDATE counts the failure and, on the third, locks: two kiosks racing with wrong PINs
    # cannot both read "2" and both miss the lock (no check-then-act).
    ServiceCard.objects.filter(pk=card.pk, locked_at__isnull=True).update(
        failed_attempts=F("failed_attempts") + 1,
        locked_at=Case(
            When(failed_attempts__gte=MAX_FAILED_ATTEMPTS - 1, then=Value(now)), default=Value(None)
        ),
    )
    card.refresh_from_db(fields=["failed_attempts", "locked_at"])
    audit_record(
        actor_kind="card", actor=actor, action="card_login_failed", obj=card, company_id=card.company_id,
        detail={"failed_attempts": card.failed_attempts},
    )
    if card.locked_at is not None:
        audit_record(actor_kind="card", actor=actor, action="card_lock", obj=card, company_id=card.company_id)
        raise CardLockedError()
    raise CardLoginError()
