"""Which worksheet, which rows: the one visible sheet with data, --sheet, hidden and filtered
rows, hidden columns; .xlsx (openpyxl, as Excel writes the same attributes) and .xls (xlwt)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import xlwt
from openpyxl import Workbook

from payroll_exchange.errors import ExchangeError
from payroll_exchange.sheets import (
    ColumnMap,
    SheetOptions,
    employee_sheet_read,
    payroll_sheet_read,
    sheet_open,
    sheet_rows,
)

CARDS = ["6222020200112345679", "6217000010012345677", "6222600260001072444", "6212260200123456789"]
HEADINGS = ["证件类型", "证件号码", "姓名", "账号", "金额", "备注"]
COLUMNS = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5, remark=6)
PEOPLE = [["1", "E12345678", "王伟", CARDS[0], "8500.00", "三月工资"],
          ["1", "E22345678", "李娜", CARDS[1], "4350.50", ""],
          ["1", "E32345678", "张强", CARDS[2], "6100.00", ""],
          ["1", "E42345678", "刘洋", CARDS[3], "5200.00", ""]]


def xlsx(sheets: list[tuple[str, list[list], str]], *, hidden_rows: tuple[int, ...] = (),
         hidden_columns: str = "", autofilter: bool = False) -> bytes:
    """Worksheets (title, rows, state); hidden rows and columns and an autofilter on the first."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for index, (title, rows, state) in enumerate(sheets):
        sheet = workbook.create_sheet(title)
        sheet.sheet_state = state
        for row in rows:
            sheet.append(row)
        if index == 0:
            for number in hidden_rows:
                sheet.row_dimensions[number].hidden = True
            for letter in hidden_columns:
                sheet.column_dimensions[letter].hidden = True
            if autofilter:
                sheet.auto_filter.ref = f"A1:F{len(rows)}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xls(sheets: list[tuple[str, list[list], int]], *, hidden_rows: tuple[int, ...] = (),
        hidden_columns: tuple[int, ...] = ()) -> bytes:
    """The same in BIFF8 (visibility 0 visible, 1 hidden, 2 very hidden)."""
    workbook = xlwt.Workbook(encoding="utf-8")
    for index, (title, rows, visibility) in enumerate(sheets):
        sheet = workbook.add_sheet(title)
        sheet.visibility = visibility
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value not in (None, ""):
                    sheet.write(r, c, value)
        if index == 0:
            for number in hidden_rows:
                sheet.row(number - 1).hidden = True
            for column in hidden_columns:
                sheet.col(column - 1).hidden = True
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


PAYROLL = [HEADINGS, *PEOPLE]
NOTES = [["说明"], ["三月工资，4 人"]]


def names(read) -> list[str]:
    return [row.name for row in read.rows]


# ---------------------------------------------------------------- which worksheet

@pytest.mark.parametrize(("data", "filename"), [
    (xlsx([("说明", [], "visible"), ("工资", PAYROLL, "visible"), ("旧表", NOTES, "hidden"),
           ("参数", NOTES, "veryHidden")]), "工资.xlsx"),
    (xls([("说明", [], 0), ("工资", PAYROLL, 0), ("旧表", NOTES, 1), ("参数", NOTES, 2)]), "工资.xls"),
])
def test_the_one_visible_sheet_with_data_is_read_and_hidden_sheets_are_not(data: bytes, filename: str) -> None:
    read = payroll_sheet_read(data=data, filename=filename, columns=COLUMNS)
    assert read.info.sheet == "工资"
    assert read.errors == []
    assert names(read) == ["王伟", "李娜", "张强", "刘洋"]


@pytest.mark.parametrize(("data", "filename"), [
    (xlsx([("工资", PAYROLL, "visible"), ("奖金", PAYROLL[:2], "visible"), ("空表", [], "visible")]), "工资.xlsx"),
    (xls([("工资", PAYROLL, 0), ("奖金", PAYROLL[:2], 0), ("空表", [], 0)]), "工资.xls"),
])
def test_several_visible_sheets_with_data_are_refused_listing_them(data: bytes, filename: str) -> None:
    with pytest.raises(ExchangeError) as refused:
        payroll_sheet_read(data=data, filename=filename, columns=COLUMNS)
    assert refused.value.code == "sheet_choose"
    assert refused.value.zh == ("无法读取表格：工作簿中有 2 个工作表都有数据：“工资”、“奖金”。"
                                "请用“--sheet 名称”指明要读取哪一个。")
    assert refused.value.en == ("cannot read the spreadsheet: 2 worksheets hold data: '工资', '奖金'. "
                                "Name the one to read with --sheet NAME.")
    read = payroll_sheet_read(data=data, filename=filename, columns=COLUMNS, options=SheetOptions(sheet="奖金"))
    assert (read.info.sheet, names(read)) == ("奖金", ["王伟"])


@pytest.mark.parametrize(("data", "filename"), [
    (xlsx([("说明", NOTES, "visible"), ("工资", PAYROLL, "hidden")]), "工资.xlsx"),
    (xls([("说明", NOTES, 0), ("工资", PAYROLL, 2)]), "工资.xls"),
])
def test_a_hidden_sheet_is_read_only_when_named(data: bytes, filename: str) -> None:
    read = payroll_sheet_read(data=data, filename=filename, columns=COLUMNS)
    assert (read.info.sheet, read.rows) == ("说明", [])
    named = payroll_sheet_read(data=data, filename=filename, columns=COLUMNS, options=SheetOptions(sheet="工资"))
    assert (named.info.sheet, len(named.rows)) == ("工资", 4)


