"""The streaming .xlsx reader gives openpyxl's values, and refuses hostile or damaged files."""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import date, datetime, time, timedelta
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from payroll_exchange import opc
from payroll_exchange.errors import ExchangeError
from payroll_exchange.sheets import ColumnMap, FormulaText, NumericText, payroll_rows_from_sheet, sheet_rows
from payroll_exchange.xlsx import xlsx_rows

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
BOMB_DTD = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
            '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')


def normalized(rows: object) -> dict[int, list[tuple[type, object]]]:
    """Row number → (type, value) of each cell, trailing empty cells and empty rows dropped:
    openpyxl keeps both, sheet_rows skips them."""
    result = {}
    for number, values in rows:
        values = list(values)
        while values and values[-1] is None:
            values.pop()
        if values:
            result[number] = [(type(v), v) for v in values]
    return result


def openpyxl_rows(data: bytes, *, data_only: bool = True) -> dict[int, list[tuple[type, object]]]:
    sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=data_only).worksheets[0]
    sheet.reset_dimensions()
    return normalized(enumerate(sheet.iter_rows(values_only=True), 1))


def ours(data: bytes) -> dict[int, list[tuple[type, object]]]:
    return normalized(xlsx_rows(data=data))


def by_openpyxl(rows: list[list[object]], *, number_format: str | None = None, date1904: bool = False) -> bytes:
    book = Workbook()
    book.epoch = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)  # noqa: DTZ001
    sheet = book.active
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            if value is not None:
                cell = sheet.cell(row=r, column=c, value=value)
                if number_format:
                    cell.number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def by_hand(sheet_xml: str, *, shared: list[str] | None = None, workbook: str | None = None,
            extra: dict[str, bytes | str] | None = None, sheet_part: str = "xl/worksheets/sheet1.xml") -> bytes:
    """A minimal .xlsx laid out as Excel writes one (shared strings, <v> values)."""
    rels = (f'{XML_HEAD}<Relationships xmlns="{PKG_NS}"><Relationship Id="rId1" Type="{REL_NS}/worksheet" '
            f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL_NS}/sharedStrings" '
            f'Target="sharedStrings.xml"/><Relationship Id="rId3" Type="{REL_NS}/worksheet" '
            f'Target="worksheets/sheet2.xml"/></Relationships>')
    parts: dict[str, bytes | str] = {
        "[Content_Types].xml": f'{XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-'
        'types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
        'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.'
        'xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        "_rels/.rels": f'{XML_HEAD}<Relationships xmlns="{PKG_NS}"><Relationship Id="rId1" Type="{REL_NS}/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": workbook or f'{XML_HEAD}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
        '<sheet name="工资" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": rels,
        sheet_part: sheet_xml,
        "xl/sharedStrings.xml": f'{XML_HEAD}<sst xmlns="{MAIN_NS}">{"".join(shared or [])}</sst>',
    }
    parts.update(extra or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def sheet_of(rows_xml: str, prefix: str = "") -> str:
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{MAIN_NS}"' if prefix else f'xmlns="{MAIN_NS}"'
    return f"{XML_HEAD}<{p}worksheet {xmlns}><{p}sheetData>{rows_xml}</{p}sheetData></{p}worksheet>"


def refused(data: bytes) -> ExchangeError:
    with pytest.raises(ExchangeError) as caught:
        list(xlsx_rows(data=data))
    return caught.value


# ---------------------------------------------------------------- same values as openpyxl

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")) | st.sampled_from(
    "王李张伟芳娜工资　 \t\n"), min_size=1, max_size=12)
NUMBER = st.integers(min_value=-(10**19), max_value=10**19) | st.floats(allow_nan=False, allow_infinity=False)
CELL = st.none() | TEXT | NUMBER | st.booleans()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(CELL, max_size=8), max_size=8))
def test_workbooks_written_by_openpyxl_read_as_openpyxl_reads_them(rows: list[list[object]]) -> None:
    rows = [[v.strip("=") if isinstance(v, str) else v for v in row] for row in rows]  # "=…" is a formula
    data = by_openpyxl(rows)
    assert ours(data) == openpyxl_rows(data)


