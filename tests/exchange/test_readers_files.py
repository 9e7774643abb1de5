"""What cannot be read is named, with how to save it instead; the readers are safe readers that
raise only ExchangeError, each class of file with its own code."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from payroll_exchange.errors import ExchangeError
from payroll_exchange.sheets import ColumnMap, SheetOptions, employee_sheet_read, payroll_sheet_read, sheet_rows
from tests.exchange.handmade import (
    HTML,
    ROW,
    XML_2003,
    biff,
    compound_file,
    encrypted_xls,
    encrypted_xlsx,
    inline,
    ods_document,
    ole_stream,
    sheet_xml,
    strict_workbook,
    styles_xml,
    workbook,
    xls_bytes,
    xlsb_workbook,
    zip_of,
)

COLUMNS = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5)
SAVE_AS = "另存为“Excel 工作簿 (*.xlsx)”后重新导入"
SAVE_AS_EN = 'save it as "Excel Workbook (*.xlsx)" and import again'


@pytest.mark.parametrize(("data", "filename", "code", "zh", "en"), [
    (strict_workbook(), "工资.xlsx", "sheet_strict", "“Strict Open XML 电子表格”", "Strict Open XML Spreadsheet"),
    (encrypted_xlsx(), "工资.xlsx", "sheet_encrypted", "设有打开密码（已加密）", "protected by a password"),
    (encrypted_xls(), "工资.xls", "sheet_encrypted", "设有打开密码（已加密）", "protected by a password"),
    (xlsb_workbook(), "工资.xlsb", "sheet_xlsb", "Excel 二进制工作簿 (.xlsb)", "Excel Binary Workbook (.xlsb)"),
    (ods_document(), "工资.ods", "sheet_ods", "OpenDocument 表格", "OpenDocument spreadsheet (.ods"),
    (ods_document(), "工资.xlsx", "sheet_ods", "OpenDocument 表格", "OpenDocument spreadsheet (.ods"),
    (biff(2), "工资.xls", "sheet_biff_old", "BIFF2 (Excel 2.x) 格式的旧版", "old BIFF2 (Excel 2.x) Excel"),
    (biff(3), "工资.xls", "sheet_biff_old", "BIFF3 (Excel 3.0) 格式的旧版", "old BIFF3 (Excel 3.0) Excel"),
    (biff(4), "工资.xls", "sheet_biff_old", "BIFF4 (Excel 4.0) 格式的旧版", "old BIFF4 (Excel 4.0) Excel"),
    (HTML.encode("utf-8"), "工资.xls", "sheet_html", "实际上是网页（HTML）文件", "is a web page (HTML)"),
    (HTML.encode("gbk", errors="ignore"), "人事导出.xls", "sheet_html", "人事系统常这样导出", "HR systems"),
    (XML_2003.encode("utf-8"), "工资.xls", "sheet_xml2003", "“XML 电子表格 2003”", "XML Spreadsheet 2003"),
])
def test_files_we_do_not_read_are_named_with_how_to_save_them(data: bytes, filename: str, code: str, zh: str,
                                                               en: str) -> None:
    with pytest.raises(ExchangeError) as refused:
        payroll_sheet_read(data=data, filename=filename, columns=COLUMNS)
    assert refused.value.code == code
    assert refused.value.zh.startswith("无法读取表格：")
    assert zh in refused.value.zh
    assert SAVE_AS in refused.value.zh
    assert en in refused.value.en
    assert SAVE_AS_EN in refused.value.en


def test_an_ole_file_without_a_workbook_is_not_an_excel_file() -> None:
    with pytest.raises(ExchangeError) as refused:
        list(sheet_rows(data=compound_file([("WordDocument", b"\xec\xa5" + b"\0" * 600)]), filename="工资.xls"))
    assert refused.value.code == "sheet_type"
    assert "没有 Excel 工作簿" in refused.value.zh


# ---------------------------------------------------------------- safe reader

def test_a_zip_with_duplicate_entry_names_is_refused() -> None:
    other = sheet_xml(f'<row r="1">{inline("A1", "另一份")}</row>')
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = workbook([("工资", "visible", sheet_xml(ROW))], duplicate=("xl/worksheets/sheet1.xml", other))
    with pytest.raises(ExchangeError) as refused:
        list(sheet_rows(data=data, filename="工资.xlsx"))
    assert refused.value.code == "sheet_zip_duplicate"
    assert "zip 中有两个同名的部件 xl/worksheets/sheet1.xml" in refused.value.zh
    assert "two parts named xl/worksheets/sheet1.xml" in refused.value.en


def test_part_names_differing_only_in_case_are_also_duplicates() -> None:
    data = workbook([("工资", "visible", sheet_xml(ROW))],
                    extra={"xl/worksheets/Sheet1.xml": sheet_xml(f'<row r="1">{inline("A1", "另一份")}</row>')})
    with pytest.raises(ExchangeError) as refused:
        list(sheet_rows(data=data, filename="工资.xlsx"))
    assert refused.value.code == "sheet_zip_duplicate"


def test_part_names_are_matched_case_insensitively() -> None:
    rows = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>'
            '<c r="D1" t="s"><v>3</v></c><c r="E1"><v>8500.5</v></c></row>')
    shared = ["<si><t>1</t></si>", "<si><t>E1234567</t></si>", "<si><t>王伟</t></si>",
              "<si><t>6222020200112345679</t></si>"]
    data = workbook([("工资", "visible", sheet_xml(rows))], shared=shared,
                    names={"xl/sharedStrings.xml": "xl/SharedStrings.xml",
                           "xl/worksheets/sheet1.xml": "XL/Worksheets/Sheet1.XML"})
    assert "xl/SharedStrings.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    read = payroll_sheet_read(data=data, filename="工资.xlsx", columns=ColumnMap(name=3, account=4, id_type=1,
                                                                                id_number=2, amount=5,
                                                                                first_row=1))
    assert read.errors == []
    assert [(r.name, r.account, str(r.amount)) for r in read.rows] == [("王伟", "6222020200112345679", "8500.5")]


def cells(xml: str) -> bytes:
    return workbook([("工资", "visible", sheet_xml(f'<row r="1">{xml}</row>'))], shared=["<si><t>王伟</t></si>"],
                    styles=styles_xml([0, 14]))


@pytest.mark.parametrize(("data", "code", "where"), [
    (cells('<c r="A1" t="s"><v>7</v></c>'), "cell_error", "单元格 A1"),  # shared string past the table
    (cells('<c r="A1" t="s"><v>-1</v></c>'), "cell_error", "单元格 A1"),  # would be the last string
    (cells('<c r="B1" t="s"><v>x</v></c>'), "cell_error", "单元格 B1"),
    (cells('<c r="A1"><v>abc</v></c>'), "cell_error", "单元格 A1"),
    (cells('<c r="A1" t="b"><v>yes</v></c>'), "cell_error", "单元格 A1"),
    (cells('<c r="A1" t="d"><v>2026-13-45</v></c>'), "cell_error", "单元格 A1"),
    (cells('<c r="A1" s="1"><v>1e308</v></c>'), "cell_error", "单元格 A1"),
    (workbook([("工资", "visible", sheet_xml('<row r="abc"><c><v>1</v></c></row>'))]), "sheet_unreadable", "行号"),
    (workbook([("工资", "visible", sheet_xml("<row><c><v>1</v></row>"))]), "sheet_xml_damaged",
     "xl/worksheets/sheet1.xml 的 XML 已损坏"),
    (workbook(styles="<styleSheet"), "sheet_xml_damaged", "xl/styles.xml 的 XML 已损坏"),
    (workbook(extra={"xl/workbook.xml": "<workbook>"}), "sheet_xml_damaged", "xl/workbook.xml"),
    (workbook(extra={"xl/styles.xml": '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                                      'main"><cellXfs><xf numFmtId="x"/></cellXfs></styleSheet>'}),
     "sheet_unreadable", "xl/styles.xml 中的编号 'x' 无效"),
    (workbook()[:-30], "sheet_unreadable", "zip 结构已损坏"),
    (zip_of({"word/document.xml": "<w/>"}), "sheet_type", "不是 Excel 工作簿"),
])
def test_damaged_xlsx_files_raise_exchange_error_with_their_own_code(data: bytes, code: str, where: str) -> None:
    with pytest.raises(ExchangeError) as refused:
        list(sheet_rows(data=data, filename="工资.xlsx"))
    assert refused.value.code == code
    assert where in refused.value.zh


def corrupted_entry(data: bytes, name: str) -> bytes:
    """The zip with the compressed bytes of ``name`` damaged (the CRC no longer matches)."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    return data[:start + 5] + bytes([data[start + 5] ^ 0xFF]) + data[start + 6:]


