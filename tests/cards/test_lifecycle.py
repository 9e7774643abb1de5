"""A lost or withdrawn card in the back office: 挂失 (block), 解除挂失, 注销 (withdraw), 补发 (replace).

Each change has a reason and an audit event with the staff user; each refusal raises and changes
nothing (card rows, audit log); the batches and files a card submitted stay as they were and are
listed on its admin page.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apps.cards.errors import CardLoginError, CardNumberInvalid, CardPinInvalid, CardStateError
from apps.cards.models import CardStatus, ServiceCard
from apps.cards.services import (
    card_authenticate,
    card_block,
    card_pin_set,
    card_replace,
    card_unblock,
    card_unlock,
    card_withdraw,
)
from apps.core.models import AuditEvent
from payroll_exchange.clock import BUSINESS_TZ
from tests.factories import CARD_PIN, unionpay_account

CARDS = "/admin/cards/servicecard/"
NEW_NUMBER = unionpay_account(778001)


@pytest.fixture(autouse=True)
def _clock(business_clock):
    return business_clock


def snapshot() -> tuple:
    """Everything a refused card action must leave as it was."""
    cards = list(ServiceCard.objects.order_by("pk").values_list(
        "pk", "status", "status_reason", "status_changed_at", "replaces", "pin_hash", "failed_attempts", "locked_at"))
    return cards, AuditEvent.objects.count()


@pytest.fixture
def batch(our_agent):
    """A payroll batch our card submitted (as the kiosk records one)."""
    from apps.payroll.models import BatchStatus, PayrollBatch

    return PayrollBatch.objects.create(
        company=our_agent.company, agreement=our_agent.agreement, card=our_agent.card, status=BatchStatus.STORED,
        uploaded_at=datetime(2026, 12, 1, 10, 0, tzinfo=BUSINESS_TZ), upload_date=date(2026, 12, 1),
        original_name="11月工资.p7m", stored_name="lifecycle-test-batch", size=1234, batch_no="B20261130",
        pay_date=date(2026, 12, 5),
    )


@pytest.fixture
def counter(django_user_model) -> Client:
    user = django_user_model.objects.create_user("counter-qian", password="counter-qian-pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="cards", codename__in=["add_servicecard", "view_servicecard", "change_servicecard"]))
    client = Client()
    client.force_login(user)
    return client


# --- services -------------------------------------------------------------------------------


def test_block_stops_the_card_and_is_audited_with_the_reason(our_agent, batch):
    card_block(card=our_agent.card, reason="企业代理人报失", actor="clerk01")
    card = ServiceCard.objects.get(pk=our_agent.card.pk)
    assert (card.status, card.status_reason) == (CardStatus.BLOCKED, "企业代理人报失")
    assert card.status_changed_at is not None
    event = AuditEvent.objects.get(action="card_block")
    assert (event.actor, event.object_id, event.detail) == ("clerk01", str(card.pk), {"reason": "企业代理人报失"})
    with pytest.raises(CardLoginError) as refused:
        card_authenticate(number=our_agent.card_number, pin=CARD_PIN)
    assert type(refused.value) is CardLoginError  # as an unknown number: no word of a block
    batch.refresh_from_db()
    assert batch.status == "stored"
    assert batch.card_id == card.pk


def test_a_session_open_on_the_card_ends_when_it_is_blocked(our_agent):
    from tests.kiosk.conftest import login

    our_client = Client()
    assert login(our_client, our_agent).status_code == 302
    assert our_client.get("/home/").status_code == 200
    card_block(card=our_agent.card, reason="报失", actor="clerk01")
    assert our_client.get("/home/")["Location"] == "/"


@pytest.mark.parametrize("reason", ["", "   ", "长" * 201])
def test_a_change_without_a_usable_reason_is_refused_and_changes_nothing(our_agent, reason):
    before = snapshot()
    for service in (card_block, card_withdraw):
        with pytest.raises(CardStateError):
            service(card=our_agent.card, reason=reason, actor="clerk01")
    with pytest.raises(CardStateError):
        card_replace(card=our_agent.card, number=NEW_NUMBER, pin="135790", reason=reason, actor="clerk01")
    assert snapshot() == before


def test_block_twice_and_unblock_an_active_card_are_refused(our_agent):
    card_block(card=our_agent.card, reason="报失", actor="clerk01")
    before = snapshot()
    with pytest.raises(CardStateError) as twice:
        card_block(card=our_agent.card, reason="再次报失", actor="clerk01")
    assert twice.value.zh == "此卡已挂失。"
    assert snapshot() == before

    card_unblock(card=our_agent.card, reason="卡片已找回", actor="clerk01")
    assert ServiceCard.objects.get(pk=our_agent.card.pk).status == CardStatus.ACTIVE
    assert card_authenticate(number=our_agent.card_number, pin=CARD_PIN).pk == our_agent.card.pk
    before = snapshot()
    with pytest.raises(CardStateError) as active:
        card_unblock(card=our_agent.card, reason="?", actor="clerk01")
    assert active.value.zh == "此卡未挂失。"
    assert snapshot() == before


@pytest.mark.parametrize("first", [None, card_block])
def test_withdraw_is_for_good(our_agent, batch, first):
    if first is not None:
        first(card=our_agent.card, reason="报失", actor="clerk01")
    card_withdraw(card=our_agent.card, reason="企业解约", actor="clerk02")
    assert ServiceCard.objects.get(pk=our_agent.card.pk).status == CardStatus.WITHDRAWN
    assert AuditEvent.objects.get(action="card_withdraw").actor == "clerk02"
    before = snapshot()
    for service in (card_block, card_unblock, card_withdraw):
        with pytest.raises(CardStateError) as refused:
            service(card=our_agent.card, reason="再试", actor="clerk01")
        assert "已注销" in refused.value.zh or "未挂失" in refused.value.zh
    with pytest.raises(CardStateError):
        card_replace(card=our_agent.card, number=NEW_NUMBER, pin="135790", reason="补卡", actor="clerk01")
    with pytest.raises(CardStateError):
        card_pin_set(card=our_agent.card, pin="135790", actor="clerk01")
    with pytest.raises(CardStateError):
        card_unlock(card=our_agent.card, actor="clerk01")
    assert snapshot() == before
    batch.refresh_from_db()
    assert batch.status == "stored"


@pytest.mark.parametrize("first", [None, card_block])
def test_replace_issues_a_new_card_for_the_same_company_and_withdraws_the_old(our_agent, other_agent, batch, first):
    if first is not None:
        first(card=our_agent.card, reason="遗失", actor="clerk01")
    new = card_replace(card=our_agent.card, number=f";{NEW_NUMBER}=2812?", pin="135790", reason="遗失补卡",
                       actor="clerk01")
    old = ServiceCard.objects.get(pk=our_agent.card.pk)
    assert old.status == CardStatus.WITHDRAWN
    assert old.status_reason == f"补发新卡 ****{NEW_NUMBER[-4:]}：遗失补卡"
    assert (new.company_id, new.replaces_id, new.status, new.last4) == (
        our_agent.company.pk, old.pk, CardStatus.ACTIVE, NEW_NUMBER[-4:])
    assert old.replaced_by == new
    # The new number and PIN log in; the old number answers like an unknown one.
    assert card_authenticate(number=NEW_NUMBER, pin="135790").pk == new.pk
    with pytest.raises(CardLoginError) as refused:
        card_authenticate(number=our_agent.card_number, pin=CARD_PIN)
    assert refused.value.remaining == 2
    issue = AuditEvent.objects.get(action="card_issue", object_id=str(new.pk))
    assert (issue.actor, issue.detail) == ("clerk01", {"replaces": old.pk})
    assert AuditEvent.objects.filter(action="card_withdraw", object_id=str(old.pk)).count() == 1
    # What the old card submitted stays the old card's.
    batch.refresh_from_db()
    assert (batch.card_id, batch.status) == (old.pk, "stored")


@pytest.mark.parametrize(
    ("number", "pin", "error"),
    [
        ("12345", "135790", CardNumberInvalid),
        (NEW_NUMBER, "13579", CardPinInvalid),
        ("other card", "135790", CardStateError),  # a number already issued (another company's card)
    ],
)
def test_a_refused_replacement_changes_nothing(our_agent, other_agent, number, pin, error):
    if number == "other card":
        number = other_agent.card_number
    before = snapshot()
    with pytest.raises(error):
        card_replace(card=our_agent.card, number=number, pin=pin, reason="遗失补卡", actor="clerk01")
    assert snapshot() == before


# --- admin ------------------------------------------------------------------------------------


def test_the_card_page_lists_what_the_card_submitted_and_offers_the_actions(our_agent, batch, counter):
    page = counter.get(f"{CARDS}{our_agent.card.pk}/change/").content.decode()
    assert "B20261130" in page
    assert f"/admin/payroll/payrollbatch/{batch.pk}/change/" in page
    for label, url in [("挂失", "block"), ("注销", "withdraw"), ("补发新卡", "replace")]:
        assert label in page
        assert f"{CARDS}{our_agent.card.pk}/{url}/" in page
    assert f"{CARDS}{our_agent.card.pk}/unblock/" not in page


def test_a_withdrawn_card_page_offers_no_action_and_its_actions_refuse(our_agent, counter):
    card_withdraw(card=our_agent.card, reason="企业解约", actor="clerk01")
    page = counter.get(f"{CARDS}{our_agent.card.pk}/change/").content.decode()
    assert "已注销：企业解约" in page
    for url in ("pin", "unlock", "block", "unblock", "withdraw", "replace"):
        assert f"{CARDS}{our_agent.card.pk}/{url}/" not in page
    before = snapshot()
    assert counter.post(f"{CARDS}{our_agent.card.pk}/unlock/").status_code == 302
    refused = counter.post(f"{CARDS}{our_agent.card.pk}/pin/", {"pin1": "135790", "pin2": "135790"})
    assert "此卡已注销" in refused.content.decode()
    assert snapshot() == before


def test_block_from_the_admin_needs_a_reason(our_agent, counter):
    url = f"{CARDS}{our_agent.card.pk}/block/"
    assert counter.get(url).status_code == 200
    before = snapshot()
    refused = counter.post(url, {"reason": "  "})
    assert refused.status_code == 200
    assert refused.context["form"].errors["reason"]
    assert snapshot() == before

    assert counter.post(url, {"reason": "代理人电话报失"}).status_code == 302
    card = ServiceCard.objects.get(pk=our_agent.card.pk)
    assert (card.status, card.status_reason) == (CardStatus.BLOCKED, "代理人电话报失")
    assert AuditEvent.objects.get(action="card_block").actor == "counter-qian"
    page = counter.get(f"{CARDS}{our_agent.card.pk}/change/").content.decode()
    assert f"{CARDS}{our_agent.card.pk}/unblock/" in page

    # 挂失 again: refused on the form, nothing changed.
    before = snapshot()
    again = counter.post(url, {"reason": "再次报失"})
    assert again.status_code == 200
    assert "此卡已挂失" in again.content.decode()
    assert snapshot() == before


def test_replace_from_the_admin(our_agent, counter, caplog):
    url = f"{CARDS}{our_agent.card.pk}/replace/"
    before = snapshot()
    mismatch = counter.post(url, {"number": NEW_NUMBER, "pin1": "135790", "pin2": "135791", "reason": "遗失"})
    assert "两次输入的密码不一致" in mismatch.content.decode()
    assert snapshot() == before

    done = counter.post(url, {"number": NEW_NUMBER, "pin1": "135790", "pin2": "135790", "reason": "遗失"})
    new = ServiceCard.objects.get(replaces=our_agent.card)
    assert done["Location"] == f"{CARDS}{new.pk}/change/"
    page = counter.get(f"{CARDS}{our_agent.card.pk}/change/").content.decode()
    assert new.masked_number in page
    assert NEW_NUMBER not in page
    assert "135790" not in page
    assert "135790" not in caplog.text
    assert "135790" not in str(list(AuditEvent.objects.values_list("detail", flat=True)))


def test_staff_without_the_card_permission_cannot_block_withdraw_or_replace(our_agent, bank_staff):
    viewer = Client()
    viewer.force_login(bank_staff)
    before = snapshot()
    for url, data in [("block", {"reason": "x"}), ("unblock", {"reason": "x"}), ("withdraw", {"reason": "x"}),
                      ("replace", {"number": NEW_NUMBER, "pin1": "135790", "pin2": "135790", "reason": "x"})]:
        assert viewer.post(f"{CARDS}{our_agent.card.pk}/{url}/", data).status_code == 403
    assert snapshot() == before
