"""``python -m benchmarks``: every part with its same-run baseline, one table (issue 15).

    .venv/bin/python -m benchmarks [--quick | --rows N] [--only P1,P4,…] [--json PATH] [--growth]

Each part runs in its own process (benchmarks/harness.py lists them); P6 runs the intake and
pay-day parts again at 10×N. ``--growth`` runs intake and pay day at 10k, 100k and 1M and draws
docs/performance/growth.png (figures in growth.json). Exits 1 when a part FAILED.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time

from benchmarks import harness

DOCS = harness.ROOT / "docs" / "performance"


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _run(name: str, rows: int, workdir: str, timeout: float) -> harness.PartRun:
    _progress(f"… {name} ({harness.PARTS[name][0]}) at {rows:,} rows")
    started = time.perf_counter()
    run = harness.part_run(name=name, rows=rows, workdir=workdir, timeout=timeout)
    _progress(f"  {'FAILED: ' + run.error if run.error else 'done'} in {time.perf_counter() - started:.0f} s")
    return run


def _table_run(args: argparse.Namespace, workdir: str) -> tuple[list[harness.Row], list[harness.PartRun]]:
    only = {k.strip().upper() for k in args.only.split(",") if k.strip()} if args.only else None
    names = harness.parts_for(only)
    runs = [_run(name, args.rows, workdir, args.timeout) for name in names]
    table = harness.rows_from_runs(runs)
    if only:
        # A part may report more aims than were asked for; keep FAILED rows, whose key is the part's.
        table = [r for r in table if r.status == harness.FAILED or r.key in only]
    if not only or "P6" in only:
        at_n = {r.name: r for r in runs if r.name in harness.P6_PARTS}
        # A part that failed at N would fail at 10×N too: its P6 row shows the N run's error.
        big = [_run(name, 10 * args.rows, workdir, args.timeout) for name in harness.P6_PARTS
               if name in at_n and at_n[name].error is None]
        runs += big
        table = sorted(table + harness.p6_rows(at_n=at_n, at_10n={r.name: r for r in big}),
                       key=harness.key_order)
    return table, runs


def _growth_run(args: argparse.Namespace, workdir: str) -> tuple[list[harness.Row], list[harness.PartRun]]:
    sizes = [int(s) for s in args.growth_rows.split(",")]
    runs = [_run(name, rows, workdir, args.timeout) for rows in sizes for name in harness.P6_PARTS]
    series = harness.growth_series(runs)
    DOCS.mkdir(parents=True, exist_ok=True)
    if series:
        harness.growth_plot(series, DOCS / "growth.png")
    (DOCS / "growth.json").write_text(json.dumps(series, indent=1, ensure_ascii=False), encoding="utf-8")
    _progress(f"growth: {DOCS / 'growth.png'} and growth.json")
    table = harness.rows_from_runs(runs)
    for row in table:  # one row per size here: the size belongs in the row
        row.workload = f"{row.workload} at {row.rows:,} rows"
    return table, runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 rows (P6 then compares 100k with 10k)")
    parser.add_argument("--only", help="aims to run, comma-separated: P1,P4,P6 …")
    parser.add_argument("--json", help="write the machine, the table and every measurement there")
    parser.add_argument("--growth", action="store_true", help="intake and pay day at 10k, 100k, 1M; the plot")
    parser.add_argument("--growth-rows", default=",".join(str(n) for n in harness.GROWTH_ROWS), help="sizes")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds one part may take")
    parser.add_argument("--keep-logs", action="store_true", help="keep each part's output (path printed)")
    parser.add_argument("--show", metavar="PATH", help="print the table of a saved --json report; run nothing")
    args = parser.parse_args(argv)
    if args.show:
        machine, rows_count, table = harness.report_read(args.show)
        print(f"{rows_count:,} rows per part; P6 compares {10 * rows_count:,} with {rows_count:,}")
        print(harness.table_format(table))
        print()
        print("\n".join(harness.machine_lines(machine)))
        return 1 if any(r.status == harness.FAILED for r in table) else 0
    if args.quick:
        args.rows = 10_000

    machine = harness.machine_info()
    warning = harness.load_warning(machine["load_before"])
    if warning:
        print(warning, flush=True)
    workdir = harness.scratch_dir()
    table: list[harness.Row] = []
    try:
        table, runs = (_growth_run if args.growth else _table_run)(args, workdir)
        machine["load_after"] = harness.load_average()
        if not args.growth:
            print(f"{args.rows:,} rows per part; P6 compares {10 * args.rows:,} with {args.rows:,}")
        print(harness.table_format(table))
        print()
        print("\n".join(harness.machine_lines(machine)))
        if warning:
            print(warning)
        if args.json:
            harness.report_json(path=args.json, machine=machine, rows_count=args.rows, table=table, runs=runs)
    finally:
        # A failed part's whole output is kept: the row shows only its last line.
        if args.keep_logs or any(r.status == harness.FAILED for r in table):
            _progress(f"part logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if any(r.status == harness.FAILED for r in table) else 0


if __name__ == "__main__":
    sys.exit(main())