def unsupported_method(data: bytes, name: str) -> bytes:
    """The zip with ``name`` claiming compression method 9 (Deflate64), which zipfile lacks, in
    its central directory entry (the one zipfile trusts)."""
    entry = data.index(b"PK\x01\x02")
    while data[entry + 46:entry + 46 + len(name)] != name.encode():
        entry = data.index(b"PK\x01\x02", entry + 4)
    return data[:entry + 10] + struct.pack("<H", 9) + data[entry + 12:]


def test_a_zip_needing_a_newer_zip_version_is_refused_as_damaged() -> None:
    data = workbook()
    entry = data.index(b"PK\x01\x02")
    newer = data[:entry + 6] + struct.pack("<H", 255) + data[entry + 8:]  # "version needed to extract" 25.5
    with pytest.raises(ExchangeError) as refused:
        list(sheet_rows(data=newer, filename="工资.xlsx"))
    assert refused.value.code == "sheet_unreadable"
    assert "zip 结构已损坏" in refused.value.zh


def test_a_damaged_or_unusual_zip_entry_is_refused_naming_the_part() -> None:
    rows = "".join(f'<row r="{r}">{inline(f"A{r}", "王伟" * 5)}</row>' for r in range(1, 200))
    data = workbook([("工资", "visible", sheet_xml(rows))])
    for damaged in (corrupted_entry(data, "xl/worksheets/sheet1.xml"),
                    unsupported_method(data, "xl/worksheets/sheet1.xml")):
        with pytest.raises(ExchangeError) as refused:
            list(sheet_rows(data=damaged, filename="工资.xlsx"))
        assert refused.value.code in ("sheet_unreadable", "sheet_xml_damaged")
        assert "xl/worksheets/sheet1.xml" in refused.value.zh


