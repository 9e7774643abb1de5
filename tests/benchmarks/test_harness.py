"""The harness behind ``python -m benchmarks``: its table, met/OVER, FAILED rows and P6, checked
with fake measurements and a fake part (tests/benchmarks/fake_part.py). Nothing here is timed."""

from __future__ import annotations

import json

import pytest

from benchmarks import __main__ as bench_cli
from benchmarks import harness
from benchmarks.results import Measurement

FAKE = "tests.benchmarks.fake_part"
FAKE_PAYDAY = "tests.benchmarks.fake_payday_part"


def measurement(key: str, ours: float, *, rows: int = 100_000, baseline: float | None = 1.0, met: bool = True,
                **extra) -> Measurement:
    return Measurement(key=key, workload=f"workload {key}", rows=rows, ours=ours, baseline=baseline,
                       baseline_label=f"baseline of {key}", aim="≤ 2.5×", met=met, extra=extra)


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.split(" | ")]


def table_rows(printed: str) -> list[list[str]]:
    return [cells(line) for line in printed.splitlines() if line.startswith("P")]


def run(name: str, rows: int, *measurements: Measurement, error: str | None = None) -> harness.PartRun:
    return harness.PartRun(name=name, module=harness.PARTS[name][0], rows=rows, measurements=list(measurements),
                           error=error)


def test_table_shows_ours_baseline_ratio_aim_and_result_per_row():
    rows = harness.rows_from_runs([run("intake", 100_000, measurement("P1", 2.0, baseline=1.0),
                                       measurement("P2", 1.8, baseline=1.0, met=False))])

    table = harness.table_format(rows).splitlines()

    assert cells(table[0]) == ["#", "workload", "ours", "baseline", "ratio", "aim", "result"]
    assert cells(table[2]) == ["P1", "workload P1", "2.000 s", "1.000 s", "2.00×", "≤ 2.5×", "met"]
    assert cells(table[3]) == ["P2", "workload P2", "1.800 s", "1.000 s", "1.80×", "≤ 2.5×", "OVER"]
    # The columns line up: every separator at the same place in every line.
    assert len({tuple(i for i, c in enumerate(line) if c in "|+") for line in table[:4]}) == 1
    assert "  P1: baseline of P1" in table
    assert "  P2: baseline of P2" in table


def test_a_failed_part_is_a_failed_row_with_its_error_never_a_gap():
    rows = harness.rows_from_runs([run("intake", 100_000, error="exit 1: RuntimeError: stored 99 rows"),
                                   run("parse", 100_000, measurement("P9", 3.0))])

    assert [(r.key, r.status) for r in rows] == [("P1,P2", "FAILED"), ("P9", "met")]
    assert rows[0].workload == "intake: exit 1: RuntimeError: stored 99 rows"
    line = harness.table_format(rows).splitlines()[2]
    assert cells(line)[2:] == ["—", "—", "—", "—", "FAILED"]


def test_an_aim_the_part_did_not_report_is_a_failed_row():
    rows = harness.rows_from_runs([run("payday", 100_000, measurement("P4", 2.0))])

    assert [(r.key, r.workload, r.status) for r in rows] == [("P4", "workload P4", "met"),
                                                            ("P5", "payday: reported no P5", "FAILED")]


def test_a_speedup_aim_shows_how_many_times_faster():
    rows = harness.rows_from_runs([run("import_export", 100_000, measurement("P3", 3.0, baseline=12.0, met=False,
                                                                             speedup=4.0))])

    assert rows[0].note == "4× faster"
    assert "workload P3 [4× faster]" in harness.table_format(rows)


def test_p6_compares_10n_with_n_and_reads_the_worker_rss():
    at_n = {"intake": run("intake", 100_000, measurement("P1", 3.0)),
            "payday": run("payday", 100_000, measurement("P4", 2.0), measurement("P5", 0.5))}
    at_10n = {"intake": run("intake", 1_000_000, measurement("P1", 30.0, rows=1_000_000, worker_peak_rss_mb=300.0)),
              "payday": run("payday", 1_000_000, measurement("P4", 24.0, rows=1_000_000, worker_peak_rss_mb=420.0))}

    rows = harness.p6_rows(at_n=at_n, at_10n=at_10n)

    assert [(r.workload, r.ours, r.baseline, r.ratio, r.aim, r.status) for r in rows] == [
        ("intake at 1,000,000 vs 100,000 rows (P1)", 30.0, 3.0, 10.0, "≤ 11×", "met"),
        ("intake worker peak RSS at 1,000,000 rows", 300.0, None, None, "≤ 512 MB", "met"),
        ("pay-day posting at 1,000,000 vs 100,000 rows (P4)", 24.0, 2.0, 12.0, "≤ 11×", "OVER"),
        ("pay-day posting worker peak RSS at 1,000,000 rows", 420.0, None, None, "≤ 512 MB", "met"),
    ]


