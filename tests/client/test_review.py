"""换人复核 shows what will be paid; the sheet read and the hidden-row decision are shown on the
review, printed on the checklist and kept in 信息查询; --sheet, --hidden-rows and --encoding."""

from __future__ import annotations

import io
from pathlib import Path

from tests.client.conftest import Client
from tests.client.sheets_make import HEADER, csv_bytes, payroll_rows
from tests.client.test_payroll import bank_opens, encrypt


def workbook(sheets: dict[str, list[list[object]]], *, hidden_rows: tuple[int, ...] = ()) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(HEADER)
        for row in rows:
            sheet.append(row)
        for number in hidden_rows:
            sheet.row_dimensions[number].hidden = True
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def checklist_text(out_dir: Path) -> str:
    [txt] = out_dir.glob("*_核对清单.txt")
    return txt.read_text(encoding="utf-8")


def test_review_shows_what_will_be_paid(client: Client, tmp_path: Path, out_dir: Path) -> None:
    rows = payroll_rows(7)
    rows[3][4] = "9000.00"  # sheet row 5: the largest
    sheet = tmp_path / "工资.xlsx"
    sheet.write_bytes(workbook({"十二月": rows}))

    result = encrypt(client, sheet, out_dir, "--remark-col", "6")

    assert result.returncode == 0, result.stderr
    review = result.stdout.split("工资文件已加密")[0]
    assert "工资.xlsx 工作表 “十二月” (Excel 工作簿)" in review
    for label, column, header in (("户名 name", 3, "姓名"), ("账号 account", 4, "账号"), ("金额 amount", 5, "金额"),
                                  ("备注 remark", 6, "备注")):
        assert f"{label}: 第 {column} 列 column {column} “{header}”" in review
    shown_rows = [line.strip() for line in review.splitlines() if line.strip().startswith("第 ")
                  and " 行 row " in line]
    first_and_last = shown_rows[:5]
    assert [line.split(":")[0] for line in first_and_last] == [f"第 {n} 行 row {n}" for n in (2, 3, 4, 7, 8)]
    assert "员工1  1001000000000001  1,001.50  十二月工资" in first_and_last[0]
    assert "… (2 行 rows)" in review
    largest = shown_rows[5:]
    assert len(largest) == 5
    assert largest[0].startswith("第 5 行 row 5: 员工4")
    assert "9,000.00" in largest[0]
    assert "隐藏行 hidden rows: 无隐藏行" in review
    assert "总笔数 count: 7" in review
    assert "总金额 total: 15,027.00 元" in review
    assert "预计手续费 expected fee: 10.50 元" in review
    assert "警告" not in result.stdout


def test_amounts_that_look_wrong_are_warned_on_the_review_and_in_the_output(client: Client, tmp_path: Path,
                                                                           out_dir: Path) -> None:
    cases = {
        "amount_sequence": [f"{n}" for n in range(1, 13)],     # the 序号 column taken for the amount
        "amount_all_equal": ["3000.00"] * 6,
        "amount_all_small": ["1.50", "2.00", "9.99", "3.00", "0.50", "8.00"],
    }
    for i, (code, amounts) in enumerate(cases.items()):
        rows = payroll_rows(len(amounts))
        for row, amount in zip(rows, amounts, strict=True):
            row[4] = amount
        sheet = tmp_path / f"{code}.csv"
        sheet.write_bytes(csv_bytes(rows))
        result = encrypt(client, sheet, out_dir / code, batch=f"W{i}")
        assert result.returncode == 0, result.stderr
        warned = [line for line in result.stdout.splitlines() if f"警告 warning [{code}]" in line]
        assert len(warned) == 2, (code, result.stdout)  # on the review, and again after the files are written
        before, _, after = result.stdout.partition("工资文件已加密")
        assert f"[{code}]" in before
        assert f"[{code}]" in after
        others = set(cases) - {code}
        assert not any(f"[{other}]" in result.stdout for other in others)
    assert "warning amount_sequence" in client.ok("log", user="admin").stdout


