"""The logic behind ``python -m benchmarks``: which parts exist, running each in its own process,
P6 from the intake and pay-day parts at N and 10×N, the one table, the machine, the growth plot.

Pure where it can be (table rows, P6, formatting, growth series), so tests/benchmarks checks it
with fake measurements and no timing.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.results import Measurement, measurements_read

ROOT = Path(__file__).resolve().parent.parent

# The one place the parts are listed: name → (module, the aims it reports). A module that does not
# exist yet, or that reports fewer aims than listed here, shows as a FAILED row, never as a gap.
PARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "intake": ("benchmarks.bench_intake", ("P1", "P2")),
    "import_export": ("benchmarks.bench_import_export", ("P3",)),
    "payday": ("benchmarks.bench_payday", ("P4", "P5")),
    "kiosk_load": ("benchmarks.bench_kiosk_load", ("P7",)),
    "client": ("benchmarks.bench_client", ("P8",)),
    "parse": ("benchmarks.bench_parse", ("P9",)),
}
# P6 is no part of its own: the harness runs these again at 10×N and compares.
P6_PARTS = ("intake", "payday")
P6_SOURCES = (("P1", "intake"), ("P4", "pay-day posting"))
P6_GROWTH_AIM = 11.0  # time(10N) ≤ 11 × time(N): linear growth with 10 % slack
P6_RSS_AIM_MB = 512.0
GROWTH_ROWS = (10_000, 100_000, 1_000_000)
GROWTH_KEYS = {"P1": "intake end to end", "P4": "pay-day posting", "P5": "return file"}

# The platform refuses uploads above UPLOAD_MAX_BYTES (config/settings/base.py reads it from the
# environment, default 50 MiB); a 1M-row sealed file is ~80 MB. The harness raises it only for
# runs whose file would not fit, by this many bytes per row (about 2× what a sealed row takes).
UPLOAD_DEFAULT_BYTES = 50 * 1024 * 1024
UPLOAD_BYTES_PER_ROW = 200

MET, OVER, FAILED = "met", "OVER", "FAILED"
WORKLOAD_WIDTH = 110  # the table stays readable in a terminal and in docs/performance.md


@dataclass
class PartRun:
    """One part run in its own process at one row count."""

    name: str
    module: str
    rows: int
    measurements: list[Measurement] = field(default_factory=list)
    peak_rss_mb: float | None = None
    error: str | None = None
    log: str | None = None

    @property
    def expected(self) -> tuple[str, ...]:
        return PARTS.get(self.name, (self.module, ()))[1]


@dataclass
class Row:
    """One line of the table. ``ours``/``baseline`` None print as "—"."""

    key: str
    workload: str
    rows: int
    ours: float | None
    baseline: float | None
    baseline_label: str
    aim: str
    status: str  # met / OVER / FAILED
    unit: str = "s"
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.baseline in (None, 0):
            return None
        return self.ours / self.baseline


def upload_env(rows: int) -> dict[str, str]:
    """The environment a part needs at ``rows``: a raised upload limit where the file needs it."""
    needed = rows * UPLOAD_BYTES_PER_ROW
    return {"UPLOAD_MAX_BYTES": str(needed)} if needed > UPLOAD_DEFAULT_BYTES else {}


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def part_run(*, name: str, rows: int, module: str | None = None, workdir: str, timeout: float = 3600,
             env: dict[str, str] | None = None) -> PartRun:
    """Run ``python -m <module> --rows N --json …`` and read what it measured. Any failure (no such
    module, non-zero exit, timeout, no JSON) becomes ``error`` with the part's last output line."""
    module = module or PARTS[name][0]
    run = PartRun(name=name, module=module, rows=rows)
    if importlib.util.find_spec(module) is None:
        run.error = f"no module {module}"
        return run
    out = Path(workdir) / f"{name}-{rows}.json"
    log = Path(workdir) / f"{name}-{rows}.log"
    run.log = str(log)
    child_env = {**os.environ, **upload_env(rows), **(env or {})}
    try:
        with log.open("w", encoding="utf-8") as sink:
            done = subprocess.run([sys.executable, "-m", module, "--rows", str(rows), "--json", str(out)],
                                  cwd=ROOT, env=child_env, stdout=sink, stderr=subprocess.STDOUT,
                                  timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        run.error = f"timed out after {timeout:.0f} s"
        return run
    text = log.read_text(encoding="utf-8", errors="replace")
    if done.returncode != 0:
        run.error = f"exit {done.returncode}: {_last_line(text)}"
    elif not out.exists():
        run.error = "wrote no measurements (does it end with part_main(measure)?)"
    else:
        try:
            run.measurements, run.peak_rss_mb = measurements_read(str(out))
        except (ValueError, KeyError, TypeError) as exc:
            run.error = f"unreadable measurements: {exc}"
    return run


def row_from_measurement(m: Measurement) -> Row:
    return Row(key=m.key, workload=m.workload, rows=m.rows, ours=m.ours, baseline=m.baseline,
               baseline_label=m.baseline_label, aim=m.aim, status=MET if m.met else OVER, unit=m.unit,
               extra=dict(m.extra),
               # An aim stated as "N× faster" reads better as the speed-up than as ours/baseline.
               note=f"{m.extra['speedup']:g}× faster" if "speedup" in m.extra else "")


def rows_from_runs(runs: list[PartRun]) -> list[Row]:
    """Every measurement as a row; a failed part, and every aim a part did not report, as FAILED."""
    rows: list[Row] = []
    for run in runs:
        if run.error is not None:
            keys = ",".join(run.expected) or "?"
            rows.append(Row(key=keys, workload=f"{run.name}: {run.error}", rows=run.rows, ours=None,
                            baseline=None, baseline_label="", aim="", status=FAILED))
            continue
        reported = {m.key for m in run.measurements}
        rows.extend(row_from_measurement(m) for m in run.measurements)
        rows.extend(Row(key=key, workload=f"{run.name}: reported no {key}", rows=run.rows, ours=None,
                        baseline=None, baseline_label="", aim="", status=FAILED)
                    for key in run.expected if key not in reported)
    return sorted(rows, key=key_order)


def key_order(row: Row) -> tuple[int, str]:
    digits = "".join(c for c in row.key.split(",")[0] if c.isdigit())
    return (int(digits) if digits else 99, row.key)


def _first(run: PartRun | None, key: str) -> Measurement | None:
    if run is None or run.error is not None:
        return None
    return next((m for m in run.measurements if m.key == key), None)


def p6_rows(*, at_n: dict[str, PartRun], at_10n: dict[str, PartRun]) -> list[Row]:
    """P6 from the intake and pay-day parts: time at 10×N against time at N (aim ≤ 11×), and each
    part's worker peak RSS at 10×N (aim ≤ 512 MB), reported in extra["worker_peak_rss_mb"]. One RSS
    row per part: which worker is over the aim is what the reader needs to know."""
    rows: list[Row] = []
    for key, label in P6_SOURCES:
        part = next(name for name in P6_PARTS if key in PARTS[name][1])
        small, big = at_n.get(part), at_10n.get(part)
        m_small, m_big = _first(small, key), _first(big, key)
        n = small.rows if small else (big.rows // 10 if big else 0)
        workload = f"{label} at {10 * n:,} vs {n:,} rows ({key})"
        if m_small is None or m_big is None:
            why = next((f"{r.rows:,} rows: {r.error}" for r in (small, big) if r is not None and r.error),
                       f"{part} reported no {key}")
            rows.append(Row(key="P6", workload=f"{workload}: {why}", rows=10 * n, ours=None, baseline=None,
                            baseline_label="", aim="", status=FAILED))
            continue
        ratio = m_big.ours / m_small.ours if m_small.ours else math.inf
        rows.append(Row(key="P6", workload=workload, rows=m_big.rows, ours=m_big.ours, baseline=m_small.ours,
                        baseline_label=f"the same part at {m_small.rows:,} rows", aim=f"≤ {P6_GROWTH_AIM:g}×",
                        status=MET if ratio <= P6_GROWTH_AIM else OVER, unit=m_big.unit))
        rss = [m.extra["worker_peak_rss_mb"] for m in big.measurements if "worker_peak_rss_mb" in m.extra]
        peak = max(rss) if rss else None
        rows.append(Row(key="P6", workload=f"{label} worker peak RSS at {m_big.rows:,} rows", rows=m_big.rows,
                        ours=peak, baseline=None, baseline_label="", aim=f"≤ {P6_RSS_AIM_MB:g} MB",
                        status=MET if peak is not None and peak <= P6_RSS_AIM_MB else OVER, unit="MB",
                        note="" if rss else f'{part} reports no extra["worker_peak_rss_mb"] yet'))
    return rows


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:.3f} {unit}" if unit == "s" else f"{value:,.1f} {unit}"


def display_width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters take two (the kiosk's page names)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table_format(rows: list[Row]) -> str:
    """The one table: workload | ours | baseline | ratio | aim | met/OVER (FAILED rows say why)."""
    head = ("#", "workload", "ours", "baseline", "ratio", "aim", "result")
    body = []
    for r in rows:
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}×"
        workload = r.workload if not r.note else f"{r.workload} [{r.note}]"
        if len(workload) > WORKLOAD_WIDTH:  # a long error: its whole text is in --json and the kept log
            workload = workload[:WORKLOAD_WIDTH - 1] + "…"
        body.append((r.key, workload, _number(r.ours, r.unit), _number(r.baseline, r.unit), ratio, r.aim or "—",
                     r.status))
    widths = [max(display_width(line[i]) for line in (head, *body)) for i in range(len(head))]
    right = {2, 3, 4}  # numbers line up on the right

    def pad(text: str, width: int, *, right_align: bool) -> str:
        fill = " " * (width - display_width(text))
        return fill + text if right_align else text + fill

    def line(cells: tuple[str, ...]) -> str:
        return " | ".join(pad(c, w, right_align=i in right) for i, (c, w) in
                          enumerate(zip(cells, widths, strict=True))).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    baselines = sorted({f"{r.key}: {r.baseline_label}" for r in rows if r.baseline_label})
    return "\n".join([line(head), rule, *(line(b) for b in body), "", "baselines (same run):",
                      *(f"  {b}" for b in baselines)])


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return (one, five, fifteen)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _postgres_version() -> str:
    try:
        import psycopg

        server = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
        with psycopg.connect(f"{server}/postgres", connect_timeout=5) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001 - the table still prints; the line says why
        return f"unknown ({exc.__class__.__name__})"


def machine_info() -> dict:
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "postgresql": _postgres_version(),
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "load_before": load_average(),
    }


