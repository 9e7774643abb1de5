"""What issue 10's amount and total-row rules cost the sheet read (not a test: timings vary).

Run: .venv/bin/python benchmarks/bench_amounts.py [rows]

bench_parse's sheets (100,000 rows, GB18030 CSV and .xlsx) read by ``payroll_rows_from_sheet``,
in one process, interleaved, best of 5 each, in CPU time (``process_time``: the machine is shared,
and the read is single-threaded):
- "before": the amount rule that was replaced (strip separators and currency marks, Decimal) and
  no total-row/unit check, patched in for the measurement;
- "after": the reader as it is (``amounts.amount_cell`` and ``totals.payroll_totals_check``);
and bench_parse's csv baseline (a plain ``csv`` read of the payroll file) in the same run, so the
ratio to it can be compared with bench_parse's. Sharing one process, both variants see the same
machine load.
"""

from __future__ import annotations

import csv
import io
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_parse  # noqa: E402

from payroll_exchange import sheets  # noqa: E402
from payroll_exchange.messages import row_error  # noqa: E402
from payroll_exchange.sheets import ColumnMap, payroll_rows_from_sheet  # noqa: E402

_OLD_TABLE = str.maketrans("０１２３４５６７８９．", "0123456789.", " ,，¥￥元\u3000\xa0")


def old_amount_cell(text: str | None, row: int, errors: list) -> Decimal | None:
    """The rule before issue 10 (it read 450,50 as 45050.00), as the baseline."""
    if sheets._unusable(text, row, "amount", errors):
        return None
    value = (text or "").translate(_OLD_TABLE)
    body = value[1:] if value[:1] == "-" else value
    if body and body.isascii() and body.replace(".", "", 1).isdigit():
        return Decimal(value)
    errors.append(row_error("amount_syntax", row, "amount", f"{text!r} 不是金额。", f"{text!r} is not an amount."))
    return None


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    payroll = bench_parse.payroll_make(count, random.Random(20260302))
    data = bench_parse.payroll_dump(payroll)
    columns = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5, remark=6, first_row=2)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["证件类型", "证件号码", "姓名", "账号", "金额", "备注"])
    for r in payroll.rows:
        writer.writerow(["居民身份证", r.id_number, r.name, r.account, str(r.amount), r.remark])
    xlsx = bench_parse.xlsx_make([["证件类型", "证件号码", "姓名", "账号", "金额", "备注"]] + [
        ["0", r.id_number, r.name, r.account, float(r.amount), r.remark] for r in payroll.rows])
    inputs = {"GB18030 CSV": (buffer.getvalue().encode("gb18030"), "工资.csv"), ".xlsx": (xlsx, "工资.xlsx")}
    new_amount, new_totals = sheets._amount_cell, sheets.payroll_totals_check
    variants = {"before": (old_amount_cell, lambda **_: 0), "after": (new_amount, new_totals)}
    best: dict[tuple[str, str], float] = {}
    baseline = float("inf")
    for _ in range(5):
        start = time.process_time()
        list(csv.reader(io.StringIO(data.decode("utf-8")), delimiter="|"))
        baseline = min(baseline, time.process_time() - start)
        for label, (body, filename) in inputs.items():
            for variant, (amount_cell, totals_check) in variants.items():
                sheets._amount_cell, sheets.payroll_totals_check = amount_cell, totals_check
                try:
                    start = time.process_time()
                    rows, errors = payroll_rows_from_sheet(data=body, filename=filename, columns=columns)
                    elapsed = time.process_time() - start
                finally:
                    sheets._amount_cell, sheets.payroll_totals_check = new_amount, new_totals
                if len(rows) != count or errors:
                    raise SystemExit(f"{variant} {label}: {len(rows)} rows, {errors[:2]}")
                key = (label, variant)
                best[key] = min(best.get(key, float("inf")), elapsed)
    print(f"{count:,} rows; csv baseline {baseline:.3f} s (best of 5)")
    for label in inputs:
        before, after = best[(label, "before")], best[(label, "after")]
        print(f"payroll_rows_from_sheet, {label:<12} before {before:6.3f} s ({before / baseline:5.2f}× baseline)"
              f"  after {after:6.3f} s ({after / baseline:5.2f}× baseline)  ratio grows {after / before - 1:+.1%}")


if __name__ == "__main__":
    main()
