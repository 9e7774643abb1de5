"""The fake part standing in for the pay-day part: it reports P4 and P5 (see fake_part.py)."""

from __future__ import annotations

from benchmarks.results import Measurement, part_main
from tests.benchmarks import fake_part


def measure(rows: int) -> list[Measurement]:
    return fake_part.measure(rows, keys=("P4", "P5"))


if __name__ == "__main__":
    part_main(measure)