def load_warning(load_before: tuple[float, float, float]) -> str | None:
    if load_before[0] >= 1:
        return (f"WARNING: load average {load_before[0]:.2f} before the run (≥ 1): other work shares the "
                "machine, the figures are noisy; compare ratios, not times.")
    return None


def machine_lines(machine: dict) -> list[str]:
    def load(values) -> str:  # noqa: ANN001
        return " / ".join(f"{v:.2f}" for v in values) if values else "—"

    return [
        f"machine: {machine['cores']} cores, {machine['cpu']}; Python {machine['python']}, "
        f"PostgreSQL {machine['postgresql']}; {machine['date']}",
        f"load average 1/5/15 min: before {load(machine.get('load_before'))}, "
        f"after {load(machine.get('load_after'))}",
    ]


def parts_for(only: set[str] | None) -> list[str]:
    """The parts to run for ``--only`` (aim keys such as P1, P6), in the table's order."""
    if not only:
        return list(PARTS)
    wanted = [name for name, (_module, keys) in PARTS.items() if only & set(keys)]
    if "P6" in only:
        wanted += [name for name in P6_PARTS if name not in wanted]
    return [name for name in PARTS if name in wanted]


def report_json(*, path: str, machine: dict, rows_count: int, table: list[Row], runs: list[PartRun]) -> None:
    Path(path).write_text(json.dumps({
        "machine": machine,
        "rows": rows_count,
        "table": [{**asdict(r), "ratio": r.ratio} for r in table],
        "parts": [{"name": r.name, "module": r.module, "rows": r.rows, "peak_rss_mb": r.peak_rss_mb,
                   "error": r.error, "measurements": [asdict(m) for m in r.measurements]} for r in runs],
    }, indent=1, ensure_ascii=False), encoding="utf-8")


