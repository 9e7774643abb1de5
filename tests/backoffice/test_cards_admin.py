"""Service cards in the admin: issue, set or reset the PIN, unlock — the PIN never shown or logged."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import Permission

from apps.cards.errors import CardLockedError, CardLoginError
from apps.cards.models import ServiceCard
from apps.cards.services import card_authenticate
from apps.core.models import AuditEvent
from tests.backoffice.conftest import client_for, staff_user
from tests.factories import CARD_PIN, unionpay_account

pytestmark = pytest.mark.django_db

CARDS = "/admin/cards/servicecard/"
NEW_NUMBER = unionpay_account(777001)


@pytest.fixture
def counter(django_user_model):
    user = staff_user(django_user_model, "counter-sun")
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="cards", codename__in=["add_servicecard", "view_servicecard", "change_servicecard"]))
    return client_for(user)


def lock(party) -> None:
    for _ in range(3):
        with pytest.raises(CardLoginError):
            card_authenticate(number=party.card_number, pin="000000")
    assert ServiceCard.objects.get(pk=party.card.pk).locked_at is not None


def test_issue_a_card_with_the_pin_typed_twice(business_clock, our_agent, counter, caplog):
    caplog.set_level(logging.DEBUG)
    mismatch = counter.post(f"{CARDS}add/", {"company": our_agent.company.pk, "number": NEW_NUMBER,
                                             "pin1": "135790", "pin2": "135791"})
    assert mismatch.status_code == 200
    assert "两次输入的密码不一致" in mismatch.content.decode()
    bad_pin = counter.post(f"{CARDS}add/", {"company": our_agent.company.pk, "number": NEW_NUMBER,
                                            "pin1": "13579a", "pin2": "13579a"})
    assert "服务卡密码为 6 位数字" in bad_pin.content.decode()
    taken = counter.post(f"{CARDS}add/", {"company": our_agent.company.pk, "number": our_agent.card_number,
                                          "pin1": "135790", "pin2": "135790"})
    assert "此卡号已发行" in taken.content.decode()
    assert ServiceCard.objects.count() == 1
    for page in (mismatch, bad_pin, taken):
        assert "135790" not in page.content.decode()
        assert "13579a" not in page.content.decode()

    done = counter.post(f"{CARDS}add/", {"company": our_agent.company.pk, "number": f";{NEW_NUMBER}=4912?",
                                         "pin1": "135790", "pin2": "135790"})

    assert done.status_code == 302
    card = ServiceCard.objects.exclude(pk=our_agent.card.pk).get()
    assert card.company == our_agent.company
    assert card_authenticate(number=NEW_NUMBER, pin="135790").pk == card.pk
    assert AuditEvent.objects.get(action="card_issue", object_id=str(card.pk)).actor == "counter-sun"
    listing = counter.get(CARDS).content.decode()
    assert f"**** **** **** {NEW_NUMBER[-4:]}" in listing
    assert NEW_NUMBER not in listing
    every_audit = str(list(AuditEvent.objects.values_list("detail", flat=True)))
    assert "135790" not in every_audit
    assert "135790" not in caplog.text


def test_reset_the_pin(business_clock, our_agent, counter):
    url = f"{CARDS}{our_agent.card.pk}/pin/"
    assert counter.get(url).status_code == 200
    refused = counter.post(url, {"pin1": "112233", "pin2": "445566"})
    assert refused.status_code == 200
    assert card_authenticate(number=our_agent.card_number, pin=CARD_PIN).pk == our_agent.card.pk

    done = counter.post(url, {"pin1": "112233", "pin2": "112233"})

    assert done.status_code == 302
    assert card_authenticate(number=our_agent.card_number, pin="112233").pk == our_agent.card.pk
    with pytest.raises(CardLoginError):
        card_authenticate(number=our_agent.card_number, pin=CARD_PIN)
    assert AuditEvent.objects.filter(action="card_pin_set", actor="counter-sun").count() == 1


def test_unlock_from_the_card_page(business_clock, our_agent, counter):
    lock(our_agent)
    url = f"{CARDS}{our_agent.card.pk}/unlock/"
    confirm_page = counter.get(url)
    assert confirm_page.status_code == 200
    assert ServiceCard.objects.get(pk=our_agent.card.pk).locked_at is not None  # GET only asks

    assert counter.post(url).status_code == 302

    card = ServiceCard.objects.get(pk=our_agent.card.pk)
    assert (card.locked_at, card.failed_attempts) == (None, 0)
    assert card_authenticate(number=our_agent.card_number, pin=CARD_PIN).pk == card.pk


def test_unlock_action_and_locked_filter(business_clock, our_agent, other_agent, counter):
    lock(our_agent)
    locked = counter.get(CARDS, {"locked": "yes"})
    assert [c.pk for c in locked.context["cl"].result_list] == [our_agent.card.pk]

    counter.post(CARDS, {"action": "unlock_selected", "_selected_action": [our_agent.card.pk, other_agent.card.pk],
                         "index": 0})

    assert not ServiceCard.objects.filter(locked_at__isnull=False).exists()
    assert AuditEvent.objects.filter(action="card_unlock").count() == 1  # only the locked one


def test_card_fields_are_never_editable(business_clock, our_agent, counter):
    page = counter.get(f"{CARDS}{our_agent.card.pk}/change/").content.decode()
    for field in ("pin_hash", "number_hash", "failed_attempts", "locked_at", "company"):
        assert f'name="{field}"' not in page
    assert our_agent.card.pin_hash not in page
    assert our_agent.card.number_hash not in page
    assert counter.post(f"{CARDS}{our_agent.card.pk}/change/", {"active": ""}).status_code == 403


def test_staff_without_card_permissions_cannot_issue_reset_or_unlock(business_clock, our_agent, bank_staff,
                                                                       django_user_model):
    lock(our_agent)
    viewer_user = staff_user(django_user_model, "viewer-he")
    viewer_user.user_permissions.add(Permission.objects.get(codename="view_servicecard"))
    for client in (client_for(bank_staff), client_for(viewer_user)):
        assert client.post(f"{CARDS}add/", {"company": our_agent.company.pk, "number": NEW_NUMBER,
                                            "pin1": "135790", "pin2": "135790"}).status_code == 403
        assert client.post(f"{CARDS}{our_agent.card.pk}/pin/", {"pin1": "112233", "pin2": "112233"}).status_code \
            == 403
        assert client.post(f"{CARDS}{our_agent.card.pk}/unlock/").status_code == 403
        client.post(CARDS, {"action": "unlock_selected", "_selected_action": [our_agent.card.pk], "index": 0})
    assert client_for(bank_staff).get(CARDS).status_code == 403
    assert ServiceCard.objects.count() == 1  # nothing issued
    with pytest.raises(CardLockedError):
        card_authenticate(number=our_agent.card_number, pin=CARD_PIN)