def test_p6_without_a_worker_rss_shows_a_dash_and_over_with_the_reason():
    at_n = {"intake": run("intake", 10_000, measurement("P1", 1.0, rows=10_000)),
            "payday": run("payday", 10_000, measurement("P4", 1.0, rows=10_000))}
    at_10n = {"intake": run("intake", 100_000, measurement("P1", 9.0)),
              "payday": run("payday", 100_000, measurement("P4", 9.0))}

    rss = harness.p6_rows(at_n=at_n, at_10n=at_10n)[-1]

    assert (rss.workload, rss.ours, rss.status) == ("pay-day posting worker peak RSS at 100,000 rows", None, "OVER")
    assert rss.note == 'payday reports no extra["worker_peak_rss_mb"] yet'
    assert cells(harness.table_format([rss]).splitlines()[2])[2:] == ["—", "—", "—", "≤ 512 MB", "OVER"]


def test_p6_with_a_failed_10n_run_is_failed_with_that_runs_error():
    at_n = {"intake": run("intake", 100_000, measurement("P1", 3.0)),
            "payday": run("payday", 100_000, measurement("P4", 2.0))}
    at_10n = {"intake": run("intake", 1_000_000, error="timed out after 3600 s"),
              "payday": run("payday", 1_000_000, measurement("P4", 20.0, rows=1_000_000, worker_peak_rss_mb=600.0))}

    rows = harness.p6_rows(at_n=at_n, at_10n=at_10n)

    assert [(r.status, r.workload) for r in rows] == [
        ("FAILED", "intake at 1,000,000 vs 100,000 rows (P1): 1,000,000 rows: timed out after 3600 s"),
        ("met", "pay-day posting at 1,000,000 vs 100,000 rows (P4)"),
        ("OVER", "pay-day posting worker peak RSS at 1,000,000 rows"),
    ]


def test_only_runs_the_parts_of_the_asked_aims_and_p6_needs_intake_and_payday():
    assert harness.parts_for({"P3"}) == ["import_export"]
    assert harness.parts_for({"P9", "P6"}) == ["intake", "payday", "parse"]
    assert harness.parts_for(None) == list(harness.PARTS)


def test_the_upload_limit_is_raised_only_for_a_file_above_the_default():
    assert harness.upload_env(100_000) == {}
    assert int(harness.upload_env(1_000_000)["UPLOAD_MAX_BYTES"]) >= 100 * 1000 * 1000


def test_a_load_average_of_one_or_more_is_warned_about():
    assert harness.load_warning((0.99, 2.0, 2.0)) is None
    assert harness.load_warning((1.0, 0.2, 0.1)).startswith("WARNING: load average 1.00 before the run")


def test_part_run_reads_a_real_part_process(tmp_path):
    done = harness.part_run(name="fake", module=FAKE, rows=2_000, workdir=str(tmp_path))

    assert done.error is None
    assert [(m.key, m.rows, m.ours, m.baseline) for m in done.measurements] == [("P1", 2_000, 2.0, 1.0)]
    assert done.peak_rss_mb > 0


