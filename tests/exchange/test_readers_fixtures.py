"""The readers on files made by LibreOffice Calc (tests/fixtures/sheets/, INDEX.md): the sheet
chosen, hidden rows and columns, encodings, file types, dates, what the user sees."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from payroll_exchange.errors import ExchangeError
from payroll_exchange.sheets import ColumnMap, SheetOptions, payroll_sheet_read, sheet_rows

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sheets"
COLUMNS = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5, remark=6)
CLEAN_AMOUNTS = [Decimal(a) for a in ("8500.00", "4350.50", "12345.67", "6200.00", "3000.50", "7800.25",
                                      "5600.00", "9150.80", "4200.00", "6666.66")]


DEFAULT = SheetOptions()


def read(name: str, options: SheetOptions = DEFAULT, columns: ColumnMap = COLUMNS):
    return payroll_sheet_read(data=(FIXTURES / name).read_bytes(), filename=name, columns=columns, options=options)


def refused(name: str, options: SheetOptions = DEFAULT, columns: ColumnMap = COLUMNS) -> ExchangeError:
    with pytest.raises(ExchangeError) as caught:
        read(name, options, columns)
    return caught.value


@pytest.mark.parametrize(("name", "kind", "sheet", "encoding"), [
    ("payroll_clean.xlsx", "xlsx", "工资", None),
    ("payroll_clean.xls", "xls", "工资", None),
    ("payroll_utf8.csv", "csv", None, "utf-8"),
    ("payroll_gb18030.csv", "csv", None, "gb18030"),
    ("payroll_utf16.csv", "csv", None, "utf-16"),  # the BOM says UTF-16: read without --encoding
    ("payroll_tab.xls", "tsv", None, "utf-8"),
])
def test_the_clean_payroll_reads_the_same_from_every_readable_kind(name: str, kind: str, sheet: str | None,
                                                                    encoding: str | None) -> None:
    result = read(name)
    assert result.errors == []
    assert [r.seq for r in result.rows] == list(range(2, 12))
    assert [r.amount for r in result.rows] == CLEAN_AMOUNTS
    assert sum(r.amount for r in result.rows) == Decimal("67814.38")
    assert (result.info.kind, result.info.sheet, result.info.encoding) == (kind, sheet, encoding)
    assert result.info.headers[3] == "姓名"
    reference = read("payroll_clean.xlsx").rows
    assert [(r.name, r.account, r.id_number) for r in result.rows] == [(r.name, r.account, r.id_number)
                                                                        for r in reference]


def test_tab_text_under_an_xls_name_says_so() -> None:
    info = read("payroll_tab.xls").info
    assert info.kind_zh == "制表符分隔的文本文件"
    assert "按制表符分隔的文本文件读取" in info.note_zh


@pytest.mark.parametrize(("name", "code", "words"), [
    ("payroll_clean.ods", "sheet_ods", "OpenDocument 表格"),
    ("two_sheets.ods", "sheet_ods", "OpenDocument 表格"),
    ("payroll_html.xls", "sheet_html", "实际上是网页（HTML）文件"),
    ("payroll_password.xlsx", "sheet_encrypted", "设有打开密码"),
    ("payroll_password.xls", "sheet_encrypted", "设有打开密码"),
    ("payroll_semicolon.csv", "sheet_delimiter", "分号“;”"),
])
def test_files_we_do_not_read_are_named(name: str, code: str, words: str) -> None:
    error = refused(name)
    assert error.code == code
    assert words in error.zh
    if code != "sheet_delimiter":
        assert "另存为“Excel 工作簿 (*.xlsx)”" in error.zh


@pytest.mark.parametrize(("name", "encoding", "names"), [
    ("payroll_big5.csv", "big5", ["陳志明", "林淑芬", "黃建宏", "張雅婷"]),
    ("payroll_shiftjis.csv", "shift_jis", ["佐藤花子", "鈴木一郎", "高橋さくら", "田中ユウキ"]),
    ("payroll_cp1252.csv", "cp1252", ["Müller Jürgen", "Lefèvre Amélie", "Núñez José", "Øster Søren"]),
])
def test_foreign_encodings_are_refused_then_read_right_with_encoding(name: str, encoding: str,
                                                                      names: list[str]) -> None:
    error = refused(name)
    assert error.code == "sheet_encoding"
    assert "--encoding" in error.zh
    assert [r.name for r in read(name, SheetOptions(encoding=encoding)).rows] == names


@pytest.mark.parametrize("name", ["two_sheets.xlsx", "two_sheets.xls"])
def test_two_sheets_with_data_are_refused_and_the_one_named_is_read(name: str) -> None:
    error = refused(name)
    assert error.code == "sheet_choose"
    assert "“一月”、“二月”" in error.zh
    second = read(name, SheetOptions(sheet="二月"))
    assert second.info.sheet == "二月"
    assert [r.name for r in second.rows][0] == "杨帆"
    assert [r.name for r in second.rows][-1] == "吴婷"


@pytest.mark.parametrize("name", ["hidden_sheet.xlsx", "hidden_sheet.xls"])
def test_a_hidden_sheet_is_not_read_unless_named(name: str) -> None:
    result = read(name)
    assert (result.info.sheet, [r.seq for r in result.rows]) == ("工资", [2, 3, 4, 5, 6, 7])
    assert read(name, SheetOptions(sheet="旧名单")).info.sheet == "旧名单"


@pytest.mark.parametrize(("name", "rows", "how"), [
    ("hidden_rows.xlsx", (6, 7), "被隐藏"),
    ("hidden_rows.xls", (6, 7), "被隐藏"),
    ("autofilter.xlsx", (5, 8), "被隐藏或被筛选掉"),
    ("autofilter.xls", (5, 8), "被隐藏或被筛选掉"),
])
def test_hidden_and_filtered_rows_are_named_and_the_option_decides(name: str, rows: tuple[int, int],
                                                                   how: str) -> None:
    error = refused(name)
    assert error.code == "sheet_hidden_rows"
    assert f"第 {rows[0]}、{rows[1]} 行{how}" in error.zh
    skipped = read(name, SheetOptions(hidden_rows="skip"))
    assert len(skipped.rows) == 8
    assert not {r.seq for r in skipped.rows} & set(rows)
    assert skipped.info.hidden_rows == rows
    assert len(read(name, SheetOptions(hidden_rows="include")).rows) == 10


@pytest.mark.parametrize("name", ["hidden_column.xlsx", "hidden_column.xls"])
def test_a_hidden_amount_column_is_refused_and_a_mapping_without_it_is_not(name: str) -> None:
    error = refused(name)
    assert error.code == "sheet_hidden_columns"
    assert "第 5 列（金额）被隐藏" in error.zh
    people = payroll_sheet_read(data=(FIXTURES / name).read_bytes(), filename=name,
                                columns=ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=6))
    assert people.info.hidden_columns == (5,)


@pytest.mark.parametrize("name", ["template_formulas.xlsx", "template_formulas.xls"])
def test_template_rows_of_dragged_down_formulas_are_blank_rows(name: str) -> None:
    # .xlsx: <c t="str"><f>…</f><v></v></c>. .xls: LibreOffice caches every text result as the
    # number 0, so a row holding only formulas that cached 0 is blank (as on screen).
    result = read(name, columns=ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=7, record_count=5))
    assert result.errors == []
    assert [r.seq for r in result.rows] == [2, 3, 4, 5, 6]
    assert [r.amount for r in result.rows] == [Decimal(a) for a in ("8800.00", "4650.50", "12645.67", "6500.00",
                                                                    "3300.50")]


def test_east_asian_dates_give_the_same_text_in_xls_and_xlsx() -> None:
    expected = ["2026-03-05T00:00:00", "2026-03-01T00:00:00", "2026-12-25T00:00:00", "2026-03-05T14:30:00",
                "2026-03-05T00:00:00", "14:30:00", "08:05:09", "09:00:00"]
    for name in ("dates_east_asian.xlsx", "dates_east_asian.xls"):
        rows = list(sheet_rows(data=(FIXTURES / name).read_bytes(), filename=name))
        assert [cells[1] for _, cells in rows[1:]] == expected


# ---------------------------------------------------------------- hand-made (tests/exchange/handmade.py)

HANDMADE = FIXTURES / "handmade"


@pytest.mark.parametrize(("name", "code"), [
    ("strict.xlsx", "sheet_strict"),
    ("xlsb_stub.xlsb", "sheet_xlsb"),
    ("biff2.xls", "sheet_biff_old"),
    ("biff3.xls", "sheet_biff_old"),
    ("biff4.xls", "sheet_biff_old"),
    ("xml2003.xls", "sheet_xml2003"),
    ("encrypted_xor.xls", "sheet_encrypted"),
    ("duplicate_entries.xlsx", "sheet_zip_duplicate"),
])
def test_handmade_files_we_do_not_read_are_refused_with_their_code(name: str, code: str) -> None:
    with pytest.raises(ExchangeError) as caught:
        list(sheet_rows(data=(HANDMADE / name).read_bytes(), filename=name))
    assert caught.value.code == code
    assert caught.value.zh.startswith("无法读取表格：")


def handmade_rows(name: str) -> list[tuple[int, list[str | None]]]:
    return list(sheet_rows(data=(HANDMADE / name).read_bytes(), filename=name))


def test_handmade_excel_template_rows_are_blank() -> None:
    data = (HANDMADE / "excel_template.xlsx").read_bytes()
    result = payroll_sheet_read(data=data, filename="excel_template.xlsx",
                                columns=ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5,
                                                  record_count=2))
    assert result.errors == []
    assert [(r.seq, r.name, r.amount) for r in result.rows] == [(2, "王伟", Decimal("8500")),
                                                                (3, "李娜", Decimal("4350.5"))]


def test_handmade_cells_read_as_excel_shows_them() -> None:
    times = {32, 33, 34, 35, 55, 56}
    ids = [*range(27, 37), *range(50, 59)]
    assert [cells[0] for _, cells in handmade_rows("east_asian_builtin.xlsx")] == [
        "18:00:00" if i in times else "2026-03-05T18:00:00" for i in ids]
    assert handmade_rows("dxfs_format.xlsx") == [(1, ["8500.5"])]
    assert handmade_rows("xstring_escapes.xlsx") == [(1, ["三月\r\n工资", "a_x000D_b"])]
    assert handmade_rows("shared_strings_case.xlsx") == [(1, ["王伟", "李娜"])]
