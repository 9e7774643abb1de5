"""Parse + check benchmark for the payroll file (not a test: timings vary by machine).

Run: .venv/bin/python benchmarks/bench_parse.py [rows]

It builds a realistic payroll file (UnionPay accounts that pass Luhn, resident IDs with valid
check characters, Chinese names), then times, in the same run:
- the baseline: a plain ``csv`` read of the same bytes (delimiter ``|``), no checks at all;
- payroll_load and payroll_check;
- payroll_rows_from_sheet on the same rows as a CSV and as an .xlsx;
- the .xlsx read alone: openpyxl's read-only iteration (the old reader, as the baseline) beside
  payroll_exchange.xlsx on the same bytes.
The aim (issue 3) is 100,000 rows loaded and checked in 1.0 s or less.
"""

from __future__ import annotations

import csv
import io
import random
import sys
import time
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# After the sys.path line so that the script runs from any directory.
from payroll_exchange.checks import resident_id_check_char  # noqa: E402
from payroll_exchange.formats import payroll_dump, payroll_load  # noqa: E402
from payroll_exchange.records import PayrollFile, PayrollHeader, PayrollRow  # noqa: E402
from payroll_exchange.sheets import ColumnMap, payroll_rows_from_sheet  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕文亮晓明红梅"
REGIONS = ("110105", "310115", "440305", "320102", "510107", "110107", "632000", "420103")
TODAY = date(2026, 3, 2)


def luhn_complete(body: str) -> str:
    """Append the Luhn check digit to ``body``."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def payroll_make(count: int, rng: random.Random) -> PayrollFile:
    rows = []
    for seq in range(1, count + 1):
        account = luhn_complete(f"6222{rng.randrange(10**14):014d}")
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(16000))
        first17 = f"{rng.choice(REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randrange(1, 3)))
        amount = Decimal(rng.randrange(200000, 3000000)) / 100
        rows.append(PayrollRow(seq, account, name, amount, "0", first17 + resident_id_check_char(first17),
                               "三月工资" if seq % 10 else ""))
    total = sum((r.amount for r in rows), Decimal(0))
    header = PayrollHeader("1", "AG20260001", "310001234", "B202603001", TODAY + timedelta(days=3), "CNY",
                           count, total, "工资")
    return PayrollFile(header, rows)


XLSX_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.'
    'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml"'
    ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.'
    'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="工资" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns='
    '"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>',
}


def xlsx_make(rows: list[list[str | float]]) -> bytes:
    """An .xlsx laid out as Excel saves one (shared strings, numbers as <v>), written directly:
    openpyxl's writer would take longer than the read being measured."""
    strings: dict[str, int] = {}
    sheet = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.'
             'openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
    for r, row in enumerate(rows, 1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{'ABCDEF'[c]}{r}"
            if isinstance(value, float):
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
            elif value:
                cells.append(f'<c r="{ref}" t="s"><v>{strings.setdefault(value, len(strings))}</v></c>')
        sheet.append(f'<row r="{r}">{"".join(cells)}</row>')
    sheet.append("</sheetData></worksheet>")
    shared = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in XLSX_PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", "".join(sheet))
        archive.writestr("xl/sharedStrings.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst '
                         f'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(strings)}" '
                         f'uniqueCount="{len(strings)}">{shared}</sst>')
    return buffer.getvalue()


def timed(label: str, count: int, func, baseline: float | None = None):  # noqa: ANN001, ANN201
    start = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - start
    ratio = f"  ({elapsed / baseline:5.1f}× the csv baseline)" if baseline else ""
    print(f"{label:<44} {elapsed:7.3f} s  {count / elapsed:>12,.0f} rows/s{ratio}")
    return result, elapsed


def openpyxl_iterate(data: bytes) -> int:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    sheet.reset_dimensions()
    return sum(1 for _ in sheet.iter_rows(values_only=True))


def xlsx_compare(data: bytes, count: int) -> None:
    """openpyxl read-only (the old reader) and ours on the same bytes, best of 3 each."""
    from payroll_exchange.xlsx import xlsx_rows

    best = {}
    for label, read in (("openpyxl read-only iteration (baseline)", openpyxl_iterate),
                        ("payroll_exchange.xlsx.xlsx_rows", lambda d: sum(1 for _ in xlsx_rows(data=d)))):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            rows = read(data)
            times.append(time.perf_counter() - start)
        if rows != count + 1:
            raise SystemExit(f"{label} read {rows} rows, expected {count + 1}")
        best[label] = min(times)
        print(f"{label:<44} {best[label]:7.3f} s  {count / best[label]:>12,.0f} rows/s  (best of 3)")
    old, new = best.values()
    print(f"{'xlsx reader speed-up':<44} {old / new:7.1f}×")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(20260302)
    payroll = payroll_make(count, rng)
    data = payroll_dump(payroll)
    print(f"{count:,} rows, payroll file {len(data) / 1e6:.1f} MB")

    _, baseline = timed("baseline: csv.reader, delimiter |", count,
                        lambda: list(csv.reader(io.StringIO(data.decode("utf-8")), delimiter="|")))
    (loaded, load_errors), t_load = timed("payroll_load", count, lambda: payroll_load(data), baseline)
    from payroll_exchange.checks import payroll_check

    check_errors, t_check = timed("payroll_check", count, lambda: payroll_check(
        payroll=loaded, today=TODAY, single_limit=Decimal("50000")), baseline)
    if load_errors or check_errors:
        raise SystemExit(f"the generated file should be valid: {(load_errors + check_errors)[:3]}")
    total = t_load + t_check
    print(f"{'payroll_load + payroll_check':<44} {total:7.3f} s  {count / total:>12,.0f} rows/s"
          f"  ({total / baseline:5.1f}× the csv baseline; aim ≤ 1.0 s per 100k rows)")

    columns = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5, remark=6, first_row=2)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["证件类型", "证件号码", "姓名", "账号", "金额", "备注"])
    for r in payroll.rows:
        writer.writerow(["居民身份证", r.id_number, r.name, r.account, str(r.amount), r.remark])
    csv_bytes = buffer.getvalue().encode("gb18030")
    timed("payroll_rows_from_sheet, GB18030 CSV", count,
          lambda: payroll_rows_from_sheet(data=csv_bytes, filename="工资.csv", columns=columns), baseline)

    xlsx_bytes = xlsx_make([["证件类型", "证件号码", "姓名", "账号", "金额", "备注"]] + [
        ["0", r.id_number, r.name, r.account, float(r.amount), r.remark] for r in payroll.rows])
    xlsx_compare(xlsx_bytes, count)
    (rows, errors), _ = timed("payroll_rows_from_sheet, .xlsx", count,
                              lambda: payroll_rows_from_sheet(data=xlsx_bytes, filename="工资.xlsx",
                                                              columns=columns), baseline)
    if len(rows) != count or errors:
        raise SystemExit(f"the .xlsx should read back whole: {len(rows)} rows, {errors[:3]}")


if __name__ == "__main__":
    main()
