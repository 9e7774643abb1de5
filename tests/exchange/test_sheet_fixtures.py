"""Every spreadsheet in tests/fixtures/sheets/ (INDEX.md), read through the public API: what the user sees.

The LibreOffice-made files come from the people in tests/fixtures/sheets/src/people*.csv; the rows
read back are compared with those sources, field by field.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from payroll_exchange.errors import ExchangeError
from payroll_exchange.sheets import ColumnMap, SheetOptions, employee_sheet_read, payroll_sheet_read, sheet_open

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sheets"
COLUMNS = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5, remark=6)
ID_TYPES = {"居民身份证": "0"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def source(name: str = "people.csv") -> list[tuple[int, str, str, Decimal, str, str, str]]:
    """The people of a source CSV as (seq, account, name, amount, id_type, id_number, remark)."""
    with (FIXTURES / "src" / name).open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[1:]
    return [(n, r[3], r[2], Decimal(r[4]), ID_TYPES.get(r[0], r[0]), r[1], r[5]) for n, r in enumerate(rows, 2)]


def read(name: str, columns: ColumnMap = COLUMNS, **options: str):  # noqa: ANN201
    return payroll_sheet_read(data=fixture(name), filename=name, columns=columns, options=SheetOptions(**options))


def as_tuples(rows: list) -> list[tuple]:
    return [(r.seq, r.account, r.name, r.amount, r.id_type, r.id_number, r.remark) for r in rows]


def refused(name: str, columns: ColumnMap = COLUMNS, **options: str) -> ExchangeError:
    with pytest.raises(ExchangeError) as caught:
        read(name, columns, **options)
    return caught.value


def test_every_fixture_is_in_the_index_and_every_indexed_file_exists() -> None:
    index = (FIXTURES / "INDEX.md").read_text(encoding="utf-8")
    listed = {line.split(" | ", 1)[0].strip() for line in index.splitlines() if " | " in line}
    files = {p.name for p in FIXTURES.iterdir() if p.is_file() and p.name != "INDEX.md"}
    assert files <= listed
    assert {name for name in listed if "." in name and "/" not in name} <= files


# ---------------------------------------------------------------- what is read


@pytest.mark.parametrize(("name", "kind", "sheet", "encoding"), [
    ("payroll_clean.xlsx", "xlsx", "工资", None),
    ("payroll_clean.xls", "xls", "工资", None),
    ("payroll_utf8.csv", "csv", None, "utf-8"),
    ("payroll_gb18030.csv", "csv", None, "gb18030"),
    ("payroll_utf16.csv", "csv", None, "utf-16"),
    ("payroll_tab.xls", "tsv", None, "utf-8"),
])
def test_the_clean_sheet_reads_the_people_of_its_source(name: str, kind: str, sheet: str | None,
                                                       encoding: str | None) -> None:
    result = read(name)
    assert result.errors == []
    assert as_tuples(result.rows) == source()[:10]
    assert sum(r.amount for r in result.rows) == Decimal("67814.38")
    assert (result.info.kind, result.info.sheet, result.info.encoding) == (kind, sheet, encoding)
    assert result.info.headers == {1: "证件类型", 2: "证件号码", 3: "姓名", 4: "账号", 5: "金额", 6: "备注"}


def test_tab_separated_text_under_an_xls_name_says_so() -> None:
    info = read("payroll_tab.xls").info
    assert info.kind_zh == "制表符分隔的文本文件"
    assert info.note_zh == "“payroll_tab.xls”不是 Excel 文件，按制表符分隔的文本文件读取。"
    assert "tab-separated" in info.note_en


@pytest.mark.parametrize(("name", "encoding", "people"), [
    ("payroll_big5.csv", "big5", "people_big5.csv"),
    ("payroll_cp1252.csv", "cp1252", "people_cp1252.csv"),
    ("payroll_shiftjis.csv", "shift_jis", "people_shiftjis.csv"),
])
def test_another_encoding_given_reads_the_names_right(name: str, encoding: str, people: str) -> None:
    result = read(name, encoding=encoding)
    assert result.errors == []
    assert as_tuples(result.rows) == source(people)
    assert result.info.encoding == encoding


def test_two_sheets_with_data_read_the_one_named() -> None:
    for sheet, people in (("一月", source()[:5]), ("二月", source()[5:10])):
        result = read("two_sheets.xlsx", sheet=sheet)
        assert result.info.sheet == sheet
        assert [(r.name, r.amount) for r in result.rows] == [(p[2], p[3]) for p in people]
    assert [r.name for r in read("two_sheets.xls", sheet="二月").rows] == ["杨帆", "赵磊", "黄丽", "周杰", "吴婷"]


@pytest.mark.parametrize("name", ["hidden_sheet.xlsx", "hidden_sheet.xls"])
def test_a_hidden_sheet_is_not_read_unless_named(name: str) -> None:
    result = read(name)
    assert result.info.sheet == "工资"
    assert [r.name for r in result.rows] == ["王伟", "李娜", "张敏", "刘洋", "陈静", "杨帆"]
    named = read(name, sheet="旧名单")
    assert named.info.sheet == "旧名单"
    assert [r.name for r in named.rows] == ["周杰", "吴婷", "徐明", "孙悦"]


@pytest.mark.parametrize(("name", "hidden"), [
    ("hidden_rows.xlsx", (6, 7)), ("hidden_rows.xls", (6, 7)), ("autofilter.xlsx", (5, 8)), ("autofilter.xls", (5, 8))])
def test_hidden_and_filtered_rows_are_left_out_or_read_as_decided(name: str, hidden: tuple[int, int]) -> None:
    skipped = read(name, hidden_rows="skip")
    assert skipped.errors == []
    assert [r.seq for r in skipped.rows] == [n for n in range(2, 12) if n not in hidden]
    assert (skipped.info.hidden_rows, skipped.info.hidden_rows_decision) == (hidden, "skip")
    included = read(name, hidden_rows="include")
    assert [r.seq for r in included.rows] == list(range(2, 12))
    assert (included.info.hidden_rows, included.info.hidden_rows_decision) == (hidden, "include")


@pytest.mark.parametrize("name", ["hidden_column.xlsx", "hidden_column.xls"])
def test_a_hidden_column_that_is_not_read_does_not_block(name: str) -> None:
    employees = employee_sheet_read(data=fixture(name), filename=name,
                                    columns=ColumnMap(name=3, account=4, id_type=1, id_number=2))
    assert employees.errors == []
    assert [(r.seq, r.name, r.account) for r in employees.rows] == [(p[0], p[2], p[1]) for p in source()[:6]]
    assert employees.info.hidden_columns == (5,)


@pytest.mark.parametrize("name", ["amounts_float_noise.xls", "amounts_float_noise.xlsx"])
def test_formula_amounts_a_hair_off_the_cent_are_the_cent_value(name: str) -> None:
    result = read(name)
    assert result.errors == []
    assert [r.amount for r in result.rows] == [Decimal(a) for a in ("3300.00", "4500.45", "3000.45", "6302.10",
                                                                      "3000.30")]
    assert all(r.amount.as_tuple().exponent >= -2 for r in result.rows)


@pytest.mark.parametrize(("name", "remark"), [("template_formulas.xlsx", "十二月工资"),
                                              ("template_formulas.xls", None)])
def test_template_rows_dragged_down_with_empty_results_are_blank_rows(name: str, remark: str | None) -> None:
    # Calc's .xls writer stores every text result of a formula as the number 0 (INDEX.md): the
    # remark column (=IF(A2="","","十二月工资")) is not mapped there.
    columns = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=7, remark=8 if remark else None,
                        record_count=5)
    result = read(name, columns)
    assert result.errors == []
    assert [(r.seq, r.name, r.amount, r.remark) for r in result.rows] == [
        (p[0], p[2], p[3] + 300, remark or "") for p in source()[:5]]


@pytest.mark.parametrize("name", ["dates_east_asian.xlsx", "dates_east_asian.xls"])
def test_east_asian_dates_and_times_read_the_same_from_xlsx_and_xls(name: str) -> None:
    info, rows = sheet_open(data=fixture(name), filename=name)
    assert info.sheet == "日期"
    assert [cells[1] for _, cells in rows][1:] == [
        "2026-03-05T00:00:00", "2026-03-01T00:00:00", "2026-12-25T00:00:00", "2026-03-05T14:30:00",
        "2026-03-05T00:00:00", "14:30:00", "08:05:09", "09:00:00"]


# ---------------------------------------------------------------- what is refused, and why


@pytest.mark.parametrize(("name", "code", "zh", "en"), [
    ("payroll_clean.ods", "sheet_ods", "OpenDocument 表格", "OpenDocument spreadsheet"),
    ("two_sheets.ods", "sheet_ods", "另存为“Excel 工作簿 (*.xlsx)”", 'save it as "Excel Workbook (*.xlsx)"'),
    ("amounts_float_noise.ods", "sheet_ods", "OpenDocument 表格", "OpenDocument spreadsheet"),
    ("template_formulas.ods", "sheet_ods", "OpenDocument 表格", "OpenDocument spreadsheet"),
    ("dates_east_asian.ods", "sheet_ods", "OpenDocument 表格", "OpenDocument spreadsheet"),
    ("payroll_password.xlsx", "sheet_encrypted", "设有打开密码", "protected by a password"),
    ("payroll_password.xls", "sheet_encrypted", "设有打开密码", "protected by a password"),
    ("payroll_html.xls", "sheet_html", "网页（HTML）", "web page (HTML)"),
    ("payroll_semicolon.csv", "sheet_delimiter", "分号“;”", 'semicolons ";"'),
    ("payroll_big5.csv", "sheet_encoding", "--encoding", "--encoding (gb18030, big5, utf-16, cp1252)"),
    ("payroll_shiftjis.csv", "sheet_encoding", "--encoding", "--encoding (gb18030, big5, utf-16, cp1252)"),
    ("payroll_cp1252.csv", "sheet_encoding", "--encoding", "--encoding (gb18030, big5, utf-16, cp1252)"),
    ("two_sheets.xlsx", "sheet_choose", "“一月”、“二月”。请用“--sheet 名称”", "'一月', '二月'. Name the one"),
    ("two_sheets.xls", "sheet_choose", "“一月”、“二月”", "--sheet NAME"),
    ("hidden_rows.xlsx", "sheet_hidden_rows", "工作表“工资”的第 6、7 行被隐藏",
     "rows 6, 7 of the worksheet '工资' are hidden"),
    ("hidden_rows.xls", "sheet_hidden_rows", "第 6、7 行被隐藏", "--hidden-rows skip"),
    ("autofilter.xlsx", "sheet_hidden_rows", "第 5、8 行被隐藏或被筛选掉",
     "rows 5, 8 of the worksheet '工资' are hidden or filtered out"),
    ("autofilter.xls", "sheet_hidden_rows", "第 5、8 行被隐藏或被筛选掉", "filtered out"),
    ("hidden_column.xlsx", "sheet_hidden_columns", "第 5 列（金额）被隐藏", "column 5 (amount) is hidden"),
    ("hidden_column.xls", "sheet_hidden_columns", "第 5 列（金额）被隐藏", "column 5 (amount) is hidden"),
])
def test_sheets_refused_as_a_whole_say_why_and_what_to_do(name: str, code: str, zh: str, en: str) -> None:
    error = refused(name)
    assert error.code == code
    assert error.zh.startswith("无法读取表格：")
    assert zh in error.zh
    assert en in error.en


@pytest.mark.parametrize("name", ["total_row.xlsx", "total_row.xls", "total_row.csv", "total_row_unlabelled.xlsx"])
def test_a_total_row_is_refused_as_a_total_row_unless_the_count_ends_before_it(name: str) -> None:
    result = read(name)
    assert [(e.code, e.row) for e in result.errors] == [("total_row", 12)]
    assert "--count 10" in result.errors[0].zh
    assert "--count 10" in result.errors[0].en
    if name != "total_row_unlabelled.xlsx":
        assert "是合计行（“合计”）" in result.errors[0].zh
    else:
        assert "67814.38 等于上面 10 行金额之和" in result.errors[0].zh
    assert as_tuples(result.rows) == source()[:10]  # the total row is no record
    counted = read(name, replace(COLUMNS, record_count=10))
    assert counted.errors == []
    assert as_tuples(counted.rows) == source()[:10]


@pytest.mark.parametrize(("name", "header", "unit"), [
    ("wanyuan_header.xlsx", "金额（万元）", "万元"), ("wanyuan_header.xls", "金额（万元）", "万元"),
    ("qianyuan_header.xlsx", "实发工资(千元)", "千元")])
def test_amounts_headed_in_wanyuan_or_qianyuan_are_refused(name: str, header: str, unit: str) -> None:
    result = read(name)
    first = result.errors[0]
    assert (first.code, first.row, first.field) == ("amount_unit", 1, "amount")
    assert first.zh.startswith(f"第 1 行 金额：表头“{header}”表明金额以{unit}为单位")
    assert "must be in yuan" in first.en


@pytest.mark.parametrize("name", ["amounts_past_cents.xlsx", "amounts_past_cents.xls"])
def test_amounts_past_the_cent_are_refused_as_excel_shows_them(name: str) -> None:
    result = read(name)
    assert result.rows == []
    assert [(e.code, e.row) for e in result.errors] == [("amount_past_cents", 2), ("amount_past_cents", 3),
                                                        ("amount_past_cents", 4)]
    assert ["“2833.33333333333”" in result.errors[0].zh, "“1234.565”" in result.errors[1].zh,
            "“100.125”" in result.errors[2].zh] == [True, True, True]
    assert "2833.3333333333335" not in result.errors[0].en


@pytest.mark.parametrize("name", ["amounts_as_text.xlsx", "amounts_as_text.xls", "amounts_as_text.csv"])
def test_amounts_typed_as_text_read_or_refused_quoting_the_cell(name: str) -> None:
    result = read(name)
    assert [(e.code, e.row) for e in result.errors] == [
        ("amount_decimal_comma", 2), ("amount_decimal_comma", 3), ("amount_decimal_comma", 4),
        ("amount_grouping", 5), ("amount_decimal_comma", 6), ("amount_missing", 13)]
    assert [typed in e.zh for e, typed in zip(result.errors, ["“450,50”", "“3000，5”", "“12,00”", "“1,2,3,4.00”",
                                                               "“3.000,50”", "“-”"], strict=True)] == [True] * 6
    assert [(r.seq, r.amount) for r in result.rows] == [
        (7, Decimal("3000.50")), (8, Decimal("12345.67")), (9, Decimal("1234567.00")), (10, Decimal("8500.00")),
        (11, Decimal("8500.00")), (12, Decimal("3000.50"))]
