"""Text sheets: which encoding (GB18030 only when plausible, --encoding as given), delimiters,
tab-separated text under a .xls name. Names are real names in each encoding."""

from __future__ import annotations

import pytest

from payroll_exchange.errors import ExchangeError
from payroll_exchange.sheets import ColumnMap, SheetOptions, employee_sheet_read, payroll_sheet_read, sheet_open

CARDS = ["6222020200112345679", "6217000010012345677", "6222600260001072444"]
COLUMNS = ColumnMap(name=3, account=4, id_type=1, id_number=2, amount=5)


def sheet(names: list[str], heading: str = "证件类型,证件号码,姓名,账号,金额", delimiter: str = ",") -> str:
    lines = [heading.replace(",", delimiter)]
    lines += [delimiter.join(["1", f"E1234567{i}", name, CARDS[i], f"{5000 + i}.00"]) for i, name in enumerate(names)]
    return "\r\n".join(lines) + "\r\n"


def read_names(data: bytes, filename: str = "工资.csv", encoding: str | None = None) -> tuple[list[str], str | None]:
    read = payroll_sheet_read(data=data, filename=filename, columns=COLUMNS, options=SheetOptions(encoding=encoding))
    assert read.errors == []
    return [r.name for r in read.rows], read.info.encoding


CHINESE = ["王伟", "李娜", "欧阳晓明"]
RARE = ["王喆", "李玥", "张堃"]  # GBK extension characters (not in GB2312), as real names have


@pytest.mark.parametrize(("data", "encoding"), [
    (sheet(CHINESE).encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + sheet(CHINESE).encode("utf-8"), "utf-8"),
    (sheet(CHINESE).encode("gbk"), "gb18030"),
    (sheet(RARE).encode("gbk"), "gb18030"),
    (sheet(["王伟", "李娜", "𠀾明"]).encode("gb18030"), "gb18030"),  # a 4-byte GB18030 character
    ("\ufeff".encode("utf-16-le") + sheet(CHINESE, delimiter="\t").encode("utf-16-le"), "utf-16"),  # Unicode 文本
])
def test_utf8_gbk_and_unicode_text_are_read_without_being_told(data: bytes, encoding: str) -> None:
    names, used = read_names(data)
    assert names in (CHINESE, RARE, ["王伟", "李娜", "𠀾明"])
    assert used == encoding


BIG5 = ["陳大文", "王小明", "林志玲"]
SHIFT_JIS = ["山田太郎", "佐藤さくら", "鈴木一郎"]
CP1252 = ["Müller", "François", "Zoë"]


@pytest.mark.parametrize(("names", "encoding", "heading"), [
    (BIG5, "big5", "證件類型,證件號碼,姓名,帳號,金額"),
    (SHIFT_JIS, "shift_jis", "種別,番号,氏名,口座番号,金額"),
    (CP1252, "cp1252", "Type,Number,Name,Account,Amount"),
])
def test_other_encodings_are_refused_naming_what_was_tried_then_read_with_encoding(
        names: list[str], encoding: str, heading: str) -> None:
    data = sheet(names, heading).encode(encoding)
    with pytest.raises(ExchangeError) as refused:
        payroll_sheet_read(data=data, filename="工资.csv", columns=COLUMNS)
    assert refused.value.code == "sheet_encoding"
    assert "UTF-8" in refused.value.zh
    assert "GB18030" in refused.value.zh
    assert "--encoding 编码" in refused.value.zh
    assert "gb18030、big5、utf-16、cp1252" in refused.value.zh
    assert "--encoding (gb18030, big5, utf-16, cp1252)" in refused.value.en
    assert read_names(data, encoding=encoding) == (names, encoding)


def test_cp1252_refusal_quotes_the_garbled_word() -> None:
    data = sheet(["Première"], "Type,Number,Name,Account,Amount").encode("cp1252")
    with pytest.raises(ExchangeError) as refused:
        sheet_open(data=data, filename="pay.csv")
    assert "按 GB18030" in refused.value.zh
    assert "鑢e" in refused.value.zh