@st.composite
def excel_cells(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A row's cells as Excel and other programs write them: shared strings with rich runs and
    phonetic guides, inline strings, numbers, booleans, formula text results, skipped cells,
    with and without r attributes. Returns (cells xml, shared strings)."""
    shared: list[str] = []
    cells = []
    column = 0
    for _ in range(draw(st.integers(0, 7))):
        with_ref = draw(st.booleans())
        # Without r a cell is the one after the previous cell (as openpyxl counts); with r, a gap.
        column += draw(st.integers(1, 3)) if with_ref else 1
        ref = f' r="{"ABCDEFGHIJKLMNOPQRSTUVWXYZ"[column - 1]}{{row}}"' if with_ref else ""
        kind = draw(st.sampled_from(["shared", "rich", "inline", "number", "bool", "str", "empty"]))
        text = escape(draw(TEXT))
        if kind == "shared":
            shared.append(f'<si><t xml:space="preserve">{text}</t></si>')
            cells.append(f'<c{ref} t="s"><v>{len(shared) - 1}</v></c>')
        elif kind == "rich":
            shared.append(f'<si><r><rPr><b/></rPr><t>{text}</t></r><r><t>尾</t></r>'
                          f'<rPh sb="0" eb="1"><t>ルビ</t></rPh></si>')
            cells.append(f'<c{ref} t="s"><v>{len(shared) - 1}</v></c>')
        elif kind == "inline":
            cells.append(f'<c{ref} t="inlineStr"><is><t>{text}</t><rPh sb="0" eb="1"><t>x</t></rPh></is></c>')
        elif kind == "number":
            cells.append(f'<c{ref}><v>{draw(NUMBER)!r}</v></c>')
        elif kind == "bool":
            cells.append(f'<c{ref} t="b"><v>{int(draw(st.booleans()))}</v></c>')
        elif kind == "str":
            cells.append(f'<c{ref} t="str"><f>A1&amp;""</f><v>{text}</v></c>')
        else:
            cells.append(f'<c{ref} s="0"/>')
    return "".join(cells), shared


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), excel_cells()), max_size=8), st.booleans())
def test_hand_written_workbooks_read_as_openpyxl_reads_them(rows: list, numbered: bool) -> None:
    shared: list[str] = []
    xml = []
    number = 0
    for gap, (cells, strings) in rows:
        number += 1 + gap if numbered else 1
        offset = len(shared)  # renumber this row's shared strings after the earlier rows'
        for i in range(len(strings) - 1, -1, -1):
            cells = cells.replace(f't="s"><v>{i}</v>', f't="s"><v>{i + offset}</v>')
        shared.extend(strings)
        row_ref = f' r="{number}"' if numbered else ""
        xml.append(f"<row{row_ref}>{cells.replace('{row}', str(number))}</row>")
    data = by_hand(sheet_of("".join(xml)), shared=shared)
    assert ours(data) == openpyxl_rows(data)


def test_skipped_cells_and_rows_are_filled_with_none() -> None:
    shared = ["<si><t>王伟</t></si>", '<si><r><t>李</t></r><r><t>娜</t></r><rPh sb="0" eb="1"><t>リ</t></rPh></si>']
    data = by_hand(sheet_of('<row r="2"><c r="B2" t="s"><v>0</v></c><c r="D2"><v>8500.5</v></c></row>'
                            '<row r="5"><c t="s"><v>1</v></c><c><v>12</v></c></row><row><c r="C6" t="b"><v>1</v>'
                            '</c></row>'), shared=shared)
    assert list(xlsx_rows(data=data)) == [(2, [None, "王伟", None, 8500.5]), (5, ["李娜", 12]), (6, [None, None, True])]
    assert ours(data) == openpyxl_rows(data)


def test_prefixed_namespace_reads_the_same() -> None:
    rows = ('<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>王伟</x:t></x:is></x:c>'
            '<x:c r="B1"><x:v>7</x:v></x:c></x:row>')
    assert list(xlsx_rows(data=by_hand(sheet_of(rows, prefix="x")))) == [(1, ["王伟", 7])]


def test_two_visible_sheets_with_data_are_refused_naming_both_and_one_is_read_when_named() -> None:
    workbook = (f'{XML_HEAD}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets><sheet name="B" sheetId="2" '
                'r:id="rId3"/><sheet name="A" sheetId="1" r:id="rId1"/></sheets></workbook>')
    second = sheet_of('<row r="1"><c r="A1" t="inlineStr"><is><t>第二个文件</t></is></c></row>')
    data = by_hand(sheet_of('<row r="1"><c r="A1"><v>1</v></c></row>'), workbook=workbook,
                   extra={"xl/worksheets/sheet2.xml": second})
    error = refused(data)
    assert error.code == "sheet_choose"
    assert "2 个工作表都有数据：“B”、“A”" in error.zh
    assert "--sheet" in error.zh
    assert "--sheet NAME" in error.en
    assert list(xlsx_rows(data=data, sheet="B")) == [(1, ["第二个文件"])]
    assert list(xlsx_rows(data=data, sheet="A")) == [(1, [1])]


@pytest.mark.parametrize("date1904", [False, True])
@pytest.mark.parametrize(("value", "number_format"), [
    (datetime(2026, 3, 5, 0, 0), "yyyy-mm-dd"),  # noqa: DTZ001
    (datetime(2026, 3, 5, 13, 45, 30), "yyyy-mm-dd h:mm:ss"),  # noqa: DTZ001
    (datetime(1900, 1, 15, 0, 0), "yyyy/m/d"),  # noqa: DTZ001 - before Excel's phantom 1900-02-29
    (time(8, 30), "h:mm"),
    (timedelta(days=1, hours=2), "[h]:mm:ss"),
    (date(2026, 12, 1), '[$-804]yyyy"年"m"月"d"日"'),
    (46086, "0.00"),
])
def test_date_formatted_numbers_read_as_openpyxl_reads_them(value: object, number_format: str, date1904: bool) -> None:
    data = by_openpyxl([["发薪日期", value]], number_format=number_format, date1904=date1904)
    assert ours(data) == openpyxl_rows(data)


def test_formula_without_cached_value_is_formula_text_in_one_pass() -> None:
    data = by_openpyxl([["王伟", "=4000+350.5", 3]])
    rows = list(xlsx_rows(data=data))
    assert rows == [(1, ["王伟", "=4000+350.5", 3])]
    assert isinstance(rows[0][1][1], FormulaText)
    assert rows[0][1] == [v for _, v in openpyxl_rows(data, data_only=False)[1]]  # openpyxl: a second pass


def test_formula_with_cached_value_gives_the_value_and_an_empty_text_result_is_an_empty_cell() -> None:
    data = by_hand(sheet_of('<row r="1"><c r="A1"><f>4000+350.5</f><v>4350.5</v></c><c r="B1" t="str">'
                            '<f>IF(A1="","",A1)</f><v></v></c><c r="C1" t="str"><f>""</f><v/></c>'
                            '<c r="D1" t="str"><f>C1</f></c></row>'))
    rows = list(xlsx_rows(data=data))
    # B1 and C1: Excel calculated "" (a template's formula dragged down); D1 has no <v>: nothing calculated it.
    assert rows == [(1, [4350.5, None, None, "=C1"])]
    assert [type(v) for v in rows[0][1]] == [float, type(None), type(None), FormulaText]


def test_sheet_rows_text_and_markers_are_unchanged() -> None:
    data = by_hand(sheet_of('<row r="1"><c r="A1"><v>6222020200112345679</v></c><c r="B1"><v>6.22202002001123E+18'
                            '</v></c><c r="C1"><v>8500.0</v></c><c r="D1" t="b"><v>0</v></c></row>'))
    rows = list(sheet_rows(data=data, filename="工资.xlsx"))
    assert rows == [(1, ["6222020200112345679", "6.22202002001123e+18", "8500", "FALSE"])]
    assert [type(v) for v in rows[0][1]] == [NumericText, NumericText, NumericText, str]


# ---------------------------------------------------------------- refused files


@pytest.mark.parametrize("where", ["sheet", "shared strings"])
def test_xml_bomb_is_refused_not_expanded(where: str) -> None:
    bomb_sheet = f'{XML_HEAD}{BOMB_DTD}<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="A1" t="inlineStr">' \
                 '<is><t>&lol3;</t></is></c></row></sheetData></worksheet>'
    if where == "sheet":
        data = by_hand(bomb_sheet)
    else:
        data = by_hand(sheet_of('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), extra={
            "xl/sharedStrings.xml": f'{XML_HEAD}{BOMB_DTD}<sst xmlns="{MAIN_NS}"><si><t>&lol3;</t></si></sst>'})
    error = refused(data)
    assert error.code == "sheet_xml_refused"
    assert "XML 炸弹" in error.zh
    assert "XML bomb" in error.en


def test_external_entity_is_refused() -> None:
    sheet = (f'{XML_HEAD}<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><worksheet xmlns="{MAIN_NS}">'
             '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>')
    assert refused(by_hand(sheet)).code == "sheet_xml_refused"


def test_missing_worksheet_part_is_named() -> None:
    data = by_hand(sheet_of(""), sheet_part="xl/worksheets/other.xml")
    error = refused(data)
    assert error.code == "sheet_unreadable"
    assert "xl/worksheets/sheet1.xml" in error.zh
    assert "the worksheet '工资', xl/worksheets/sheet1.xml, is missing" in error.en


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really a zip", by_hand(sheet_of(""))[:200]])
def test_corrupt_zip_is_refused_in_both_languages(data: bytes) -> None:
    error = refused(data)
    assert error.code == "sheet_unreadable"
    assert error.zh.startswith("无法读取表格：文件不是有效的 .xlsx")
    assert error.en.startswith("cannot read the spreadsheet: the file is not a valid .xlsx")


def test_damaged_sheet_xml_is_refused_through_sheet_rows() -> None:
    data = by_hand(f'{XML_HEAD}<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="A1"><v>1</v></row>')
    with pytest.raises(ExchangeError) as caught:
        list(sheet_rows(data=data, filename="工资.xlsx"))
    assert caught.value.code == "sheet_xml_damaged"
    assert caught.value.zh.startswith("无法读取表格：文件部件 xl/worksheets/sheet1.xml 的 XML 已损坏（第 1 行")
    assert "the XML of the part xl/worksheets/sheet1.xml is damaged (line 1" in caught.value.en


def declared_size(data: bytes, name: str, size: int) -> bytes:
    """The zip with ``name``'s uncompressed size in the central directory changed to ``size``:
    a zip bomb's claim without building one."""
    entry = data.rindex(b"PK\x01\x02", 0, data.index(name.encode(), data.index(b"PK\x01\x02")) + 1)
    return data[:entry + 24] + struct.pack("<I", size) + data[entry + 28:]


def test_absurd_worksheet_size_is_refused_before_reading() -> None:
    data = declared_size(by_hand(sheet_of('<row r="1"><c r="A1"><v>1</v></c></row>')), "xl/worksheets/sheet1.xml",
                         600 * 1024 * 1024)
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml").file_size == 600 * 1024 * 1024
    error = refused(data)
    assert error.code == "sheet_too_large"
    assert "629,145,600" in error.zh
    assert "over the limit of 524,288,000" in error.en


def test_total_inflated_bytes_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opc, "MAX_TOTAL_BYTES", 100_000)
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 5000))
    error = refused(by_hand(sheet_of(rows)))
    assert error.code == "sheet_too_large"
    assert "100,000" in error.en


