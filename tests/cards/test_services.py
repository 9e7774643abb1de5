"""Service cards: number normalizing and hashing, issue, PIN, lock after three wrong PINs, unlock."""

from __future__ import annotations

import contextlib
import logging

import pytest
from django.contrib.auth.hashers import check_password

from apps.cards.errors import CardLockedError, CardLoginError, CardNumberInvalid, CardPinInvalid
from apps.cards.models import CardStatus, ServiceCard
from apps.cards.services import (
    card_authenticate,
    card_issue,
    card_number_hash,
    card_number_normalize,
    card_pin_set,
    card_unlock,
)
from apps.core.models import AuditEvent
from tests.factories import CARD_PIN

PAN = "6222020200112233446"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (";6222020200112233446=28121010000000000000?", PAN),  # what the reader types
        (";6222020200112233446=28121010000000000000?5", PAN),  # with the LRC character
        ("6222020200112233446=2812101?", PAN),  # reader that drops the start sentinel
        (";6222020200112233446D2812101?", PAN),  # 'D' as field separator
        ("6222020200112233446", PAN),
        (" 6222 0202 0011 2233 446 ", PAN),
        ("6222-0202-0011-2233-446", PAN),
        ("６２２２０２０２００１１２２３３４４６", PAN),  # full-width digits from an IME
    ],
)
def test_normalize_accepts_track2_and_typed_digits(raw, expected):
    assert card_number_normalize(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "62220202001", "62220202001122334461234", "6222abc0200112233446", ";=28121010?",
     "%B6222020200112233446^ZHANG/SAN^2812?", "'; DROP TABLE cards; --"],
)
def test_normalize_refuses_anything_else(raw):
    assert card_number_normalize(raw) is None


def test_hash_is_keyed_and_stable(settings):
    first = card_number_hash(PAN)
    assert first == card_number_hash(PAN)
    assert len(first) == 64
    assert PAN not in first
    settings.CARD_HASH_KEY = "a dedicated key"
    assert card_number_hash(PAN) != first


def test_issue_keeps_only_hash_last4_and_hashed_pin(our_agent):
    card = card_issue(company=our_agent.company, number=f";{PAN}=2812?", pin="135790")
    card.refresh_from_db()
    assert card.number_hash == card_number_hash(PAN)
    assert card.last4 == "3446"
    assert card.pin_hash != "135790"
    assert check_password("135790", card.pin_hash)
    assert card.masked_number == "**** **** **** 3446"
    assert AuditEvent.objects.filter(action="card_issue", object_id=str(card.pk)).count() == 1


@pytest.mark.parametrize("pin", ["12345", "1234567", "12a456", "", "１２３４５６"])
def test_issue_refuses_a_pin_that_is_not_six_digits_and_creates_nothing(our_agent, pin):
    before = ServiceCard.objects.count()
    with pytest.raises(CardPinInvalid):
        card_issue(company=our_agent.company, number=PAN, pin=pin)
    assert ServiceCard.objects.count() == before


def test_issue_refuses_a_bad_number_and_creates_nothing(our_agent):
    before = ServiceCard.objects.count()
    with pytest.raises(CardNumberInvalid):
        card_issue(company=our_agent.company, number="12345", pin="135790")
    assert ServiceCard.objects.count() == before


def test_login_succeeds_and_resets_the_failure_counter(our_agent, business_clock):
    ServiceCard.objects.filter(pk=our_agent.card.pk).update(failed_attempts=2)
    card = card_authenticate(number=our_agent.card_number, pin=CARD_PIN)
    assert card.pk == our_agent.card.pk
    assert card.failed_attempts == 0
    assert card.last_login_at is not None
    assert AuditEvent.objects.filter(action="card_login", object_id=str(card.pk), actor_kind="card").count() == 1


def test_unknown_card_and_wrong_pin_get_the_same_message(our_agent, business_clock):
    with pytest.raises(CardLoginError) as unknown:
        card_authenticate(number="6222020200112233453", pin=CARD_PIN)
    with pytest.raises(CardLoginError) as wrong:
        card_authenticate(number=our_agent.card_number, pin="000000")
    assert type(unknown.value) is type(wrong.value) is CardLoginError
    assert unknown.value.message("zh-hans") == wrong.value.message("zh-hans") == "卡号或密码错误，还可尝试 2 次"
    assert unknown.value.message("en") == wrong.value.message("en") == "Card number or PIN is incorrect. 2 tries left"
    assert AuditEvent.objects.filter(action="card_login_unknown").count() == 1
    assert AuditEvent.objects.filter(action="card_login_failed", object_id=str(our_agent.card.pk)).count() == 1


