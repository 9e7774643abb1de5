"""What 变动提示 costs (payroll_exchange/changes.py), not a test: timings vary.

Run: .venv/bin/python benchmarks/bench_changes.py [rows]

Two 100,000-row months of real-looking rows (one in ten amounts changed, 1 % new, 1 % gone, a few
accounts moved), compared by ``payroll_changes``; the baseline, in the same process and interleaved,
is reading the same rows from the payroll file text (``formats.payroll_load``), which pre-validation
does anyway. Best of 5, CPU time (``process_time``: the machine is shared). Also the duplicate case
(the same rows again), where the row sort runs.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from payroll_exchange.changes import payroll_changes  # noqa: E402
from payroll_exchange.checks import resident_id_check_char  # noqa: E402
from payroll_exchange.formats import payroll_dump, payroll_load  # noqa: E402
from payroll_exchange.records import PayrollFile, PayrollHeader, PayrollRow  # noqa: E402


def resident_id(n: int) -> str:
    first17 = f"3101041988{n % 100:02d}{1 + n % 28:02d}{n % 1000:03d}"[:17]
    return first17 + resident_id_check_char(first17)


def months(n: int) -> tuple[list[PayrollRow], list[PayrollRow]]:
    before = [PayrollRow(i, f"62220200{i:011d}", f"员工{i}", Decimal(6000 + i % 9000), "0",
                         f"{i:06d}{resident_id(i)}"[:18], "工资") for i in range(1, n + 1)]
    now = []
    for i in range(1, n + 1):
        if i % 100 == 0:
            continue  # gone
        amount = Decimal(6000 + i % 9000) * (Decimal("1.4") if i % 10 == 0 else 1)
        account = f"62220200{i + 10**9:011d}" if i % 500 == 7 else f"62220200{i:011d}"
        now.append(PayrollRow(len(now) + 1, account, f"员工{i}", amount.quantize(Decimal("0.01")), "0",
                              f"{i:06d}{resident_id(i)}"[:18], "工资"))
    now += [PayrollRow(len(now) + k, f"62220300{k:011d}", f"新员工{k}", Decimal("7000.00"), "0", f"N{k:017d}", "工资")
            for k in range(1, n // 100 + 1)]
    return before, now


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    before, now = months(n)
    header = PayrollHeader("1", "DF0001", "U31001", "GZ202612", date(2026, 12, 5), "CNY", len(now),
                           sum((r.amount for r in now), Decimal("0.00")), "工资")
    text = payroll_dump(PayrollFile(header=header, rows=now))
    parse = compare = duplicate = float("inf")
    for _ in range(3):  # interleaved: each sees the same machine load
        parse = min(parse, best(lambda: payroll_load(text), repeat=1))
        compare = min(compare, best(lambda: payroll_changes(rows=now, batch_no="GZ202612", previous_rows=before,
                                                            previous_batch_no="GZ202611"), repeat=1))
        duplicate = min(duplicate, best(lambda: payroll_changes(rows=before, batch_no="GZ202612",
                                                                previous_rows=before, previous_batch_no="GZ202611"),
                                        repeat=1))
    result = payroll_changes(rows=now, batch_no="GZ202612", previous_rows=before, previous_batch_no="GZ202611")
    print(f"rows: {len(now)} now, {len(before)} last time; counts {[(g.kind, g.count) for g in result.groups]}")
    print(f"baseline payroll_load of the file text: {parse:.3f} s CPU")
    print(f"payroll_changes:                        {compare:.3f} s CPU  ({compare / parse:.2f}x the baseline)")
    print(f"payroll_changes, duplicate (row sort):  {duplicate:.3f} s CPU  ({duplicate / parse:.2f}x the baseline)")


if __name__ == "__main__":
    main()