def text_at(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


NA_CELL = '<f>VLOOKUP(A2,B:C,2,0)</f><v>#N/A</v>'


def test_error_cell_in_a_column_we_do_not_read_does_not_block_the_file() -> None:
    data = by_hand(sheet_of(
        f'<row r="1">{text_at("A1", "证件类型")}</row>'
        f'<row r="2">{text_at("A2", "0")}{text_at("B2", "110101199003070015")}{text_at("C2", "张三")}'
        f'{text_at("D2", "6222020200112233446")}{text_at("E2", "100.00")}<c r="G2" t="e">{NA_CELL}</c></row>'))
    rows, errors = payroll_rows_from_sheet(data=data, filename="pay.xlsx",
                                           columns=ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5))
    assert errors == []
    assert [(r.name, r.account) for r in rows] == [("张三", "6222020200112233446")]


def test_error_cell_in_a_column_we_read_is_refused_naming_row_and_field() -> None:
    data = by_hand(sheet_of(
        f'<row r="1">{text_at("A1", "证件类型")}</row>'
        f'<row r="2">{text_at("A2", "0")}{text_at("B2", "110101199003070015")}{text_at("C2", "张三")}'
        f'<c r="D2" t="e">{NA_CELL}</c>{text_at("E2", "100.00")}</row>'))
    _rows, errors = payroll_rows_from_sheet(data=data, filename="pay.xlsx",
                                            columns=ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5))
    assert [(e.code, e.row, e.field) for e in errors] == [("cell_error_value", 2, "account")]
    assert "#N/A" in errors[0].zh


@pytest.mark.parametrize("rows", [
    '<row r="3"><c><v>1</v></c></row><row r="2"><c><v>2</v></c></row>',
    '<row r="2000000"><c><v>1</v></c></row>',
    '<row r="1"><c r="XFE1"><v>1</v></c></row>',
    '<row r="1"><c r="1A"><v>1</v></c></row>',
])
def test_rows_out_of_order_and_references_past_excel_limits_are_refused(rows: str) -> None:
    assert refused(by_hand(sheet_of(rows))).code == "sheet_unreadable"


def test_quoteattr_escaped_sheet_names_do_not_matter() -> None:
    workbook = (f'{XML_HEAD}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets><sheet name={quoteattr("工资&<>")} '
                'sheetId="1" r:id="rId1"/></sheets></workbook>')
    data = by_hand(sheet_of('<row r="1"><c r="A1"><v>1</v></c></row>'), workbook=workbook)
    assert list(xlsx_rows(data=data)) == [(1, [1])]
