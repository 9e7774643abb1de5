"""What every benchmark part reports, and the small CLI every part shares.

A part is a module ``benchmarks/bench_<name>.py`` with ``measure(rows: int) -> list[Measurement]``
and, at its end, ``if __name__ == "__main__": part_main(measure)``. ``python -m benchmarks`` runs
each part in its own process (``python -m benchmarks.bench_<name> --rows N --json PATH``), so one
part's memory and caches never colour another's figures and the child's peak RSS is its own.

Every Measurement carries the part's own baseline, measured in the same run and the same process,
so the ratio holds even when absolute times move with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Measurement:
    key: str  # the aim's number in issue 15: "P1" … "P9" (a part may report several rows per key)
    workload: str  # what was measured, in a few words
    rows: int
    ours: float  # in ``unit``
    baseline: float | None  # the same-run baseline in ``unit``; None where the aim is absolute
    baseline_label: str  # what the baseline is ("raw COPY into payroll_payrollrow")
    aim: str  # the aim as the issue writes it ("≤ 2.5×", "≥ 20× faster", "p95 ≤ 50 ms")
    met: bool
    unit: str = "s"
    extra: dict = field(default_factory=dict)  # anything else worth printing: rss_mb, req/s, …

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.ours / self.baseline


def measurements_write(path: str, measurements: list[Measurement]) -> None:
    Path(path).write_text(
        json.dumps({"peak_rss_mb": peak_rss_mb(), "measurements": [asdict(m) for m in measurements]}, indent=1),
        encoding="utf-8",
    )


def measurements_read(path: str) -> tuple[list[Measurement], float]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [Measurement(**m) for m in data["measurements"]], data["peak_rss_mb"]


def peak_rss_mb() -> float:
    """This process's peak resident set (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measurement_line(m: Measurement) -> str:
    ratio = "" if m.ratio is None else f"{m.ratio:.2f}×"
    base = "" if m.baseline is None else f"{m.baseline:.3f} {m.unit}"
    return (
        f"{m.key:<4} {m.workload:<48} {m.ours:>9.3f} {m.unit:<2} {base:>12} {ratio:>8} "
        f"{m.aim:<14} {'met' if m.met else 'OVER'}"
    )


def part_main(measure) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--json", help="write the measurements there (used by python -m benchmarks)")
    args = parser.parse_args()
    measurements = measure(args.rows)
    for m in measurements:
        print(measurement_line(m), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        measurements_write(args.json, measurements)
