"""The first half of every validating step, written once: read the kept upload, open it
(signed_file_open), load it with the kind's loader counting into one ErrorTally, check that its
header names the agreement. A refusal here is recorded (invalid, report kept) and the step ends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models

from apps.core.files import private_path
from apps.intake.errors import FileRefused
from apps.intake.opening import agreement_header_require, exchange_call, signed_file_open
from apps.intake.reports import ErrorTally, intake_refuse
from apps.intake.uploads import UPLOADS
from apps.intake.work import Work

# A kind that a slot also opens (payroll_exchange.envelope.ALSO_OPENS, e.g. pain001 in the payroll
# slot) has its own loader, made for the record (its agreement) by what the owning app registers.
_ALSO_LOADERS: dict[str, Callable[[models.Model], Callable[..., Any]]] = {}


def signed_loader_register(kind: str, make_loader: Callable[[models.Model], Callable[..., Any]]) -> None:
    _ALSO_LOADERS[kind] = make_loader


@dataclass
class LoadedFile:
    parsed: Any  # the kind's file: .header (agreement_no, payer_unit_no, …) and .rows
    payload: bytes
    tally: ErrorTally  # the loader's errors so far; the kind's checks add to it
    identity: dict[str, str]  # digest and file id, recorded with any outcome from here on
    kind: str = ""  # the envelope's kind (another than asked for when the slot also opens it)


def signed_file_load(*, work: Work, record: models.Model, envelope_kind: str, loader: Callable[..., Any],
                     now: datetime) -> LoadedFile | None:
    """Open and load ``record``'s upload; None when the file was refused (already recorded)."""
    data = private_path(UPLOADS, record.stored_name).read_bytes()
    opened = signed_file_open(data=data, agreement=record.agreement, kind=envelope_kind, now=now)
    del data
    identity = {"digest": opened.digest, "file_id": opened.file_id}
    tally = ErrorTally()
    if opened.kind != envelope_kind:
        loader = _ALSO_LOADERS[opened.kind](record)
    try:
        # The loader counts into the tally while it parses: never every error in memory.
        parsed, _tally = exchange_call(loader, opened.payload, errors=tally)
        agreement_header_require(agreement=record.agreement, agreement_no=parsed.header.agreement_no,
                                 payer_unit_no=parsed.header.payer_unit_no)
    except FileRefused as exc:
        intake_refuse(kind=work.kind, pk=work.pk, tally=ErrorTally.of(exc.as_row_errors()), **identity)
        return None
    return LoadedFile(parsed=parsed, payload=opened.payload, tally=tally, identity=identity, kind=opened.kind)