def test_part_run_gives_the_parts_own_error_and_a_missing_module(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_PART_FAIL", "1")

    failed = harness.part_run(name="fake", module=FAKE, rows=2_000, workdir=str(tmp_path))
    missing = harness.part_run(name="fake", module="benchmarks.bench_nothing_here", rows=2_000,
                               workdir=str(tmp_path))

    assert failed.error == "exit 1: RuntimeError: stored 1999 rows, the file has 2000"
    assert failed.measurements == []
    assert missing.error == "no module benchmarks.bench_nothing_here"


def test_the_10n_run_gets_the_raised_upload_limit(tmp_path):
    done = harness.part_run(name="fake", module=FAKE, rows=1_000_000, workdir=str(tmp_path))

    assert done.measurements[0].extra["upload_max_bytes"] == harness.upload_env(1_000_000)["UPLOAD_MAX_BYTES"]


@pytest.fixture
def fake_parts(monkeypatch):
    """Every part is the fake part; intake reports P1, pay day P4 and P5."""
    monkeypatch.setattr(harness, "PARTS", {"intake": (FAKE, ("P1",)), "payday": (FAKE_PAYDAY, ("P4", "P5"))})


def test_the_command_prints_one_table_with_p6_and_writes_the_json(fake_parts, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("FAKE_PART_RSS", "200")
    out = tmp_path / "bench.json"

    status = bench_cli.main(["--rows", "1000", "--json", str(out)])

    printed = capsys.readouterr().out
    assert status == 0
    assert "FAILED" not in printed
    assert ["P6", "intake at 10,000 vs 1,000 rows (P1)", "10.000 s", "1.000 s", "10.00×", "≤ 11×", "met"] \
        in table_rows(printed)
    assert ["P6", "intake worker peak RSS at 10,000 rows", "200.0 MB", "—", "—", "≤ 512 MB", "met"] \
        in table_rows(printed)
    assert "machine: " in printed
    assert "load average 1/5/15 min: before " in printed
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["rows"] == 1000
    assert {r["key"] for r in report["table"]} == {"P1", "P4", "P5", "P6"}
    assert [(p["name"], p["rows"]) for p in report["parts"]] == [("intake", 1000), ("payday", 1000),
                                                                 ("intake", 10000), ("payday", 10000)]
    assert set(report["machine"]) >= {"cores", "cpu", "python", "postgresql", "date", "load_before", "load_after"}


def test_the_command_exits_non_zero_when_a_part_failed(fake_parts, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("FAKE_PART_FAIL", "1")
    monkeypatch.setattr(harness, "scratch_dir", lambda: str(tmp_path))  # a failed part's log is kept

    status = bench_cli.main(["--rows", "1000", "--only", "P1"])

    printed = capsys.readouterr().out
    assert status == 1
    assert table_rows(printed) == [["P1", "intake: exit 1: RuntimeError: stored 999 rows, the file has 1000",
                                    "—", "—", "—", "—", "FAILED"]]


def test_growth_series_and_plot_from_runs_at_three_sizes(tmp_path):
    runs = [run("intake", n, measurement("P1", n / 1000, rows=n, baseline=n / 4000)) for n in (10_000, 100_000)]
    runs += [run("payday", 10_000, measurement("P4", 1.0, rows=10_000), measurement("P5", 0.2, rows=10_000)),
             run("payday", 100_000, error="exit 1: boom")]

    series = harness.growth_series(runs)
    harness.growth_plot(series, tmp_path / "growth.png")

    assert series["P1"]["points"] == [{"rows": 10_000, "ours": 10.0, "baseline": 2.5},
                                      {"rows": 100_000, "ours": 100.0, "baseline": 25.0}]
    assert [p["rows"] for p in series["P4"]["points"]] == [10_000]
    assert series["P5"]["baseline_label"] == "baseline of P5"
    assert (tmp_path / "growth.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_table_columns_line_up_with_chinese_page_names():
    rows = [harness.Row(key="P7", workload="kiosk p95 query: 回盘文件查询 /returns/", rows=100_000, ours=120.0,
                        baseline=130.0, baseline_label="no intake", aim="p95 ≤ 50 ms", status="OVER", unit="ms"),
            harness.Row(key="P7", workload="kiosk p95 all requests", rows=100_000, ours=1000.0, baseline=200.0,
                        baseline_label="no intake", aim="p95 ≤ 50 ms", status="OVER", unit="ms")]

    lines = harness.table_format(rows).splitlines()[:4]

    # Where each separator lands on screen, counting a Chinese character as two columns.
    def bars(line: str) -> list[int]:
        return [harness.display_width(line[:i]) for i, c in enumerate(line) if c in "|+"]

    assert bars(lines[2]) == bars(lines[3]) == bars(lines[0]) == bars(lines[1])


def test_a_long_error_is_cut_in_the_table_and_kept_whole_in_the_row():
    error = "exit 1: " + "x" * 300
    rows = harness.rows_from_runs([run("parse", 100_000, error=error)])

    line = cells(harness.table_format(rows).splitlines()[2])

    assert len(line[1]) == harness.WORKLOAD_WIDTH
    assert line[1].endswith("…")
    assert rows[0].workload == f"parse: {error}"


def test_a_part_failing_at_n_is_not_run_again_at_10n(fake_parts, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("FAKE_PART_FAIL", "1")
    monkeypatch.setattr(harness, "scratch_dir", lambda: str(tmp_path))
    out = tmp_path / "bench.json"

    status = bench_cli.main(["--rows", "1000", "--only", "P6", "--json", str(out)])

    capsys.readouterr()
    report = json.loads(out.read_text(encoding="utf-8"))
    assert status == 1
    assert [(p["name"], p["rows"]) for p in report["parts"]] == [("intake", 1000), ("payday", 1000)]
    # The parts' own failures are shown (they explain P6), then both P6 rows.
    assert [(r["key"], r["status"]) for r in report["table"]] == [("P1", "FAILED"), ("P4,P5", "FAILED"),
                                                                 ("P6", "FAILED"), ("P6", "FAILED")]


def test_growth_mode_writes_the_plot_and_figures(fake_parts, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench_cli, "DOCS", tmp_path / "performance")

    status = bench_cli.main(["--growth", "--growth-rows", "1000,10000"])

    printed = capsys.readouterr().out
    figures = json.loads((tmp_path / "performance" / "growth.json").read_text(encoding="utf-8"))
    assert status == 0
    assert sorted(figures) == ["P1", "P4", "P5"]
    assert figures["P4"]["points"] == [{"rows": 1000, "ours": 1.0, "baseline": 0.5},
                                       {"rows": 10000, "ours": 10.0, "baseline": 5.0}]
    assert (tmp_path / "performance" / "growth.png").read_bytes()[:4] == b"\x89PNG"
    assert ["P1", "fake P1 at 10,000 rows", "10.000 s", "5.000 s", "2.00×", "≤ 2.5×", "met"] in table_rows(printed)


def test_show_prints_a_saved_reports_table_again(fake_parts, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("FAKE_PART_RSS", "200")
    out = tmp_path / "bench.json"
    bench_cli.main(["--rows", "1000", "--json", str(out)])
    first = table_rows(capsys.readouterr().out)

    status = bench_cli.main(["--show", str(out)])

    assert status == 0
    assert table_rows(capsys.readouterr().out) == first
