"""A stand-in benchmark part for the harness tests: deterministic figures, no database, no timing.

FAKE_PART_KEYS says which aims it reports (default P1); FAKE_PART_FAIL makes it raise as a part
does when what it measured is wrong; FAKE_PART_RSS adds extra["worker_peak_rss_mb"].
"""

from __future__ import annotations

import os

from benchmarks.results import Measurement, part_main


def measure(rows: int, keys: tuple[str, ...] | None = None) -> list[Measurement]:
    if os.environ.get("FAKE_PART_FAIL"):
        raise RuntimeError(f"stored {rows - 1} rows, the file has {rows}")
    extra = {"worker_peak_rss_mb": float(os.environ["FAKE_PART_RSS"])} if os.environ.get("FAKE_PART_RSS") else {}
    extra["upload_max_bytes"] = os.environ.get("UPLOAD_MAX_BYTES", "")
    keys = keys or tuple(os.environ.get("FAKE_PART_KEYS", "P1").split(","))
    # Time grows linearly with rows: 1 ms per row, the baseline half of it.
    return [Measurement(key=key, workload=f"fake {key}", rows=rows, ours=rows / 1000, baseline=rows / 2000,
                        baseline_label="half of ours", aim="≤ 2.5×", met=True, extra=extra) for key in keys]


if __name__ == "__main__":
    part_main(measure)
