"""Who acts on a file: the kiosk's service card or, through the host-to-host API, the enterprise
certificate bound to the agreement. The services take one Actor, so both doors share one
guard, one audit row and one record (``card`` or ``certificate`` on the file's row)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from apps.core.hours import service_hours_require

if TYPE_CHECKING:
    from apps.agreements.models import Certificate
    from apps.cards.models import ServiceCard


@dataclass(frozen=True)
class Actor:
    kind: str  # AuditEvent.actor_kind
    name: str  # AuditEvent.actor: never a card number
    company_id: int
    card: ServiceCard | None = None
    certificate: Certificate | None = None

    def hours_require(self) -> None:
        """Service hours bind the kiosk only; the API keeps the pay-date window alone."""
        if self.card is not None:
            service_hours_require()


def actor_of(*, card: ServiceCard | None = None, actor: Actor | None = None) -> Actor:
    """The kiosk passes its card, the API an Actor made by ``certificate_actor``."""
    if actor is not None:
        return actor
    if card is None:
        raise TypeError("card or actor is required")
    from apps.cards.login import card_actor

    return Actor(kind="card", name=card_actor(card), company_id=card.company_id, card=card)


def certificate_actor(certificate: Certificate) -> Actor:
    return Actor(kind="cert", name=f"cert#{certificate.pk}", company_id=certificate.company_id,
                 certificate=certificate)
