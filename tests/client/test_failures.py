"""No traceback ever: what the user reads when the PC's files fail, when a sheet has many
errors, and when something unexpected happens; and batch numbers used once per agreement."""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from payroll_client import cli, failures
from payroll_exchange.errors import RowError
from tests.client.conftest import Client
from tests.client.sheets_make import csv_bytes, payroll_rows
from tests.client.test_payroll import encrypt


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout
    assert 'File "' not in result.stderr


def history_count(client: Client) -> str:
    return client.ok("history").stdout.strip().splitlines()[-1]


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 48 KiB tmpfs: big enough for a sheet, too small for a payroll file and its PDF checklist."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(mount)], capture_output=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_missing_input_file_is_one_bilingual_line(client: Client, tmp_path: Path, out_dir: Path) -> None:
    result = encrypt(client, tmp_path / "没有这个文件.xlsx", out_dir)
    assert result.returncode == 1
    no_traceback(result)
    assert result.stderr.count("\n") == 1
    assert "找不到文件" in result.stderr
    assert "no such file" in result.stderr
    assert "没有这个文件.xlsx" in result.stderr
    assert not out_dir.exists()


def test_a_folder_given_as_the_sheet_and_a_file_given_as_the_folder(client: Client, tmp_path: Path) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    result = encrypt(client, folder, tmp_path / "out")
    assert result.returncode == 1
    no_traceback(result)
    assert "是一个文件夹" in result.stderr

    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(2)))
    blocker = tmp_path / "usb"
    blocker.write_text("not a folder")
    result = encrypt(client, sheet, blocker)
    assert result.returncode == 1
    no_traceback(result)
    assert "Choose another folder" in result.stderr
    assert blocker.read_text() == "not a folder"
    assert history_count(client) == "共 0 个文件 files"


def test_full_disk_writes_nothing_and_says_so(client: Client, tmp_path: Path, tiny_disk: Path) -> None:
    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(40)))
    out = tiny_disk / "usb"
    result = encrypt(client, sheet, out)
    assert result.returncode == 1
    no_traceback(result)
    assert "磁盘已满" in result.stderr
    assert "the disk is full" in result.stderr
    assert list(out.iterdir()) == []  # no payroll file without its checklist, no temporary file left
    assert history_count(client) == "共 0 个文件 files"


def test_read_only_folder(client: Client, tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", str(mount)], capture_output=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        sheet = tmp_path / "pay.csv"
        sheet.write_bytes(csv_bytes(payroll_rows(2)))
        result = encrypt(client, sheet, mount)
    finally:
        subprocess.run(["umount", str(mount)], check=True)
    assert result.returncode == 1
    no_traceback(result)
    assert "只读" in result.stderr
    assert history_count(client) == "共 0 个文件 files"


def test_pdf_font_missing(client: Client, tmp_path: Path, out_dir: Path) -> None:
    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(2)))
    result = encrypt(client, sheet, out_dir, env={"PAYROLL_CLIENT_FONT": str(tmp_path / "gone.ttf")})
    assert result.returncode == 2
    no_traceback(result)
    assert "font_missing" in result.stderr
    assert "字体" in result.stderr
    assert not out_dir.exists() or list(out_dir.iterdir()) == []
    assert history_count(client) == "共 0 个文件 files"


def test_many_errors_first_fifty_a_summary_and_every_error_beside_the_input(client: Client, tmp_path: Path,
                                                                            out_dir: Path) -> None:
    rows = payroll_rows(70)
    for i, row in enumerate(rows[:40]):
        row[3] = f"12AB{i:02d}"  # account
    for row in rows[40:60]:
        row[4] = "-5.00"  # amount
    inputs = tmp_path / "hr"
    inputs.mkdir()
    sheet = inputs / "十二月工资.csv"
    sheet.write_bytes(csv_bytes(rows))

    result = encrypt(client, sheet, out_dir)

    assert result.returncode == 2
    no_traceback(result)
    shown = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert len(shown) == 50
    assert "另有 10 处错误未显示" in result.stderr
    summary = result.stderr.split("summary by field and code:")[1]
    assert "账号 [account_" in summary
    assert ": 40" in summary
    assert "金额 [amount_" in summary
    assert ": 20" in summary
    listed = inputs / "十二月工资_errors.csv"
    assert str(listed) in result.stderr
    data = listed.read_bytes()
    assert data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == failures.ERRORS_CSV_COLUMNS
    assert len(table) == 61
    assert {r[0] for r in table[1:]} == {str(n) for n in range(2, 62)}
    assert not out_dir.exists() or list(out_dir.iterdir()) == []  # never onto the USB drive
    assert history_count(client) == "共 0 个文件 files"