def test_an_encoding_given_is_used_as_given() -> None:
    data = sheet(CHINESE).encode("gbk")
    with pytest.raises(ExchangeError) as refused:
        sheet_open(data=data, filename="工资.csv", options=SheetOptions(encoding="utf-8"))
    assert refused.value.code == "sheet_encoding"
    assert "文件不是 utf-8 编码" in refused.value.zh
    with pytest.raises(ExchangeError) as unknown:
        sheet_open(data=data, filename="工资.csv", options=SheetOptions(encoding="klingon"))
    assert unknown.value.code == "sheet_encoding"
    assert "不认识编码 'klingon'" in unknown.value.zh
    with pytest.raises(ExchangeError) as not_text:  # a codec, but not a text encoding
        sheet_open(data=data, filename="工资.csv", options=SheetOptions(encoding="base64"))
    assert not_text.value.code == "sheet_encoding"
    # A file GB18030 would refuse as implausible is read when the user says it is GB18030.
    latin = "证件类型,证件号码,姓名,账号,金额\r\n1,E1,王伟tom,6222020200112345679,1.00\r\n".encode("gbk")
    with pytest.raises(ExchangeError):
        sheet_open(data=latin, filename="工资.csv")
    assert read_names(latin, encoding="gb18030") == (["王伟tom"], "gb18030")


def test_semicolon_separated_csv_is_refused_naming_the_delimiter() -> None:
    data = sheet(CHINESE, delimiter=";").encode("utf-8")
    with pytest.raises(ExchangeError) as refused:
        payroll_sheet_read(data=data, filename="工资.csv", columns=COLUMNS)
    assert refused.value.code == "sheet_delimiter"
    assert "分号“;”" in refused.value.zh
    assert 'separated by semicolons ";"' in refused.value.en


def test_tab_separated_text_under_an_xls_name_is_read_as_text_and_said_so() -> None:
    data = sheet(CHINESE, delimiter="\t").encode("gbk")
    read = payroll_sheet_read(data=data, filename="工资.xls", columns=COLUMNS)
    assert [r.name for r in read.rows] == CHINESE
    assert (read.info.kind, read.info.kind_zh, read.info.kind_en) == ("tsv", "制表符分隔的文本文件",
                                                                      "tab-separated text file")
    assert read.info.note_zh == "“工资.xls”不是 Excel 文件，按制表符分隔的文本文件读取。"
    assert read.info.encoding == "gb18030"


@pytest.mark.parametrize("text", [
    "证件类型\t证件号码\t姓名\t账号\r\n1\tE1\t王伟\r\n",  # a row with fewer fields
    "证件类型,证件号码,姓名,账号\r\n1,E1,王伟,6222020200112345679\r\n",  # commas under a .xls name
])
def test_irregular_text_under_an_xls_name_is_refused(text: str) -> None:
    with pytest.raises(ExchangeError) as refused:
        employee_sheet_read(data=text.encode("utf-8"), filename="员工.xls",
                            columns=ColumnMap(name=3, account=4, id_type=1, id_number=2))
    assert refused.value.code == "sheet_type"
    assert "各行字段数相同的制表符分隔文本" in refused.value.zh


def test_an_unmatched_quote_that_swallows_the_file_is_refused_naming_the_line() -> None:
    text = sheet(CHINESE) + '1,E9,"赵六,6222020200112345679,100\r\n' + "王伟,备注\r\n" * 20000
    with pytest.raises(ExchangeError) as refused:
        sheet_open(data=text.encode("utf-8"), filename="工资.csv")
    assert refused.value.code == "sheet_csv_damaged"
    assert "从第 5 行起的文本无法按 CSV 读取" in refused.value.zh
    assert "引号没有配对" in refused.value.zh
    assert "unmatched quote" in refused.value.en


def test_utf16_given_for_a_file_that_is_not_utf16_is_refused_not_read_as_nonsense() -> None:
    data = sheet(CHINESE).encode("utf-8")
    with pytest.raises(ExchangeError) as refused:
        sheet_open(data=data, filename="工资.csv", options=SheetOptions(encoding="utf-16"))
    assert refused.value.code == "sheet_encoding"
    assert "文件不是 utf-16 编码" in refused.value.zh
    assert "not in utf-16" in refused.value.en
    # The same names written as UTF-16 without a mark are read when the user says so.
    assert read_names(sheet(CHINESE).encode("utf-16-le"), encoding="utf-16-le") == (CHINESE, "utf-16-le")


def test_an_encoding_refusal_speaks_english_in_english() -> None:
    with pytest.raises(ExchangeError) as refused:
        sheet_open(data="name,amount\r\nAmélie Première,1.00\r\n".encode("cp1252"), filename="工资.csv")
    assert refused.value.code == "sheet_encoding"
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.en.split("gives")[0])
