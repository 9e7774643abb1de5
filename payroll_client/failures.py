"""What the user sees when a command does not succeed: never a traceback.

Three kinds, one handler in ``cli.main``:

* a refusal (``ExchangeError``): the file or the request is wrong. The message, the first
  ``SHOWN_ERRORS`` row problems, a summary by field and code, and, when the input was a sheet,
  every problem in ``<sheet stem>_errors.csv`` beside the sheet (never beside the output: that
  folder is the USB drive the agent carries to the bank). Exit status 2.
* a known failure of the PC (a missing file, a folder that cannot be read or written, a full
  disk, a locked store): one bilingual line saying what to do. Exit status 1.
* anything else: one bilingual line, and the traceback goes to ``client-error.log`` in the data
  folder (and a line in the action log), not onto the console. Exit status 1.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import sqlite3
import sys
import traceback
from collections import Counter
from pathlib import Path
from typing import TextIO

from payroll_exchange.clock import ClockConfigError
from payroll_exchange.errors import ExchangeError, RowError
from payroll_exchange.formats import neutralize_cell
from payroll_exchange.messages import field_label

SHOWN_ERRORS = 50
ERROR_LOG = "client-error.log"
ERRORS_CSV_COLUMNS = ["行号 row", "字段 field", "代码 code", "说明", "message"]
EXIT_REFUSED = 2
EXIT_FAILED = 1


def errors_csv_path(*, sheet: Path) -> Path:
    return sheet.with_name(f"{sheet.stem}_errors.csv")


def errors_csv_bytes(*, errors: list[RowError]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ERRORS_CSV_COLUMNS)
    for e in errors:
        # The messages quote cells as typed: a cell the user typed as =HYPERLINK(...) must stay text.
        writer.writerow(["" if e.row is None else e.row, neutralize_cell(field_label(e.field)),
                         neutralize_cell(e.code), neutralize_cell(e.zh), neutralize_cell(e.en)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel then shows the Chinese


def errors_csv_write(*, sheet: Path, errors: list[RowError]) -> Path:
    """Write (replace) the error list beside the sheet; a temporary name first, so a full disk
    leaves the previous list or none, never half a list."""
    target = errors_csv_path(sheet=sheet)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as handle:
            handle.write(errors_csv_bytes(errors=errors))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target


def errors_summary(*, errors: list[RowError]) -> list[tuple[str, str, int]]:
    """(field label, code, how many), most frequent first."""
    counts = Counter((field_label(e.field) or "-", e.code) for e in errors)
    return [(label, code, n) for (label, code), n in counts.most_common()]


def refusal_print(*, exc: ExchangeError, sheet: Path | None, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    print(f"错误 error [{exc.code}]: {exc.zh}", file=out)
    print(f"  {exc.en}", file=out)
    errors = exc.errors
    for e in errors[:SHOWN_ERRORS]:
        print(f"  - {e.zh}  | {e.en}", file=out)
    if len(errors) > SHOWN_ERRORS:
        print(f"  … 另有 {len(errors) - SHOWN_ERRORS} 处错误未显示 "
              f"{len(errors) - SHOWN_ERRORS} more not shown", file=out)
    if len(errors) > 1:
        print("按字段和代码汇总 summary by field and code:", file=out)
        for label, code, n in errors_summary(errors=errors):
            print(f"  {label} [{code}]: {n}", file=out)
    if errors and sheet is not None:
        try:
            path = errors_csv_write(sheet=sheet, errors=errors)
        except OSError as write_exc:
            zh, en = os_error_text(write_exc)
            print(f"未能写出错误清单 the error list was not written: {zh} | {en}", file=out)
        else:
            print(f"全部 {len(errors)} 处错误已写入 every problem is listed in: {path}", file=out)


def _where(exc: OSError) -> str:
    name = exc.filename if exc.filename is not None else ""
    return f": {name}" if name != "" else ""


def os_error_text(exc: OSError) -> tuple[str, str]:
    """A failure of the PC's files, in the user's words, with what to do."""
    where = _where(exc)
    code = exc.errno
    if isinstance(exc, FileNotFoundError):
        return (f"找不到文件或文件夹{where}。请检查路径和文件名。",
                f"no such file or folder{where}. Check the path and the file name.")
    if isinstance(exc, IsADirectoryError):
        return (f"这是一个文件夹, 不是文件{where}。请给出文件。",
                f"this is a folder, not a file{where}. Give a file.")
    if isinstance(exc, NotADirectoryError | FileExistsError) and code in (errno.ENOTDIR, errno.EEXIST):
        return (f"路径中有一个同名文件挡住了文件夹{where}。请换一个保存路径。",
                f"a file stands where a folder is needed{where}. Choose another folder.")
    if isinstance(exc, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return (f"没有权限读取或写入{where}。请换一个文件夹, 或请管理员开放权限。",
                f"permission denied{where}. Choose another folder or ask for access.")
    if code == errno.ENOSPC or code == errno.EDQUOT:
        return (f"磁盘已满{where}; 未写入任何文件。请腾出空间或换一个磁盘后重试。",
                f"the disk is full{where}; nothing was written. Free some space or use another drive, "
                "then try again.")
    if code == errno.EROFS:
        return (f"磁盘只读, 不能写入{where}。请检查 U 盘的写保护开关, 或换一个文件夹。",
                f"the disk is read-only{where}. Check the USB drive's write-protect switch, or choose "
                "another folder.")
    if code == errno.EFBIG:
        return (f"文件太大, 磁盘不能写入{where}。", f"the file is too large for this disk{where}.")
    if code == errno.EIO:
        return (f"磁盘读写出错{where}。U 盘是否已拔出? 请重新插入后重试。",
                f"input/output error{where}. Was the USB drive removed? Insert it and try again.")
    return (f"文件读写失败{where}: {exc.strerror or exc}", f"file error{where}: {exc.strerror or exc}")


def failure_text(exc: BaseException) -> tuple[str, str] | None:
    """Known failures that are not the user's file: (zh, en), or None when unexpected."""
    if isinstance(exc, OSError):
        return os_error_text(exc)
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc)
        if "locked" in text or "busy" in text:
            return ("客户端数据库正被另一个窗口使用, 请稍后重试。",
                    "the client's database is in use by another window; try again in a moment.")
        return (f"客户端数据库无法打开或写入: {text}。请检查数据目录 (--data-dir) 和磁盘空间。",
                f"the client's database cannot be opened or written: {text}. Check the data folder "
                "(--data-dir) and the free disk space.")
    if isinstance(exc, sqlite3.DatabaseError):
        return (f"客户端数据库已损坏, 无法读取 ({exc})。请从备份恢复数据目录, 或联系技术支持。",
                f"the client's database is damaged and cannot be read ({exc}). Restore the data folder from a "
                "backup, or contact support.")
    if isinstance(exc, ClockConfigError):
        return (f"业务时钟设置有误 (BUSINESS_CLOCK): {exc}", f"the business clock setting is wrong: {exc}")
    if isinstance(exc, MemoryError):
        return ("内存不足, 请关闭其他程序后重试, 或把表格分成几个文件。",
                "out of memory; close other programs and try again, or split the sheet.")
    return None