def test_several_sheets_need_sheet_and_the_choice_is_kept(client: Client, tmp_path: Path, out_dir: Path,
                                                          bank_identity, bank_trust, enterprise_a) -> None:
    december, bonus = payroll_rows(3), payroll_rows(2, start=10)
    sheet = tmp_path / "工资.xlsx"
    sheet.write_bytes(workbook({"十二月": december, "年终奖": bonus}))

    refused = encrypt(client, sheet, out_dir)
    assert refused.returncode == 2
    assert "十二月" in refused.stderr
    assert "年终奖" in refused.stderr
    assert "--sheet" in refused.stderr
    assert not out_dir.exists()

    made = encrypt(client, sheet, out_dir, "--sheet", "年终奖")
    assert made.returncode == 0, made.stderr
    [sealed] = out_dir.glob("*.p7m")
    _, payroll = bank_opens(sealed.read_bytes(), bank_identity, bank_trust, enterprise_a)
    assert [r.name for r in payroll.rows] == ["员工10", "员工11"]
    assert "工作表 “年终奖”" in made.stdout
    assert "读取表格 Sheet read: 工资.xlsx 工作表 “年终奖” (Excel 工作簿)" in checklist_text(out_dir)
    history = client.ok("history").stdout
    assert "读取 read: 工资.xlsx 工作表 “年终奖” (Excel 工作簿)" in history


def test_hidden_rows_refused_then_skipped_or_included_as_decided(client: Client, tmp_path: Path, bank_identity,
                                                                 bank_trust, enterprise_a) -> None:
    sheet = tmp_path / "工资.xlsx"
    sheet.write_bytes(workbook({"十二月": payroll_rows(5)}, hidden_rows=(4, 5)))

    refused = encrypt(client, sheet, tmp_path / "refused")
    assert refused.returncode == 2
    assert "第 4、5 行" in refused.stderr
    assert "--hidden-rows" in refused.stderr
    assert not (tmp_path / "refused").exists()

    skipped = encrypt(client, sheet, tmp_path / "skip", "--hidden-rows", "skip", batch="H1")
    assert skipped.returncode == 0, skipped.stderr
    assert "隐藏行 hidden rows: 跳过隐藏行 (--hidden-rows skip): 第 4、5 行" in skipped.stdout
    assert "总笔数 count: 3" in skipped.stdout
    assert "隐藏行 Hidden rows: 跳过隐藏行 (--hidden-rows skip): 第 4、5 行" in checklist_text(tmp_path / "skip")
    [sealed] = (tmp_path / "skip").glob("*.p7m")
    _, payroll = bank_opens(sealed.read_bytes(), bank_identity, bank_trust, enterprise_a)
    assert [r.seq for r in payroll.rows] == [2, 3, 6]

    included = encrypt(client, sheet, tmp_path / "include", "--hidden-rows", "include", batch="H2")
    assert included.returncode == 0, included.stderr
    assert "总笔数 count: 5" in included.stdout
    history = client.ok("history").stdout
    assert "隐藏行 跳过隐藏行 (--hidden-rows skip): 第 4、5 行" in history
    assert "隐藏行 隐藏行一并读取 (--hidden-rows include): 第 4、5 行" in history


def test_big5_csv_is_refused_then_read_with_encoding(client: Client, tmp_path: Path, out_dir: Path, bank_identity,
                                                     bank_trust, enterprise_a) -> None:
    rows = payroll_rows(3)
    rows[0][2], rows[1][2], rows[2][2] = "陳大文", "黃美玲", "張國榮"
    sheet = tmp_path / "big5.csv"
    lines = ["證件類型,證件號碼,姓名,賬號,金額,備註", *(",".join(r[:5]) + ",年終獎" for r in rows)]
    sheet.write_bytes(("\r\n".join(lines) + "\r\n").encode("big5"))

    refused = encrypt(client, sheet, tmp_path / "refused")
    assert refused.returncode == 2
    assert "--encoding" in refused.stderr
    assert not (tmp_path / "refused").exists()

    made = encrypt(client, sheet, out_dir, "--encoding", "big5")
    assert made.returncode == 0, made.stderr
    [sealed] = out_dir.glob("*.p7m")
    _, payroll = bank_opens(sealed.read_bytes(), bank_identity, bank_trust, enterprise_a)
    assert [r.name for r in payroll.rows] == ["陳大文", "黃美玲", "張國榮"]
    assert "编码 big5" in made.stdout
    assert "big5" in client.ok("history").stdout