def report_read(path: str) -> tuple[dict, int, list[Row]]:
    """A --json report back as (machine, rows, table), to print a saved run's table again."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    table = [Row(**{k: v for k, v in r.items() if k != "ratio"}) for r in data["table"]]
    return data["machine"], data["rows"], table


def growth_series(runs: list[PartRun]) -> dict[str, dict]:
    """Time against rows for each growth workload, ours and its baseline, from runs at several sizes."""
    series: dict[str, dict] = {}
    for key, label in GROWTH_KEYS.items():
        points = []
        for run in sorted(runs, key=lambda r: r.rows):
            m = _first(run, key)
            if m is not None:
                points.append({"rows": m.rows, "ours": m.ours, "baseline": m.baseline})
        if points:
            first = next(m for run in runs if (m := _first(run, key)) is not None)
            series[key] = {"workload": label, "measured": first.workload, "unit": first.unit,
                           "baseline_label": first.baseline_label, "points": points}
    return series


def growth_plot(series: dict[str, dict], path: Path) -> None:
    """One log-log plot: ours solid, the same-run baselines dashed, one colour per workload."""
    import matplotlib

    matplotlib.use("Agg")  # no display on the build machines
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    for (key, s), colour in zip(series.items(), ("tab:blue", "tab:orange", "tab:green", "tab:red"), strict=False):
        xs = [p["rows"] for p in s["points"]]
        ax.plot(xs, [p["ours"] for p in s["points"]], "o-", color=colour,
                label=f"{key} {s.get('measured', s['workload'])}")
        based = [(p["rows"], p["baseline"]) for p in s["points"] if p["baseline"]]
        if based:
            ax.plot(*zip(*based, strict=True), "s--", color=colour, alpha=0.7,
                    label=f"{key} baseline: {s['baseline_label']}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows")
    ax.set_ylabel("seconds (as each part reports them: CPU)")
    ax.set_title("Time against rows (log-log; slope 1 = linear growth)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def scratch_dir() -> str:
    return tempfile.mkdtemp(prefix="payroll-bench-harness-")
