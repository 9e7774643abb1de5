"""Cells as Excel writes them: formula template rows, dates and times (the same text from .xls
and .xlsx), East Asian date formats, conditional-format number formats, _x000D_ escapes."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

import pytest
import xlwt
from openpyxl import Workbook

from payroll_exchange.sheets import ColumnMap, NumericText, payroll_sheet_read, sheet_rows
from tests.exchange.handmade import inline, sheet_xml, styles_xml, workbook

COLUMNS = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5)
HEAD = ("".join(inline(f"{c}1", h) for c, h in zip("ABCDE", ["证件类型", "证件号码", "姓名", "账号", "金额"],
                                                    strict=True)))


def person(row: int, name: str, account: str, amount: str) -> str:
    return (f'<row r="{row}">{inline(f"A{row}", "1")}{inline(f"B{row}", f"E1234567{row}")}{inline(f"C{row}", name)}'
            f'{inline(f"D{row}", account)}<c r="E{row}"><v>{amount}</v></c></row>')


def template_row(row: int) -> str:
    """A row of a template whose formulas were dragged down: Excel cached "" in every cell."""
    return (f'<row r="{row}">' + "".join(f'<c r="{c}{row}" t="str"><f>IF(Sheet2!{c}{row}="","",Sheet2!{c}{row})</f>'
                                         "<v></v></c>" for c in "ABCDE") + "</row>")


# ---------------------------------------------------------------- formulas

def test_template_rows_of_empty_formula_results_are_blank_rows_not_counted_not_refused() -> None:
    rows = (f'<row r="1">{HEAD}</row>' + person(2, "王伟", "6222020200112345679", "8500")
            + person(3, "李娜", "6217000010012345677", "4350.5") + "".join(template_row(r) for r in range(4, 40)))
    data = workbook([("工资", "visible", sheet_xml(rows))])
    columns = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5, record_count=2)
    read = payroll_sheet_read(data=data, filename="工资.xlsx", columns=columns)
    assert read.errors == []
    assert [(r.seq, r.name, str(r.amount)) for r in read.rows] == [(2, "王伟", "8500"), (3, "李娜", "4350.5")]


def test_a_formula_with_no_cached_value_is_still_refused_with_advice() -> None:
    rows = (f'<row r="1">{HEAD}</row>' + person(2, "王伟", "6222020200112345679", "8500")
            + f'<row r="3">{inline("A3", "1")}{inline("B3", "E7654321")}{inline("C3", "李娜")}'
              f'{inline("D3", "6217000010012345677")}<c r="E3"><f>4000+350.5</f></c></row>')
    read = payroll_sheet_read(data=workbook([("工资", "visible", sheet_xml(rows))]), filename="工资.xlsx",
                              columns=COLUMNS)
    assert [(e.code, e.row, e.field) for e in read.errors] == [("cell_formula", 3, "amount")]
    assert "没有计算结果的公式" in read.errors[0].zh
    assert "选择性粘贴 → 数值" in read.errors[0].zh
    assert [r.seq for r in read.rows] == [2]


# ---------------------------------------------------------------- dates and times

VALUES = [(datetime(2026, 3, 5, 13, 45, 30), "yyyy-mm-dd hh:mm:ss", "2026-03-05T13:45:30"),  # noqa: DTZ001
          (datetime(2026, 3, 5), "yyyy-mm-dd", "2026-03-05T00:00:00"),  # noqa: DTZ001
          (datetime(2026, 3, 5, 8, 0), 'yyyy"年"m"月"d"日" h:mm', "2026-03-05T08:00:00"),  # noqa: DTZ001
          (time(8, 30), "h:mm", "08:30:00"),
          (timedelta(hours=26, minutes=30), "[h]:mm:ss", "1 day, 2:30:00"),
          (8500.0, "#,##0.00", "8500")]


def xlsx_cells(values: list[tuple[object, str, str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for c, (value, number_format, _) in enumerate(values, 1):
        sheet.cell(row=1, column=c, value=value).number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xls_cells(values: list[tuple[object, str, str]]) -> bytes:
    book = xlwt.Workbook()
    sheet = book.add_sheet("工资")
    for c, (value, number_format, _) in enumerate(values):
        if isinstance(value, timedelta):
            value = value.total_seconds() / 86400  # xlwt writes durations as the serial they are
        sheet.write(0, c, value, xlwt.easyxf(num_format_str=number_format))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_dates_and_times_give_the_same_text_in_xls_and_xlsx_time_part_kept() -> None:
    expected = [text for _, _, text in VALUES]
    from_xlsx = list(sheet_rows(data=xlsx_cells(VALUES), filename="工资.xlsx"))
    from_xls = list(sheet_rows(data=xls_cells(VALUES), filename="工资.xls"))
    assert from_xlsx == [(1, expected)]
    assert from_xls == [(1, expected)]


def test_a_number_cell_keeps_the_stored_double_for_the_amount_code() -> None:
    # Excel stores sums such as 3300.0000000000005 and shows 3300.00 (the amount code decides).
    hand = workbook([("工资", "visible", sheet_xml('<row r="1"><c r="A1"><v>3300.0000000000005</v></c></row>'))])
    by_xlwt = xls_cells([(3300.0000000000005, "0.00", "")])
    for data, filename in ((hand, "工资.xlsx"), (by_xlwt, "工资.xls")):
        rows = list(sheet_rows(data=data, filename=filename))
        assert rows == [(1, ["3300.0000000000005"])]
        assert isinstance(rows[0][1][0], NumericText)


@pytest.mark.parametrize(("format_id", "serial", "text"), [
    (27, "46082", "2026-03-01T00:00:00"),  # yyyy"年"m"月"
    (28, "46086", "2026-03-05T00:00:00"),  # m"月"d"日"
    (30, "46086", "2026-03-05T00:00:00"),  # m-d-yy
    (31, "46086.75", "2026-03-05T18:00:00"),  # yyyy"年"m"月"d"日"
    (32, "0.3541666666666667", "08:30:00"),  # h"时"mm"分"
    (33, "46086.5", "12:00:00"),  # h"时"mm"分"ss"秒": a time of day, the date part is not shown
    (34, "0.75", "18:00:00"),  # 上午/下午h"时"mm"分"
    (35, "0.0006944444444444445", "00:01:00"),
    (36, "46082", "2026-03-01T00:00:00"),
    (50, "46082", "2026-03-01T00:00:00"),
    (55, "0.5", "12:00:00"),
    (56, "0.5", "12:00:00"),
    (57, "46082", "2026-03-01T00:00:00"),
    (58, "46086", "2026-03-05T00:00:00"),
    (37, "46086", "46086"),  # #,##0 ;(#,##0): a number format between the two ranges
])
def test_east_asian_builtin_formats_read_as_excel_shows_them(format_id: int, serial: str, text: str) -> None:
    data = workbook([("工资", "visible", sheet_xml(f'<row r="1"><c r="A1" s="1"><v>{serial}</v></c></row>'))],
                    styles=styles_xml([0, format_id]))
    assert list(sheet_rows(data=data, filename="工资.xlsx")) == [(1, [text])]


def test_number_formats_of_conditional_formats_do_not_change_a_cell() -> None:
    # Style 1 shows 0.00; a conditional format (dxf) reuses id 164 with a date code.
    styles = styles_xml([0, 164], custom={164: "0.00"},
                        dxfs='<dxf><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></dxf>'
                             '<dxf><numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></dxf>')
    data = workbook([("工资", "visible", sheet_xml('<row r="1"><c r="A1" s="1"><v>8500.5</v></c></row>'))],
                    styles=styles)
    assert list(sheet_rows(data=data, filename="工资.xlsx")) == [(1, ["8500.5"])]


def test_xstring_escapes_are_decoded_in_shared_inline_and_formula_strings() -> None:
    shared = ["<si><t>三月_x000D_\n工资</t></si>", "<si><t>a_x005F_x000D_b</t></si>"]
    rows = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
            f'{inline("C1", "王伟_x0009_")}<c r="D1" t="str"><f>C1</f><v>李_x000A_娜</v></c></row>')
    data = workbook([("工资", "visible", sheet_xml(rows))], shared=shared)
    assert list(sheet_rows(data=data, filename="工资.xlsx")) == [(1, ["三月\r\n工资", "a_x000D_b", "王伟\t",
                                                                       "李\n娜"])]
