"""The one guarded transition every state machine of the platform uses (payroll batches, employee
files, 批量开户 requests): a conditional UPDATE guarded by the states an action may start from,
so two racing callers cannot both succeed and a rerun changes nothing."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.functions import Now

from apps.intake.errors import StateError

# action: (from states, to state)
Transitions = dict[str, tuple[tuple[str, ...], str]]


def pipeline_transitions(*, validating: str, storing: str, error: str) -> Transitions:
    """The transitions the pipeline itself makes on every file kind that works in the background:
    give up after the attempts cap (系统处理失败), and staff's retry back to the state it failed in."""
    return {
        "give_up": ((validating, storing), error),
        "retry_validating": ((error,), validating),
        "retry_storing": ((error,), storing),
    }


def state_transition(*, model: type[models.Model], transitions: Transitions, pk: int, action: str,
                     **fields: Any) -> None:
    """Move one row along ``action`` with one conditional UPDATE; raise StateError if it is not
    in a start state."""
    allowed_from, to_status = transitions[action]
    if any(f.name == "status_changed_at" for f in model._meta.concrete_fields):
        fields.setdefault("status_changed_at", Now())
    updated = model.objects.filter(pk=pk, status__in=allowed_from).update(status=to_status, **fields)
    if updated != 1:
        actual = model.objects.filter(pk=pk).values_list("status", flat=True).first()
        raise StateError(pk=pk, action=action, allowed_from=allowed_from, actual=actual)


def allowed_actions(*, transitions: Transitions, status: str) -> list[str]:
    return [action for action, (sources, _target) in transitions.items() if status in sources]
