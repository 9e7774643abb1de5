"""Writing the files the user takes away: all of them or none.

A payroll file without its checklist (or the other way round) would send the agent to the bank
with papers that do not match, so every output of one job is written to a temporary name first
and renamed only when all were written; an existing file is never overwritten.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from payroll_exchange.errors import ExchangeError

_UNSAFE = re.compile(r"[^0-9A-Za-z._-]+")


def name_part(text: str) -> str:
    """A batch or agreement number as a safe piece of a file name."""
    return _UNSAFE.sub("_", text).strip("._") or "x"


def outputs_write(*, out_dir: Path, files: dict[str, bytes]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = [out_dir / name for name in files]
    existing = [str(t) for t in targets if t.exists()]
    if existing:
        raise ExchangeError("output_exists", f"文件已存在, 未写入任何文件: {', '.join(existing)}",
                            f"file already exists; nothing was written: {', '.join(existing)}")
    temps: list[Path] = []
    linked: list[Path] = []
    try:
        for target, data in zip(targets, files.values(), strict=True):
            temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            temps.append(temp)
            with open(temp, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for temp, target in zip(temps, targets, strict=True):
            # link + unlink instead of rename: link fails if the name appeared meanwhile.
            os.link(temp, target)
            linked.append(target)
        for temp in temps:
            temp.unlink()
    except BaseException:
        for path in linked:
            path.unlink(missing_ok=True)
        for temp in temps:
            temp.unlink(missing_ok=True)
        raise
    return targets