def test_damaged_xls_files_raise_exchange_error_and_xlrd_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    good = xls_bytes()
    codes = set()
    for cut in (len(good) - 7, len(good) // 2, 600, 100):
        with pytest.raises(ExchangeError) as refused:
            list(sheet_rows(data=good[:cut], filename="工资.xls"))
        codes.add(refused.value.code)
    for position in range(512, len(good), 97):  # every 97th byte of the sectors flipped, one at a time
        damaged = good[:position] + bytes([good[position] ^ 0x5A]) + good[position + 1:]
        try:
            list(sheet_rows(data=damaged, filename="工资.xls"))
        except ExchangeError as error:
            codes.add(error.code)
    assert codes <= {"sheet_xls_damaged", "sheet_type", "sheet_not_found", "sheet_biff_old", "sheet_encrypted",
                     "cell_error"}
    assert "sheet_xls_damaged" in codes
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_the_xls_reader_reads_a_rebuilt_compound_file() -> None:
    # The hand-made Compound File writer is faithful: the same stream reads the same rows.
    data = compound_file([("Workbook", ole_stream(xls_bytes(), "Workbook"))])
    read = employee_sheet_read(data=data, filename="工资.xls",
                               columns=ColumnMap(name=3, account=4, id_type=1, id_number=2),
                               options=SheetOptions())
    assert [(r.seq, r.name) for r in read.rows] == [(2, "王伟")]