def test_a_sheet_name_that_does_not_exist_lists_the_sheets() -> None:
    data = xlsx([("工资", PAYROLL, "visible"), ("说明", NOTES, "hidden")])
    with pytest.raises(ExchangeError) as refused:
        sheet_open(data=data, filename="工资.xlsx", options=SheetOptions(sheet="四月"))
    assert refused.value.code == "sheet_not_found"
    assert "没有名为“四月”的工作表。工作簿中的工作表有：“工资”、“说明”" in refused.value.zh
    # Case and surrounding spaces do not matter when nothing matches exactly.
    data = xlsx([("Payroll", PAYROLL, "visible")])
    info, _ = sheet_open(data=data, filename="p.xlsx", options=SheetOptions(sheet=" payroll"))
    assert info.sheet == "Payroll"


# ---------------------------------------------------------------- hidden and filtered rows

@pytest.mark.parametrize(("data", "filename", "how"), [
    (xlsx([("工资", PAYROLL, "visible")], hidden_rows=(3, 4)), "工资.xlsx", "被隐藏"),
    (xlsx([("工资", PAYROLL, "visible")], hidden_rows=(3, 4), autofilter=True), "工资.xlsx", "被隐藏或被筛选掉"),
    (xls([("工资", PAYROLL, 0)], hidden_rows=(3, 4)), "工资.xls", "被隐藏"),
])
def test_hidden_rows_are_refused_by_default_naming_each(data: bytes, filename: str, how: str) -> None:
    with pytest.raises(ExchangeError) as refused:
        payroll_sheet_read(data=data, filename=filename, columns=COLUMNS)
    assert refused.value.code == "sheet_hidden_rows"
    assert refused.value.zh.startswith(f"无法读取表格：工作表“工资”的第 3、4 行{how}，屏幕上看不到")
    assert "--hidden-rows skip" in refused.value.zh
    assert "rows 3, 4 of the worksheet '工资' are hidden" in refused.value.en
    with pytest.raises(ExchangeError):
        list(sheet_rows(data=data, filename=filename))  # the old entry point refuses them too


@pytest.mark.parametrize(("data", "filename"), [
    (xlsx([("工资", PAYROLL, "visible")], hidden_rows=(3, 4)), "工资.xlsx"),
    (xls([("工资", PAYROLL, 0)], hidden_rows=(3, 4)), "工资.xls"),
])
def test_hidden_rows_option_skip_or_include_decides(data: bytes, filename: str) -> None:
    skipped = payroll_sheet_read(data=data, filename=filename, columns=COLUMNS,
                                 options=SheetOptions(hidden_rows="skip"))
    assert [(r.seq, r.name) for r in skipped.rows] == [(2, "王伟"), (5, "刘洋")]
    assert sum(r.amount for r in skipped.rows) == Decimal("13700.00")
    assert (skipped.info.hidden_rows, skipped.info.hidden_rows_decision) == ((3, 4), "skip")
    included = payroll_sheet_read(data=data, filename=filename, columns=COLUMNS,
                                  options=SheetOptions(hidden_rows="include"))
    assert [r.seq for r in included.rows] == [2, 3, 4, 5]
    assert (included.info.hidden_rows, included.info.hidden_rows_decision) == ((3, 4), "include")


def test_skipped_hidden_rows_do_not_count_for_the_record_count() -> None:
    data = xlsx([("工资", PAYROLL, "visible")], hidden_rows=(4,))
    columns = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5, record_count=3)
    read = payroll_sheet_read(data=data, filename="工资.xlsx", columns=columns,
                              options=SheetOptions(hidden_rows="skip"))
    assert (read.errors, len(read.rows)) == ([], 3)


def test_hidden_rows_without_data_or_above_the_data_do_not_count() -> None:
    # A hidden helper row above the heading and a hidden empty row below the data.
    rows = [["内部编号 2026-03"], HEADINGS, *PEOPLE[:2], []]
    data = xlsx([("工资", rows, "visible")], hidden_rows=(1, 5))
    columns = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5, first_row=3)
    read = payroll_sheet_read(data=data, filename="工资.xlsx", columns=columns)
    assert (names(read), read.info.hidden_rows) == (["王伟", "李娜"], ())
    assert read.info.headers == dict(enumerate(HEADINGS, 1))


# ---------------------------------------------------------------- hidden columns

@pytest.mark.parametrize(("data", "filename"), [
    (xlsx([("工资", PAYROLL, "visible")], hidden_columns="E"), "工资.xlsx"),
    (xls([("工资", PAYROLL, 0)], hidden_columns=(5,)), "工资.xls"),
])
def test_a_hidden_mapped_column_is_refused(data: bytes, filename: str) -> None:
    with pytest.raises(ExchangeError) as refused:
        payroll_sheet_read(data=data, filename=filename, columns=COLUMNS)
    assert refused.value.code == "sheet_hidden_columns"
    assert refused.value.zh.startswith("无法读取表格：第 5 列（金额）被隐藏，屏幕上看不到")
    assert "column 5 (amount) is hidden" in refused.value.en
    read = payroll_sheet_read(data=data, filename=filename, columns=COLUMNS,
                              options=SheetOptions(hidden_rows="include"))
    assert len(read.rows) == 4


def test_a_hidden_column_the_mapping_does_not_read_is_harmless() -> None:
    rows = [[*HEADINGS, "内部备注"], *[[*p, "x"] for p in PEOPLE]]
    data = xlsx([("工资", rows, "visible")], hidden_columns="G")
    read = employee_sheet_read(data=data, filename="工资.xlsx", columns=ColumnMap(name=3, account=4, id_type=1,
                                                                                 id_number=2))
    assert (len(read.rows), read.info.hidden_columns) == (4, (7,))
