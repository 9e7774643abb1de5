"""Financial service cards (金融服务卡): issue, PIN, unlock, 挂失 / 注销 / 补发 — and the kiosk login.

Number hashing lives in ``apps.cards.numbers``, the login in ``apps.cards.login`` (re-exported
here: callers know one services module). Every back-office change is audited with the staff
user as the actor; a refused change raises CardStateError and changes nothing.
"""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db import transaction

from apps.agreements.models import Company
from apps.cards.errors import CardNumberInvalid, CardStateError
from apps.cards.login import MAX_FAILED_ATTEMPTS, card_actor, card_authenticate
from apps.cards.models import CardStatus, ServiceCard
from apps.cards.numbers import card_number_hash, card_number_normalize, pin_check_format
from apps.core import clock
from apps.core.services import audit_record

__all__ = [
    "MAX_FAILED_ATTEMPTS", "card_actor", "card_authenticate", "card_block", "card_issue", "card_number_hash",
    "card_number_normalize", "card_pin_set", "card_replace", "card_unblock", "card_unlock", "card_withdraw",
]

REASON_MAX = 200


def card_issue(*, company: Company, number: str, pin: str, actor: str = "bank",
               replaces: ServiceCard | None = None) -> ServiceCard:
    pan = card_number_normalize(number)
    if pan is None:
        raise CardNumberInvalid("not a card number")
    pin_check_format(pin)
    card = ServiceCard.objects.create(
        company=company, number_hash=card_number_hash(pan), last4=pan[-4:], pin_hash=make_password(pin),
        replaces=replaces,
    )
    audit_record(actor_kind="staff", actor=actor, action="card_issue", obj=card, company_id=company.pk,
                 detail={"replaces": replaces.pk} if replaces is not None else None)
    return card


def _not_withdrawn(card: ServiceCard) -> None:
    if ServiceCard.objects.filter(pk=card.pk, status=CardStatus.WITHDRAWN).exists():
        raise CardStateError(*_REFUSED[CardStatus.WITHDRAWN])


def card_pin_set(*, card: ServiceCard, pin: str, actor: str = "bank") -> None:
    """Set a new PIN (bank staff reset). Also clears the failure counter, not the lock."""
    pin_check_format(pin)
    _not_withdrawn(card)
    ServiceCard.objects.filter(pk=card.pk).update(pin_hash=make_password(pin), failed_attempts=0)
    card.refresh_from_db(fields=["pin_hash", "failed_attempts"])
    # The PIN never reaches the audit log or any logger.
    audit_record(actor_kind="staff", actor=actor, action="card_pin_set", obj=card, company_id=card.company_id)


def card_unlock(*, card: ServiceCard, actor: str = "bank") -> None:
    _not_withdrawn(card)
    ServiceCard.objects.filter(pk=card.pk).update(locked_at=None, failed_attempts=0)
    card.refresh_from_db(fields=["locked_at", "failed_attempts"])
    audit_record(actor_kind="staff", actor=actor, action="card_unlock", obj=card, company_id=card.company_id)


def _reason_require(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise CardStateError("请填写原因。", "Please give a reason.")
    if len(text) > REASON_MAX:
        raise CardStateError(f"原因最多 {REASON_MAX} 个字。", f"The reason may have at most {REASON_MAX} characters.")
    return text


_REFUSED = {
    CardStatus.BLOCKED: ("此卡已挂失。", "This card is already blocked."),
    CardStatus.WITHDRAWN: ("此卡已注销，不能再变更；如需用卡请补发新卡。",
                           "This card is withdrawn and cannot change any more; issue a replacement instead."),
}


def _status_move(*, card: ServiceCard, to: str, allowed_from: tuple[str, ...], reason: str, actor: str,
                 action: str, note: str = "") -> None:
    """One guarded transition: a conditional UPDATE from the allowed states, audited; a card that
    is not (or no longer) in one of them raises CardStateError and nothing changes."""
    text = note + _reason_require(reason)
    moved = ServiceCard.objects.filter(pk=card.pk, status__in=allowed_from).update(
        status=to, status_reason=text, status_changed_at=clock.now()
    )
    if moved != 1:
        card.refresh_from_db(fields=["status"])
        zh, en = _REFUSED.get(card.status, ("此卡当前状态不允许此操作。", "The card's state does not allow this."))
        if card.status == CardStatus.ACTIVE:
            zh, en = "此卡未挂失。", "This card is not blocked."
        raise CardStateError(zh, en)
    card.refresh_from_db(fields=["status", "status_reason", "status_changed_at"])
    audit_record(actor_kind="staff", actor=actor, action=action, obj=card, company_id=card.company_id,
                 detail={"reason": text})


def card_block(*, card: ServiceCard, reason: str, actor: str) -> None:
    """挂失: the card stops working at once; at the kiosk it answers exactly like an unknown number."""
    _status_move(card=card, to=CardStatus.BLOCKED, allowed_from=(CardStatus.ACTIVE,), reason=reason, actor=actor,
                 action="card_block")


def card_unblock(*, card: ServiceCard, reason: str, actor: str) -> None:
    """解除挂失: a blocked card that was found works again (its PIN and lock are as they were)."""
    _status_move(card=card, to=CardStatus.ACTIVE, allowed_from=(CardStatus.BLOCKED,), reason=reason, actor=actor,
                 action="card_unblock")


def card_withdraw(*, card: ServiceCard, reason: str, actor: str, note: str = "") -> None:
    """注销: for good. The batches and files the card submitted stay as they are."""
    _status_move(card=card, to=CardStatus.WITHDRAWN, allowed_from=(CardStatus.ACTIVE, CardStatus.BLOCKED),
                 reason=reason, actor=actor, action="card_withdraw", note=note)


@transaction.atomic
def card_replace(*, card: ServiceCard, number: str, pin: str, reason: str, actor: str) -> ServiceCard:
    """补发: a new card (new number, new PIN) for the same company; the old card is withdrawn.
    Refused, with nothing changed, for a card already withdrawn or a number already issued."""
    _reason_require(reason)
    pan = card_number_normalize(number)
    if pan is None:
        raise CardNumberInvalid("not a card number")
    pin_check_format(pin)
    if ServiceCard.objects.filter(number_hash=card_number_hash(pan)).exists():
        raise CardStateError("此卡号已发行。", "This card number has already been issued.")
    card_withdraw(card=card, reason=reason, actor=actor, note=f"补发新卡 ****{pan[-4:]}：")
    return card_issue(company=card.company, number=pan, pin=pin, actor=actor, replaces=card)
