"""The kiosk login (刷卡 + 密码): at most three PINs checked per card number, whatever the concurrency.

Each try holds the row lock of the number's counter across ``check_password`` (SELECT … FOR
UPDATE in one transaction), so parallel guesses on one card are checked one after another and
the fourth finds the card locked: at most three wrong PINs are ever checked, and no right PIN
logs in once the card is locked. A worker that dies mid-check rolls back and leaks nothing.

Numbers that find no usable card (unknown, 挂失 or 注销) take the same path against
``UnknownCardAttempt``: the same hasher work, the same counter, the same lock, the same
sentences — the lock is no oracle for whether a number exists. A locked number (real or not)
answers without hashing, in the same time either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, get_hasher, make_password
from django.db import transaction

from apps.cards.errors import CardLockedError, CardLoginError
from apps.cards.models import CardStatus, ServiceCard, UnknownCardAttempt
from apps.cards.numbers import card_number_hash, card_number_normalize, pin_is_well_formed
from apps.core import clock
from apps.core.services import audit_record

# Consecutive wrong PINs that lock a card until bank staff unlock it (issue 5).
MAX_FAILED_ATTEMPTS = 3

# Checking a PIN against this on an unknown number costs what a real check costs (same hasher,
# same work factor), so the answer time does not tell an unknown number from a wrong PIN.
_dummy_pin_hash: dict[str, str] = {}


def card_actor(card: ServiceCard) -> str:
    """How a card appears as the actor in the audit log (never its number)."""
    return f"card#{card.pk}"


def _pin_matches(pin: object, encoded: str | None) -> bool:
    """One hasher run whatever the input, so a malformed PIN costs what a wrong one costs."""
    text = pin if isinstance(pin, str) else ""
    if encoded is None:
        algorithm = get_hasher().algorithm  # settings may change (tests): one dummy per hasher
        if algorithm not in _dummy_pin_hash:
            _dummy_pin_hash[algorithm] = make_password("000000")
        check_password(text, _dummy_pin_hash[algorithm])
        return False
    return check_password(text, encoded) and pin_is_well_formed(pin)


@dataclass(frozen=True)
class _Outcome:
    card: ServiceCard | None = None
    error: CardLoginError | None = None


def _count_failure(counter: ServiceCard | UnknownCardAttempt) -> tuple[int, bool]:
    """Count one wrong PIN on a counter row the caller holds locked; (attempts, now locked)."""
    attempts = counter.failed_attempts + 1
    locked = attempts >= MAX_FAILED_ATTEMPTS
    counter.failed_attempts = attempts
    counter.locked_at = clock.now() if locked else None
    counter.save(update_fields=["failed_attempts", "locked_at"])
    return attempts, locked


def _known_card_try(card: ServiceCard, pin: object) -> _Outcome:
    actor = card_actor(card)
    if card.locked_at is not None:
        audit_record(actor_kind="card", actor=actor, action="card_login_locked", obj=card, company_id=card.company_id)
        return _Outcome(error=CardLockedError())
    if _pin_matches(pin, card.pin_hash):
        card.failed_attempts = 0
        card.last_login_at = clock.now()
        card.save(update_fields=["failed_attempts", "last_login_at"])
        audit_record(actor_kind="card", actor=actor, action="card_login", obj=card, company_id=card.company_id)
        return _Outcome(card=card)
    attempts, locked = _count_failure(card)
    audit_record(actor_kind="card", actor=actor, action="card_login_failed", obj=card, company_id=card.company_id,
                 detail={"failed_attempts": attempts})
    if locked:
        audit_record(actor_kind="card", actor=actor, action="card_lock", obj=card, company_id=card.company_id)
        return _Outcome(error=CardLockedError())
    return _Outcome(error=CardLoginError(remaining=MAX_FAILED_ATTEMPTS - attempts))


def _unknown_number_try(number_hash: str, pan: str, pin: object) -> _Outcome:
    # INSERT … ON CONFLICT DO NOTHING, then the row lock: two first tries at once make one row.
    UnknownCardAttempt.objects.bulk_create([UnknownCardAttempt(number_hash=number_hash)], ignore_conflicts=True)
    counter = UnknownCardAttempt.objects.select_for_update().get(number_hash=number_hash)
    actor = f"****{pan[-4:]}"
    if counter.locked_at is not None:
        audit_record(actor_kind="card", actor=actor, action="card_login_unknown", detail={"reason": "locked"})
        return _Outcome(error=CardLockedError())
    _pin_matches(pin, None)
    attempts, locked = _count_failure(counter)
    audit_record(actor_kind="card", actor=actor, action="card_login_unknown",
                 detail={"reason": "unknown card", "failed_attempts": attempts})
    if locked:
        return _Outcome(error=CardLockedError())
    return _Outcome(error=CardLoginError(remaining=MAX_FAILED_ATTEMPTS - attempts))


def card_authenticate(*, number: str, pin: str) -> ServiceCard:
    """The kiosk login. Returns the card, or raises CardLoginError (unknown number, wrong PIN,
    with the tries left) or CardLockedError. Every refusal is committed before it is raised."""
    pan = card_number_normalize(number)
    if pan is None:
        _pin_matches(pin, None)
        audit_record(actor_kind="card", actor="unknown", action="card_login_unknown",
                     detail={"reason": "not a card number"})
        raise CardLoginError()
    number_hash = card_number_hash(pan)
    with transaction.atomic():
        card = (
            ServiceCard.objects.select_for_update()
            .filter(number_hash=number_hash, status=CardStatus.ACTIVE)
            .first()
        )
        outcome = _known_card_try(card, pin) if card is not None else _unknown_number_try(number_hash, pan, pin)
    if outcome.error is not None:
        raise outcome.error
    return outcome.card