def test_tab_separated_text_under_an_xls_name_is_said_on_the_review(client: Client, tmp_path: Path,
                                                                    out_dir: Path) -> None:
    rows = payroll_rows(3)
    text = "\r\n".join("\t".join(r) for r in [HEADER, *rows]) + "\r\n"
    sheet = tmp_path / "hr-export.xls"
    sheet.write_bytes(text.encode("utf-8"))
    made = encrypt(client, sheet, out_dir)
    assert made.returncode == 0, made.stderr
    assert "制表符分隔的文本文件" in made.stdout
    assert "tab-separated text file" in made.stdout
    assert "制表符分隔的文本文件" in checklist_text(out_dir)
    assert "制表符分隔的文本文件" in client.ok("history").stdout


def test_employee_import_and_account_opening_take_the_sheet_options(client: Client, tmp_path: Path) -> None:
    client.ok("users", "grant", "0001", "--functions", "批量开户,导入员工,信息查询", user="admin")
    people = [r[:4] for r in payroll_rows(2)]
    sheet = tmp_path / "员工.xlsx"
    sheet.write_bytes(workbook({"说明": [["见下一个工作表"]], "员工": people}))
    pin = {"PAYROLL_CLIENT_PIN": "135790"}
    assert client.run("employee-import", str(sheet), "--out", str(tmp_path / "e1"), env=pin).returncode == 2
    made = client.ok("employee-import", str(sheet), "--sheet", "员工", "--out", str(tmp_path / "e2"), env=pin)
    assert "工作表 “员工”" in made.stdout

    opening = [[r[0], r[1], r[2], "13900001111"] for r in payroll_rows(2)]
    sheet = tmp_path / "开户.xlsx"
    sheet.write_bytes(workbook({"开户": opening}, hidden_rows=(3,)))
    refused = client.run("account-opening", str(sheet), "--out", str(tmp_path / "a1"), env=pin)
    assert refused.returncode == 2
    assert "第 3 行" in refused.stderr
    made = client.ok("account-opening", str(sheet), "--hidden-rows", "include", "--out", str(tmp_path / "a2"),
                     env=pin)
    assert "2 人 people" in made.stdout
    history = client.ok("history").stdout
    assert "工作表 “员工”" in history
    assert "隐藏行一并读取 (--hidden-rows include): 第 3 行" in history


def test_account_opening_refuses_a_hidden_mapped_column(client: Client, tmp_path: Path) -> None:
    from openpyxl import Workbook

    client.ok("users", "grant", "0001", "--functions", "批量开户", user="admin")
    book = Workbook()
    sheet = book.active
    sheet.append(["证件类型", "证件号码", "姓名", "手机号码"])
    for r in payroll_rows(2):
        sheet.append([r[0], r[1], r[2], "13900001111"])
    sheet.column_dimensions["D"].hidden = True
    path = tmp_path / "开户.xlsx"
    book.save(path)
    pin = {"PAYROLL_CLIENT_PIN": "135790"}
    refused = client.run("account-opening", str(path), "--out", str(tmp_path / "a1"), env=pin)
    assert refused.returncode == 2
    assert "sheet_hidden_columns" in refused.stderr
    assert "第 4 列（手机号码）被隐藏" in refused.stderr
    assert not (tmp_path / "a1").exists()
    client.ok("account-opening", str(path), "--hidden-rows", "include", "--out", str(tmp_path / "a2"), env=pin)
