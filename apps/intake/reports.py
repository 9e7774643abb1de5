"""Error reports, bounded: a file with 500,000 bad lines keeps its first INTAKE_ERRORS_KEPT errors
in file order, the exact total and the count per code, never all of them (issue 11, "Bounded work")."""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings

from apps.core.files import private_file_write, private_path
from apps.intake.errors import StateError
from payroll_exchange.errors import RowError

if TYPE_CHECKING:
    from apps.intake.kinds import FileKind

REPORTS = "reports"
SCREEN_ERRORS = 200  # the result screen lists this many; the report file has the kept ones


class ErrorTally:
    """Counts every error while keeping only the first ``keep`` in file order (file-level errors,
    row None, first; then by row, then in the order found)."""

    def __init__(self, keep: int | None = None) -> None:
        self.keep = settings.INTAKE_ERRORS_KEPT if keep is None else keep
        self.total = 0
        self.by_code: Counter[str] = Counter()
        self._heap: list[tuple[int, int, RowError]] = []  # (-row, -arrival, error): the largest on top

    @classmethod
    def of(cls, errors: Iterable[RowError]) -> ErrorTally:
        tally = cls()
        tally.extend(errors)
        return tally

    def add(self, error: RowError) -> None:
        self.total += 1
        self.by_code[error.code] += 1
        key = (-(error.row if error.row is not None else -1), -self.total, error)
        if len(self._heap) < self.keep:
            heapq.heappush(self._heap, key)
        elif key[:2] > self._heap[0][:2]:
            heapq.heapreplace(self._heap, key)

    append = add  # an ErrorSink (payroll_exchange.errors): the core's loaders and checks count into it

    def extend(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.add(error)

    def __bool__(self) -> bool:
        return self.total > 0

    def kept(self) -> list[RowError]:
        return [error for _row, _arrival, error in sorted(self._heap, key=lambda k: (-k[0], -k[1]))]


@dataclass(frozen=True)
class ErrorReport:
    kept: list[RowError] = field(default_factory=list)
    total: int = 0
    by_code: dict[str, int] = field(default_factory=dict)

    @property
    def more(self) -> int:
        return self.total - len(self.kept)


def more_errors_text(*, more: int, language: str) -> str:
    """The line under a capped list: "… and 499,000 more of the same kinds"."""
    if language.startswith("en"):
        return f"… and {more:,} more of the same kinds"
    return f"…… 另有 {more:,} 条同类错误"


def _report_name(stored_name: str) -> str:
    return f"{stored_name}.errors.json"


def error_report_save(*, stored_name: str, tally: ErrorTally) -> None:
    data = {"total": tally.total, "by_code": dict(tally.by_code), "kept": [asdict(e) for e in tally.kept()]}
    private_file_write(area=REPORTS, name=_report_name(stored_name),
                       data=json.dumps(data, ensure_ascii=False).encode("utf-8"))


def error_report_load(*, stored_name: str) -> ErrorReport:
    path = private_path(REPORTS, _report_name(stored_name))
    if not path.exists():
        return ErrorReport()
    data = json.loads(path.read_bytes())
    if isinstance(data, list):  # written before the cap: every error, no summary
        kept = [RowError(**item) for item in data]
        return ErrorReport(kept=kept, total=len(kept), by_code=dict(Counter(e.code for e in kept)))
    return ErrorReport(kept=[RowError(**item) for item in data["kept"]], total=data["total"],
                       by_code=data["by_code"])


def error_report_delete(*, stored_name: str) -> None:
    private_path(REPORTS, _report_name(stored_name)).unlink(missing_ok=True)


def intake_refuse(*, kind: FileKind, pk: int, tally: ErrorTally, **fields: object) -> None:
    """校验失败: keep the report, record the summary and the screen's errors, → invalid."""
    stored_name = kind.model.objects.values_list("stored_name", flat=True).get(pk=pk)
    error_report_save(stored_name=stored_name, tally=tally)
    kept = tally.kept()
    try:
        kind.transition(pk=pk, action="refuse", error_count=tally.total, refusal_code=kept[0].code,
                        errors=[asdict(e) for e in kept[:SCREEN_ERRORS]], error_codes=dict(tally.by_code),
                        **fields)
    except StateError:
        # Another run finished first (its claim went stale meanwhile): its outcome stands.
        if kind.model.objects.filter(pk=pk, status__in=kind.transitions["refuse"][0]).exists():
            raise