def failure_print(*, zh: str, en: str, stream: TextIO | None = None) -> None:
    print(f"失败 failed: {zh} | {en}", file=stream or sys.stderr)


def unexpected_record(*, exc: BaseException, data_dir: Path | None, command: str) -> Path | None:
    """The traceback into the data folder's error log (and a line in the action log); the
    console only says where it went. Returns the log's path, or None when it could not be written."""
    if data_dir is None:
        return None
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = data_dir / ERROR_LOG
        from payroll_client.store import now_text

        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"--- {now_text()} payroll-client {command}\n")
            handle.write("".join(traceback.format_exception(exc)))
    except Exception:  # noqa: BLE001 - the report of a failure must not fail in turn
        return None
    try:
        from payroll_client.store import DB_NAME, log_write

        if (data_dir / DB_NAME).exists():
            conn = sqlite3.connect(data_dir / DB_NAME, isolation_level=None, timeout=2)
            try:
                log_write(conn=conn, user_name=None, action=command or "-", outcome="crashed",
                          detail=f"{type(exc).__name__}; see {ERROR_LOG}")
            finally:
                conn.close()
    except Exception:  # noqa: BLE001, S110 - the traceback is already in the error log
        pass
    return path


def unexpected_print(*, log: Path | None, stream: TextIO | None = None) -> None:
    where_zh = f", 详情已记入 {log}" if log else ""
    where_en = f"; the details are in {log}" if log else ""
    failure_print(zh=f"程序内部错误, 操作未完成{where_zh}。请把该文件交给技术支持。",
                  en=f"internal error, the command did not finish{where_en}. Send that file to support.",
                  stream=stream)
