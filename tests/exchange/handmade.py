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


def zip_of(parts: dict[str, bytes | str], *, duplicate: tuple[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
        if duplicate is not None:
            archive.writestr(*duplicate)  # zipfile warns, and writes it: as a hostile file would
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