def test_three_wrong_pins_lock_the_card_in_the_database(our_agent, business_clock):
    for expected in (1, 2):
        with pytest.raises(CardLoginError) as exc:
            card_authenticate(number=our_agent.card_number, pin="000000")
        assert not isinstance(exc.value, CardLockedError)
        assert ServiceCard.objects.get(pk=our_agent.card.pk).failed_attempts == expected

    with pytest.raises(CardLockedError) as locked:
        card_authenticate(number=our_agent.card_number, pin="000000")
    assert locked.value.message("zh-hans") == "此卡已锁定，请联系银行柜台解锁"
    card = ServiceCard.objects.get(pk=our_agent.card.pk)
    assert card.failed_attempts == 3
    assert card.locked_at is not None
    assert AuditEvent.objects.filter(action="card_lock", object_id=str(card.pk)).count() == 1

    # Locked means locked: the right PIN is refused and counts nothing further.
    with pytest.raises(CardLockedError):
        card_authenticate(number=our_agent.card_number, pin=CARD_PIN)
    assert ServiceCard.objects.get(pk=card.pk).failed_attempts == 3
    assert AuditEvent.objects.filter(action="card_login_locked", object_id=str(card.pk)).count() == 1


def test_the_counter_is_read_in_the_database_not_from_a_stale_object(our_agent, business_clock):
    # Another kiosk counted two failures meanwhile: the third one here locks (the UPDATE reads
    # the row's own value, not what this process last saw).
    stale = ServiceCard.objects.get(pk=our_agent.card.pk)
    ServiceCard.objects.filter(pk=stale.pk).update(failed_attempts=2)
    with pytest.raises(CardLockedError):
        card_authenticate(number=our_agent.card_number, pin="999999")
    assert ServiceCard.objects.get(pk=stale.pk).locked_at is not None


def test_bank_staff_unlock_lets_the_card_in_again(our_agent, business_clock):
    ServiceCard.objects.filter(pk=our_agent.card.pk).update(failed_attempts=3, locked_at=business_clock_now())
    card_unlock(card=our_agent.card, actor="clerk01")
    card = ServiceCard.objects.get(pk=our_agent.card.pk)
    assert (card.failed_attempts, card.locked_at) == (0, None)
    assert card_authenticate(number=our_agent.card_number, pin=CARD_PIN).pk == card.pk
    assert AuditEvent.objects.filter(action="card_unlock", actor="clerk01").count() == 1


def test_pin_set_changes_the_pin(our_agent, business_clock):
    card_pin_set(card=our_agent.card, pin="975310")
    with pytest.raises(CardLoginError):
        card_authenticate(number=our_agent.card_number, pin=CARD_PIN)
    assert card_authenticate(number=our_agent.card_number, pin="975310").pk == our_agent.card.pk
    with pytest.raises(CardPinInvalid):
        card_pin_set(card=our_agent.card, pin="12")


def test_a_withdrawn_card_is_as_unknown(our_agent, business_clock):
    ServiceCard.objects.filter(pk=our_agent.card.pk).update(status=CardStatus.WITHDRAWN)
    with pytest.raises(CardLoginError) as exc:
        card_authenticate(number=our_agent.card_number, pin=CARD_PIN)
    assert type(exc.value) is CardLoginError


def test_the_pin_never_reaches_a_log_or_the_audit_trail(our_agent, business_clock, caplog):
    caplog.set_level(logging.DEBUG)
    for pin in ("918273", CARD_PIN):
        with contextlib.suppress(CardLoginError):
            card_authenticate(number=our_agent.card_number, pin=pin)
    card_pin_set(card=our_agent.card, pin="564738")
    assert not any(p in caplog.text for p in ("918273", "564738", CARD_PIN))
    details = " ".join(str(e.detail) + e.actor for e in AuditEvent.objects.all())
    assert not any(p in details for p in ("918273", "564738", CARD_PIN, our_agent.card_number))


def business_clock_now():
    from apps.core import clock

    return clock.now()
