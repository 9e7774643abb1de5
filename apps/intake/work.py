"""One worker does the work, and nothing loops (docs/platform-contract.md, "Intake pipeline").

A task claims its record with a conditional UPDATE (claim token, heartbeat, attempts + 1) before
any work; a duplicate delivery finds the claim held and returns at once. The step's progress
renews the heartbeat. A refusal of the file (FileRefused, or a core ExchangeError) makes it
invalid at once. Any other exception, and a claim whose heartbeat went stale (the worker died or
lost its connection), counts as an attempt; after INTAKE_MAX_ATTEMPTS the record goes to ``error``
(系统处理失败) with the reason kept for staff.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import F, Q
from django.db.models.functions import Now

from apps.core.services import audit_record
from apps.intake.errors import FileRefused, StateError
from apps.intake.kinds import FileKind, file_kind
from apps.intake.reports import ErrorTally, intake_refuse
from payroll_exchange.errors import ExchangeError

logger = logging.getLogger(__name__)

DONE, DUPLICATE, NOTHING, FAILED, LOST, GAVE_UP = "done", "duplicate", "nothing", "failed", "lost", "gave_up"
STALE_REASON = "ClaimStale: no heartbeat for {seconds} s (the worker stopped or lost its database connection)"


class ClaimLost(Exception):  # noqa: N818 — not an error of the file: another worker owns it now
    pass


def stale_after() -> timedelta:
    return timedelta(seconds=settings.INTAKE_STALE_SECONDS)


def claim_free_or_stale() -> Q:
    return Q(claim_token="") | Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=Now() - stale_after())


@dataclass(frozen=True)
class Work:
    """The claimed record a step works on."""

    kind: FileKind
    pk: int
    token: str
    status: str

    def progress(self, **fields: Any) -> None:
        """Renew the heartbeat (and record progress); raise ClaimLost if the claim was taken over."""
        if not self.kind.model.objects.filter(pk=self.pk, claim_token=self.token).update(heartbeat_at=Now(),
                                                                                          **fields):
            raise ClaimLost(f"{self.kind.name} {self.pk}: claim {self.token} taken over")


def _reason(exc: BaseException) -> str:
    # Class and message only: no traceback, no locals (they could hold file content or keys).
    return f"{type(exc).__name__}: {exc}"[:500]


def intake_give_up(*, kind: FileKind, pk: int, status: str, reason: str) -> bool:
    """→ error (系统处理失败): frees the batch number and digest like invalid; kept for staff."""
    try:
        kind.transition(pk=pk, action="give_up", system_error=reason[:500], error_from=status, claim_token="")
    except StateError:
        return False
    record = kind.model.objects.get(pk=pk)
    logger.error("intake: %s %s failed %s times in %s, now error: %s", kind.name, pk, record.attempts, status,
                 reason)
    audit_record(actor_kind="system", actor="intake", action=f"{kind.name}_error", obj=record,
                 company_id=record.company_id, detail={"from": status, "attempts": record.attempts,
                                                       "reason": reason[:500]})
    return True


def _connections_reset() -> None:
    # After a killed database connection the ORM raises until the broken connection is dropped.
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


def intake_work_run(*, kind: str, pk: int, status: str | None = None) -> str:
    """Run the step of the record's current working state (or only ``status``'s), once."""
    file = file_kind(kind)
    model = file.model
    current = model.objects.filter(pk=pk).values_list("status", flat=True).first()
    if current is None or current not in file.steps or (status is not None and current != status):
        return NOTHING
    token = uuid.uuid4().hex
    claimed = model.objects.filter(claim_free_or_stale(), pk=pk, status=current,
                                   attempts__lt=settings.INTAKE_MAX_ATTEMPTS).update(
        claim_token=token, heartbeat_at=Now(), attempts=F("attempts") + 1)
    if not claimed:
        exhausted = model.objects.filter(claim_free_or_stale(), pk=pk, status=current,
                                         attempts__gte=settings.INTAKE_MAX_ATTEMPTS).values_list(
            "system_error", flat=True).first()
        if exhausted is not None:
            intake_give_up(kind=file, pk=pk, status=current,
                           reason=exhausted or STALE_REASON.format(seconds=settings.INTAKE_STALE_SECONDS))
            return GAVE_UP
        return DUPLICATE
    work = Work(kind=file, pk=pk, token=token, status=current)
    try:
        outcome = file.steps[current](work)
    except ClaimLost:
        return LOST
    except (FileRefused, ExchangeError) as exc:
        refused = exc if isinstance(exc, FileRefused) else FileRefused.from_exchange(exc)
        if current in file.transitions["refuse"][0]:
            intake_refuse(kind=file, pk=pk, tally=ErrorTally.of(refused.as_row_errors()))
            model.objects.filter(pk=pk, claim_token=token).update(claim_token="", attempts=0)
            return DONE
        return _attempt_failed(work=work, exc=exc)
    except Exception as exc:  # noqa: BLE001 — every other exception is a recorded attempt, never a loop
        return _attempt_failed(work=work, exc=exc)
    model.objects.filter(pk=pk, claim_token=token).update(claim_token="", attempts=0, system_error="")
    return DONE if outcome is not False else NOTHING


def _attempt_failed(*, work: Work, exc: Exception) -> str:
    _connections_reset()
    model = work.kind.model
    row = model.objects.filter(pk=work.pk).values("claim_token", "attempts").first()
    if row is None or row["claim_token"] != work.token:
        logger.info("intake: %s %s: %s after its claim was taken over", work.kind.name, work.pk, _reason(exc))
        return LOST
    reason = _reason(exc)
    logger.warning("intake: %s %s attempt %s in %s failed: %s", work.kind.name, work.pk, row["attempts"],
                   work.status, reason, exc_info=exc)
    if row["attempts"] >= settings.INTAKE_MAX_ATTEMPTS:
        intake_give_up(kind=work.kind, pk=work.pk, status=work.status, reason=reason)
        return GAVE_UP
    # Released with a heartbeat already stale: the next sweep requeues it (within INTAKE_SWEEP_SECONDS).
    model.objects.filter(pk=work.pk, claim_token=work.token).update(
        claim_token="", system_error=reason, heartbeat_at=Now() - stale_after() - timedelta(seconds=1))
    return FAILED