def test_error_list_on_a_full_disk_is_reported_not_raised(client: Client, tiny_disk: Path, out_dir: Path) -> None:
    rows = payroll_rows(400)
    for i, row in enumerate(rows):
        row[3] = f"12AB{i:03d}"
    sheet = tiny_disk / "pay.csv"
    data = csv_bytes(rows)
    sheet.write_bytes(data)
    (tiny_disk / "filler").write_bytes(b"x" * (48 * 1024 - len(data) - 8192))
    result = encrypt(client, sheet, out_dir)
    assert result.returncode == 2
    no_traceback(result)
    assert "未能写出错误清单" in result.stderr
    assert "磁盘已满" in result.stderr
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler", "pay.csv"]


def test_errors_csv_neutralizes_formula_looking_cells(tmp_path: Path) -> None:
    errors = [RowError("x", 3, "name", zh, "en " + zh) for zh in ("=1+2", "+1", "-1", "@A1", "\tx", "\rx", "ok")]
    path = failures.errors_csv_write(sheet=tmp_path / "s.xlsx", errors=errors)
    assert path == tmp_path / "s_errors.csv"
    table = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    assert [r[3] for r in table[1:]] == ["'=1+2", "'+1", "'-1", "'@A1", "'\tx", "'\rx", "ok"]


@pytest.mark.parametrize(("error", "words"), [
    (PermissionError(13, "Permission denied", "/media/usb/x.p7m"), ["没有权限", "/media/usb/x.p7m"]),
    (OSError(5, "Input/output error", "/media/usb"), ["U 盘", "Insert it"]),
    (OSError(28, "No space left on device"), ["磁盘已满", "disk is full"]),
])
def test_known_os_errors_become_one_line(monkeypatch, capsys, tmp_path: Path, error: OSError,
                                         words: list[str]) -> None:
    def handler(args):  # noqa: ANN001, ANN202
        raise error
    monkeypatch.setattr(cli.commands, "cmd_logout", handler)
    assert cli.main(["--data-dir", str(tmp_path), "logout"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    for word in words:
        assert word in err


def test_unexpected_error_goes_to_the_log_not_the_console(monkeypatch, capsys, tmp_path: Path) -> None:
    def handler(args):  # noqa: ANN001, ANN202
        raise RuntimeError("boom in the code")
    monkeypatch.setattr(cli.commands, "cmd_logout", handler)
    assert cli.main(["--data-dir", str(tmp_path), "logout"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "boom" not in err
    assert "程序内部错误" in err
    assert "internal error" in err
    log = (tmp_path / failures.ERROR_LOG).read_text(encoding="utf-8")
    assert "Traceback" in log
    assert "RuntimeError: boom in the code" in log


def test_corrupt_store_is_not_a_traceback(client: Client) -> None:
    (client.home / "client.sqlite3").write_bytes(b"this is not a database" * 100)
    for name in ("client.sqlite3-wal", "client.sqlite3-shm"):
        (client.home / name).unlink(missing_ok=True)
    result = client.run("history")
    assert result.returncode == 1
    no_traceback(result)
    assert "客户端数据库已损坏" in result.stderr
    assert "damaged" in result.stderr


def test_batch_number_reused_for_the_agreement_is_refused_unless_asked(client: Client, tmp_path: Path) -> None:
    sheet = tmp_path / "pay.csv"
    sheet.write_bytes(csv_bytes(payroll_rows(3)))
    assert encrypt(client, sheet, tmp_path / "first", batch="B7").returncode == 0

    again = encrypt(client, sheet, tmp_path / "second", batch="B7")

    assert again.returncode == 2
    assert "batch_reused" in again.stderr
    assert "批次号 B7 已于" in again.stderr
    assert "--reuse-batch" in again.stderr
    assert not (tmp_path / "second").exists()
    assert history_count(client) == "共 1 个文件 files"
    assert "batch_reused" in client.ok("log", user="admin").stdout

    # another batch number is fine; the same one with --reuse-batch is made, and logged
    assert encrypt(client, sheet, tmp_path / "third", batch="B8").returncode == 0
    assert encrypt(client, sheet, tmp_path / "fourth", "--reuse-batch", batch="B7").returncode == 0
    assert history_count(client) == "共 3 个文件 files"
    assert "batch_reuse " in client.ok("log", user="admin").stdout


def test_output_into_a_closed_pipe_is_quiet(client: Client) -> None:
    """history | head: the reader has gone before the client writes (its end of the pipe is closed)."""
    import os

    from tests.client.conftest import BUSINESS_NOW, CLIENT, PASSWORDS

    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYROLL_CLIENT")}
    env.update(PAYROLL_CLIENT_HOME=str(client.home), PAYROLL_CLIENT_USER="0001",
               PAYROLL_CLIENT_PASSWORD=PASSWORDS["0001"], BUSINESS_CLOCK=BUSINESS_NOW)
    try:
        result = subprocess.run([CLIENT, "history"], stdout=write_end, stderr=subprocess.PIPE, text=True, env=env,
                                timeout=60, check=False)
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert result.stderr == ""
