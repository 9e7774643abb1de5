"""The business clock: the one answer to "what time is it" for business decisions.

Service hours, pay-date windows and the day a job works on all ask ``business_now()``.
Test and demo processes pin it through the environment variable ``BUSINESS_CLOCK`` so that
the web server, the worker, beat and the client all agree:

* unset or empty: the real time;
* an ISO 8601 instant with an offset (``2026-11-26T10:00:00+08:00``): frozen at that instant;
* ``file:/path``: the instant written in that file, re-read on each call, so a running demo can
  be moved forward (``manage.py clock_set``) without restarting its processes.

Production settings refuse any override (a deploy check); this module only reads it.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ENV_VAR = "BUSINESS_CLOCK"
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


class ClockConfigError(ValueError):
    pass


def _parse_instant(text: str, source: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ClockConfigError(f"{source}: not an ISO 8601 instant: {text!r}") from exc
    if value.tzinfo is None:
        raise ClockConfigError(f"{source}: the instant needs a UTC offset, e.g. +08:00: {text!r}")
    return value


def clock_override() -> str:
    return os.environ.get(ENV_VAR, "").strip()


def clock_is_pinned() -> bool:
    return bool(clock_override())


def clock_file() -> Path | None:
    spec = clock_override()
    return Path(spec.removeprefix("file:")) if spec.startswith("file:") else None


def business_now() -> datetime:
    """The current business instant, aware, in Asia/Shanghai."""
    spec = clock_override()
    if not spec:
        return datetime.now(tz=BUSINESS_TZ)
    path = clock_file()
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ClockConfigError(f"{ENV_VAR} names {path}, which cannot be read: {exc}") from exc
        return _parse_instant(text, str(path)).astimezone(BUSINESS_TZ)
    return _parse_instant(spec, ENV_VAR).astimezone(BUSINESS_TZ)


def business_today() -> date:
    return business_now().date()


def clock_write(path: Path, instant: datetime) -> None:
    """Move a file-backed clock: write atomically so a reader never sees half a line."""
    if instant.tzinfo is None:
        raise ClockConfigError("the instant needs a time zone")
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(instant.astimezone(BUSINESS_TZ).isoformat(), encoding="utf-8")
    tmp.replace(path)
