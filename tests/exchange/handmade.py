"""Hand-written .xlsx packages for what openpyxl and LibreOffice do not write (Excel's own cells,
Strict Open XML, broken or hostile zips). Laid out as Excel lays them out."""

from __future__ import annotations

import io
import struct
import zipfile

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
STRICT_MAIN_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_REL_NS = "http://purl.oclc.org/ooxml/officeDocument/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'

CONTENT_TYPES = (f'{XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 '<Default Extension="xml" ContentType="application/xml"/></Types>')


def sheet_xml(rows: str, *, before: str = "", after: str = "", ns: str = MAIN_NS) -> str:
    """A worksheet: ``before`` sheetData (<cols>…), ``after`` it (<autoFilter>…)."""
    return f'{XML_HEAD}<worksheet xmlns="{ns}">{before}<sheetData>{rows}</sheetData>{after}</worksheet>'


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def styles_xml(cell_formats: list[int], *, custom: dict[int, str] | None = None, dxfs: str = "") -> str:
    """styles.xml with ``cellXfs`` of the given numFmtIds (style index = list index)."""
    num_fmts = "".join(f'<numFmt numFmtId="{i}" formatCode="{code}"/>' for i, code in (custom or {}).items())
    xfs = "".join(f'<xf numFmtId="{i}" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/>'
                  for i in cell_formats)
    return (f'{XML_HEAD}<styleSheet xmlns="{MAIN_NS}"><numFmts count="{len(custom or {})}">{num_fmts}</numFmts>'
            f'<fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders>'
            f'<cellXfs count="{len(cell_formats)}">{xfs}</cellXfs><dxfs>{dxfs}</dxfs></styleSheet>')


def workbook(sheets: list[tuple[str, str, str]] | None = None, *, shared: list[str] | None = None,
             styles: str | None = None, names: dict[str, str] | None = None,
             extra: dict[str, bytes | str] | None = None, duplicate: tuple[str, str] | None = None) -> bytes:
    """An .xlsx of worksheets (name, state, sheet xml), shared strings (already <si>…</si>),
    styles; ``names`` renames zip entries (part name → name in the zip); ``duplicate`` adds a
    second entry of the same name (name, content)."""
    sheets = sheets or [("工资", "visible", sheet_xml(""))]
    names = names or {}
    entries = "".join(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"'
                      f'{"" if state == "visible" else f" state={chr(34)}{state}{chr(34)}"}/>'
                      for i, (name, state, _) in enumerate(sheets, 1))
    rels = "".join(f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                   for i in range(1, len(sheets) + 1))
    rels += (f'<Relationship Id="rId100" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
             f'<Relationship Id="rId101" Type="{REL_NS}/styles" Target="styles.xml"/>')
    parts: dict[str, bytes | str] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": f'{XML_HEAD}<Relationships xmlns="{PKG_NS}"><Relationship Id="rId1" '
                       f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'{XML_HEAD}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>{entries}</sheets>'
                           '</workbook>',
        "xl/_rels/workbook.xml.rels": f'{XML_HEAD}<Relationships xmlns="{PKG_NS}">{rels}</Relationships>',
        "xl/sharedStrings.xml": f'{XML_HEAD}<sst xmlns="{MAIN_NS}">{"".join(shared or [])}</sst>',
        "xl/styles.xml": styles or styles_xml([0]),
    }
    for i, (_, _, xml) in enumerate(sheets, 1):
        parts[f"xl/worksheets/sheet{i}.xml"] = xml
    parts.update(extra or {})
    return zip_of({names.get(name, name): content for name, content in parts.items()}, duplicate=duplicate)


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2026, 3, 1, 0, 0, 0))  # fixed: the same bytes every time
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def zip_of(parts: dict[str, bytes | str], *, duplicate: tuple[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(_entry(name), content)
        if duplicate is not None:
            archive.writestr(_entry(duplicate[0]), duplicate[1])  # zipfile warns, and writes it
    return buffer.getvalue()


# ---------------------------------------------------------------- Compound File (OLE2) by hand

ENDOFCHAIN, FREESECT, FATSECT = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
SECTOR = 512


def _directory_entry(name: str, kind: int, start: int, size: int, child: int = FREESECT,
                     right: int = FREESECT) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", FREESECT, right, child) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
            + struct.pack("<IIHH", start, size, 0, 0)[:8] + b"\0" * 4)


def compound_file(streams: list[tuple[str, bytes]]) -> bytes:
    """A version 3 Compound File holding the streams, each padded to at least 4,096 bytes so that
    it lives in regular sectors (no mini stream). Names must be listed in directory order (shorter
    first), as they are chained as right siblings of the first."""
    padded = [(name, data.ljust(4096, b"\0")) for name, data in streams]
    sectors = [-(-len(data) // SECTOR) for _, data in padded]
    total = 2 + sum(sectors)  # sector 0: the FAT, sector 1: the directory
    assert total <= SECTOR // 4, "one FAT sector is enough for these tests"
    fat = [FATSECT, ENDOFCHAIN]
    starts = []
    for count in sectors:
        starts.append(len(fat))
        fat += [len(fat) + i + 1 for i in range(count - 1)] + [ENDOFCHAIN]
    fat += [FREESECT] * (SECTOR // 4 - len(fat))
    entries = [_directory_entry("Root Entry", 5, ENDOFCHAIN, 0, child=1 if padded else FREESECT)]
    for i, ((name, data), start) in enumerate(zip(padded, starts, strict=True)):
        right = i + 2 if i + 1 < len(padded) else FREESECT
        entries.append(_directory_entry(name, 2, start, len(streams[i][1]) if len(streams[i][1]) >= 4096
                                        else len(data), right=right))
    directory = b"".join(entries).ljust(SECTOR, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
              + struct.pack("<I", 0) + struct.pack("<I", FREESECT) * 108)
    body = struct.pack(f"<{SECTOR // 4}I", *fat) + directory + b"".join(data.ljust(n * SECTOR, b"\0")
                                                                       for (_, data), n in zip(padded, sectors,
                                                                                               strict=True))
    return header + body


def ole_stream(data: bytes, name: str) -> bytes:
    """One stream of a Compound File (the xlwt output's Workbook stream, to rebuild it)."""
    from xlrd import compdoc

    document = compdoc.CompDoc(data, logfile=io.StringIO())
    return bytes(document.get_named_stream(name))


# ---------------------------------------------------------------- files we do not read

ROW = f'<row r="1">{inline("A1", "1")}{inline("B1", "E1234567")}{inline("C1", "王伟")}</row>'


def xls_bytes() -> bytes:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("工资")
    for c, value in enumerate(["1", "E1234567", "王伟", "6222020200112345679", 8500.5]):
        sheet.write(1, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def strict_workbook() -> bytes:
    return zip_of({
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": f'{XML_HEAD}<Relationships xmlns="{PKG_NS}"><Relationship Id="rId1" '
                       f'Type="{STRICT_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'{XML_HEAD}<workbook xmlns="{STRICT_MAIN_NS}" xmlns:r="{STRICT_REL_NS}"><sheets>'
                           '<sheet name="工资" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'{XML_HEAD}<Relationships xmlns="{PKG_NS}"><Relationship Id="rId1" '
                                      f'Type="{STRICT_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
                                      "</Relationships>",
        "xl/worksheets/sheet1.xml": sheet_xml(ROW, ns=STRICT_MAIN_NS),
    })


def xlsb_workbook() -> bytes:
    return zip_of({
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": f'{XML_HEAD}<Relationships xmlns="{PKG_NS}"><Relationship Id="rId1" Type="http://schemas.'
                       'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                       'Target="xl/workbook.bin"/></Relationships>',
        "xl/workbook.bin": b"\x83\x01\x00",
    })


def ods_document() -> bytes:
    return zip_of({"mimetype": "application/vnd.oasis.opendocument.spreadsheet",
                   "content.xml": '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:'
                                  'xmlns:office:1.0"/>'})


def encrypted_xlsx() -> bytes:
    # What Excel (and LibreOffice) write for an .xlsx with an open password: a Compound File
    # holding the encryption parameters and the encrypted zip.
    return compound_file([("EncryptionInfo", b"\x04\x00\x04\x00\x40\x00\x00\x00"),
                          ("EncryptedPackage", struct.pack("<Q", 9000) + bytes(range(256)) * 36)])


def encrypted_xls() -> bytes:
    # BIFF8 with a FILEPASS record (XOR obfuscation) right after the workbook's BOF.
    stream = ole_stream(xls_bytes(), "Workbook")
    bof_end = 4 + struct.unpack("<H", stream[2:4])[0]
    filepass = struct.pack("<HHHHH", 0x002F, 6, 0, 0x1234, 0x5678)
    return compound_file([("Workbook", stream[:bof_end] + filepass + stream[bof_end:])])


def biff(version: int) -> bytes:
    # BOF (id 0x0009/0x0209/0x0409), a LABEL-like record, EOF: Excel 2.x-4.0 worksheets.
    bof_id = {2: 0x0009, 3: 0x0209, 4: 0x0409}[version]
    return struct.pack("<HHHH", bof_id, 4 if version == 2 else 6, 0x0002, 0x0010) + (
        b"" if version == 2 else b"\0\0") + struct.pack("<HH", 0x000A, 0)


HTML = ('\ufeff\r\n<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:'
        'office:excel"><head><meta http-equiv=Content-Type content="text/html; charset=utf-8"></head><body><table>'
        '<tr><td>证件类型</td><td>姓名</td></tr><tr><td>1</td><td>王伟</td></tr></table></body></html>')
XML_2003 = ('<?xml version="1.0"?>\r\n<?mso-application progid="Excel.Sheet"?>\r\n<Workbook xmlns="urn:schemas-'
            'microsoft-com:office:spreadsheet"><Worksheet ss:Name="工资"/></Workbook>')




# ---------------------------------------------------------------- the committed hand-made fixtures

def _excel_template() -> bytes:
    """Two people, then rows 4–30 of Excel's dragged-down =IF(…,"",…): <c t="str"><f>…</f><v/></c>."""
    head = "".join(inline(f"{c}1", h) for c, h in zip("ABCDE", ["证件类型", "证件号码", "姓名", "账号", "金额"],
                                                      strict=True))
    people = "".join(f'<row r="{r}">{inline(f"A{r}", "1")}{inline(f"B{r}", f"E123456{r}")}{inline(f"C{r}", n)}'
                     f'{inline(f"D{r}", a)}<c r="E{r}"><v>{v}</v></c></row>'
                     for r, n, a, v in ((2, "王伟", "6222020200112345679", "8500"),
                                        (3, "李娜", "6217000010012345677", "4350.5")))
    template = "".join(f'<row r="{r}">' + "".join(f'<c r="{c}{r}" t="str"><f>IF(名单!{c}{r}="","",名单!{c}{r})</f>'
                                                  "<v/></c>" for c in "ABCDE") + "</row>" for r in range(4, 31))
    return workbook([("工资", "visible", sheet_xml(f'<row r="1">{head}</row>{people}{template}'))])


def _east_asian_builtin() -> bytes:
    """Column A: the serial 46086.75 (2026-03-05 18:00) in each East Asian built-in format id
    (row = id order below), no format code in styles.xml, as Chinese Excel writes them."""
    ids = [*range(27, 37), *range(50, 59)]
    rows = "".join(f'<row r="{r}"><c r="A{r}" s="{r}"><v>46086.75</v></c></row>' for r in range(1, len(ids) + 1))
    return workbook([("日期", "visible", sheet_xml(rows))], styles=styles_xml([0, *ids]))


def _dxfs_format() -> bytes:
    """8500.5 in a 0.00 style (custom id 164); a conditional format (dxf) reuses id 164 as a date."""
    styles = styles_xml([0, 164], custom={164: "0.00"},
                        dxfs='<dxf><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></dxf>')
    return workbook([("工资", "visible", sheet_xml('<row r="1"><c r="A1" s="1"><v>8500.5</v></c></row>'))],
                    styles=styles)


def _xstring_escapes() -> bytes:
    shared = ["<si><t>三月_x000D_\n工资</t></si>", "<si><t>a_x005F_x000D_b</t></si>"]
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    return workbook([("工资", "visible", sheet_xml(rows))], shared=shared)


def _shared_strings_case() -> bytes:
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    return workbook([("工资", "visible", sheet_xml(rows))], shared=["<si><t>王伟</t></si>", "<si><t>李娜</t></si>"],
                    names={"xl/sharedStrings.xml": "xl/SharedStrings.xml"})


def _duplicate_entries() -> bytes:
    import warnings

    other = sheet_xml(f'<row r="1">{inline("A1", "另一份名单")}</row>')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name, and writes it
        return workbook([("工资", "visible", sheet_xml(ROW))], duplicate=("xl/worksheets/sheet1.xml", other))


HANDMADE = {
    "strict.xlsx": strict_workbook,
    "xlsb_stub.xlsb": xlsb_workbook,
    "biff2.xls": lambda: biff(2),
    "biff3.xls": lambda: biff(3),
    "biff4.xls": lambda: biff(4),
    "xml2003.xls": lambda: XML_2003.encode("utf-8"),
    "encrypted_xor.xls": encrypted_xls,
    "excel_template.xlsx": _excel_template,
    "east_asian_builtin.xlsx": _east_asian_builtin,
    "dxfs_format.xlsx": _dxfs_format,
    "xstring_escapes.xlsx": _xstring_escapes,
    "shared_strings_case.xlsx": _shared_strings_case,
    "duplicate_entries.xlsx": _duplicate_entries,
}


def main() -> None:
    """Write the hand-made fixtures: .venv/bin/python -m tests.exchange.handmade"""
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "fixtures" / "sheets" / "handmade"
    folder.mkdir(parents=True, exist_ok=True)
    for name, build in HANDMADE.items():
        (folder / name).write_bytes(build())


if __name__ == "__main__":
    main()
