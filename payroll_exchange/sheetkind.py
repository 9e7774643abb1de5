"""Which reader a file goes to. The bytes decide before the name does ("工资.xls" is often an
.xlsx renamed by hand, or HTML or tab-separated text exported by an HR system), and what we do
not read is named in the user's words, with how to save it so that we do."""

from __future__ import annotations

from payroll_exchange.cells import save_as_xlsx, unreadable

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File: .xls, and encrypted .xlsx
# BIFF2–4 worksheets are bare record streams starting with a BOF record (id, then its length).
_OLD_BIFF = {b"\x09\x00": "BIFF2 (Excel 2.x)", b"\x09\x02": "BIFF3 (Excel 3.0)", b"\x09\x04": "BIFF4 (Excel 4.0)"}
_HTML_STARTS = (b"<!doctype html", b"<html", b"<table", b"<head", b"<meta", b"<body", b"<style", b"<!--")
_TEXT_SUFFIXES = ("csv", "txt")
_SHEET_SUFFIXES = ("xls", "xlsx", "xlsm", "et")


def biff_old_refused(version: str) -> Exception:
    return save_as_xlsx("sheet_biff_old", f"文件是 {version} 格式的旧版 Excel 工作表，不能读取。",
                        f"the file is an old {version} Excel worksheet, which we do not read.")


def _markup(data: bytes) -> str | None:
    """"html" or "xml2003" when the bytes are markup that Excel opens under a .xls name."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(_HTML_STARTS):
        return "html"
    if head.startswith(b"<?xml"):
        if b"progid=\"excel.sheet\"" in head or b"urn:schemas-microsoft-com:office:spreadsheet" in head:
            return "xml2003"
        if b"<html" in head:
            return "html"
    return None


def sheet_kind(data: bytes, filename: str) -> str:
    """"xlsx" (any zip: the xlsx reader names .ods, .xlsb and Strict Open XML), "xls" (a
    Compound File: the xls reader names encrypted workbooks), "csv" or "tsv-xls" (text under a
    spreadsheet name: read only when it is regular tab-separated text)."""
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == OLE_MAGIC:
        return "xls"
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if data[:2] in _OLD_BIFF and int.from_bytes(data[2:4], "little") in (4, 6, 8, 16):
        raise biff_old_refused(_OLD_BIFF[data[:2]])
    markup = _markup(data)
    if markup == "html":
        raise save_as_xlsx("sheet_html", f"{filename!r} 实际上是网页（HTML）文件，不是 Excel 工作簿"
                           "（人事系统常这样导出 .xls）。",
                           f"{filename!r} is a web page (HTML), not an Excel workbook (HR systems often export "
                           ".xls files this way).")
    if markup == "xml2003":
        raise save_as_xlsx("sheet_xml2003", f"{filename!r} 是“XML 电子表格 2003”文件，不能读取。",
                           f"{filename!r} is an XML Spreadsheet 2003 file, which we do not read.")
    if suffix in _TEXT_SUFFIXES:
        return "csv"
    if suffix == "ods":
        raise save_as_xlsx("sheet_ods", "文件是 OpenDocument 表格 (.ods)，不能读取。",
                           "the file is an OpenDocument spreadsheet (.ods), which we do not read.")
    if suffix in _SHEET_SUFFIXES and data and b"\0" not in data[:4096]:
        return "tsv-xls"
    raise unreadable(f"不支持的文件类型 {filename!r}。请使用 .xlsx、.xls 或 .csv 文件。",
                     f"{filename!r} is not a supported file type. Use an .xlsx, .xls or .csv file.",
                     "sheet_type")
