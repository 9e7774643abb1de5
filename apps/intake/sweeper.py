"""The sweeper (beat, every INTAKE_SWEEP_SECONDS, and once when a worker starts): a record in a
working state whose heartbeat is older than INTAKE_STALE_SECONDS is requeued, or, once its
attempts are spent, goes to error. It never works a file itself."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Now

from apps.intake.kinds import file_kinds
from apps.intake.queue import intake_enqueue_on_commit
from apps.intake.work import STALE_REASON, intake_give_up, stale_after


def intake_sweep() -> list[tuple[str, int]]:
    """Requeue (or give up on) every stale record of every kind; return what was requeued."""
    requeued = []
    for kind in file_kinds():
        is_stale = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=Now() - stale_after())
        stale = kind.model.objects.filter(is_stale, status__in=list(kind.steps)).values_list(
            "pk", "status", "attempts", "system_error")
        for pk, status, attempts, system_error in stale:
            if attempts >= settings.INTAKE_MAX_ATTEMPTS:
                intake_give_up(kind=kind, pk=pk, status=status,
                               reason=system_error or STALE_REASON.format(seconds=settings.INTAKE_STALE_SECONDS))
                continue
            # Conditional on still being stale: two sweepers never requeue one record twice in a
            # round (the first renews the heartbeat), and a worker that beat meanwhile keeps its claim.
            claimed = kind.model.objects.filter(is_stale, pk=pk, status=status).update(claim_token="",
                                                                                       heartbeat_at=Now())
            if claimed:
                requeued.append((kind.name, pk))
                if intake_enqueue_on_commit(kind=kind.name, pk=pk).ok is False:
                    # The broker is down (each refused publish takes ~2 s): the rest stay stale
                    # and the next round tries again.
                    return requeued
    return requeued
