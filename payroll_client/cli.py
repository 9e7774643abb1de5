"""payroll-client: the enterprise client (企业客户端), one subcommand per function of the manual.

Parsing only: each subcommand is handled by one function in ``commands``, which calls one
service. Refusals print in Chinese and English and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from payroll_client import commands, failures
from payroll_client.online_errors import SERVER_ENV, OnlineFailure
from payroll_client.store import HOME_ENV, data_dir_resolve
from payroll_client.users import FUNCTIONS
from payroll_exchange.errors import ExchangeError

# --hidden-rows and --encoding: the choices SheetOptions takes (refuse is its default).
HIDDEN_ROWS = {"skip": "跳过 skip", "include": "一并读取 include"}
ENCODINGS = ("gb18030", "big5", "utf-16", "cp1252", "utf-8")

EPILOG = f"""\
数据目录 data folder: --data-dir, or ${HOME_ENV}, or ~/.payroll-client
自动化 automation: PAYROLL_CLIENT_USER / PAYROLL_CLIENT_PASSWORD (login), PAYROLL_CLIENT_NEW_PASSWORD,
  PAYROLL_CLIENT_PIN (USBKEY), PAYROLL_CLIENT_REVIEWER / PAYROLL_CLIENT_REVIEWER_PASSWORD (换人复核),
  PAYROLL_CLIENT_SERVER (联机模式 the bank's host-to-host address).
首次使用 first use: payroll-client login admin  (初始密码 admin, 须修改 / first password admin, must be changed)
"""


def column_number(text: str) -> int:
    """A 1-based column or row number: 0 and negative numbers are refused by argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"须为正整数 must be a whole number ≥ 1: {text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"须为正整数 (从 1 起) must be ≥ 1: {text}")
    return value


def optional_column(text: str) -> int:
    """The remark column: 0 means none, as the manual's form has it; negative numbers are refused."""
    return 0 if text.strip() == "0" else column_number(text)


def _sheet_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("表格 the sheet")
    group.add_argument("--sheet", metavar="NAME", dest="sheet_name",
                       help="工作表名称 worksheet to read (required when several visible sheets hold data)")
    group.add_argument("--hidden-rows", choices=list(HIDDEN_ROWS), default=None,
                       help="隐藏或筛选掉的行: skip 跳过 / include 一并读取 (默认拒绝 default: refuse)")
    group.add_argument("--encoding", choices=list(ENCODINGS), default=None,
                       help="文本文件 (csv) 的编码 encoding of a text sheet (default: UTF-8, else GB18030 "
                            "when plausible)")


def _columns(parser: argparse.ArgumentParser, *, payroll: bool) -> None:
    group = parser.add_argument_group("列号 columns (1-based; the manual's example is the default)")
    group.add_argument("--id-type-col", type=column_number, default=1, help="证件类型读取列号 ID type column (1)")
    group.add_argument("--id-number-col", type=column_number, default=2, help="证件读取列号 ID number column (2)")
    group.add_argument("--name-col", type=column_number, default=3, help="客户读取列号 name column (3)")
    group.add_argument("--account-col", type=column_number, default=4, help="客户账号读取列号 account column (4)")
    if payroll:
        group.add_argument("--amount-col", type=column_number, default=5, help="金额列号 amount column (5)")
        group.add_argument("--remark-col", type=optional_column, default=0,
                           help="备注列号 remark column (0 = none)")
    group.add_argument("--first-row", type=column_number, default=2, help="记录读取起始行号 first data row (2)")
    group.add_argument("--count", type=column_number, default=None,
                       help="记录总数 record count (checked when given)")
    _sheet_options(parser)


def _agreement(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agreement", help="协议编号 agreement number (asked when several are imported)")


def parser_build() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="payroll-client", description="代发工资企业客户端 — enterprise payroll client (offline; online: "
                                           "submit, status, confirm, fetch-returns)",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help=f"数据目录 data folder (default ${HOME_ENV} or ~/.payroll-client)")
    parser.add_argument("--user", help="以此用户执行, 密码取自提示或 PAYROLL_CLIENT_PASSWORD "
                                       "/ act as this user (password prompted or from the environment)")
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)

    p = sub.add_parser("install", help="证书导入 — trust the bank root certificate, register the USB key")
    p.add_argument("--root", help="银行根证书文件 bank root certificate (PEM or DER)")
    p.add_argument("--yes", action="store_true", help="已核对指纹 I compared the fingerprint with the bank's")
    p.add_argument("--usbkey", help="USBKEY 证书文件 the USB key (PKCS#12); PIN prompted or PAYROLL_CLIENT_PIN")
    p.set_defaults(handler=commands.cmd_install)

    p = sub.add_parser("login", help="登录 / 重新登录 — log in or switch user")
    p.add_argument("name", nargs="?", help="用户名 user name (four digits, or admin)")
    p.set_defaults(handler=commands.cmd_login)
    p = sub.add_parser("logout", help="退出 — log out")
    p.set_defaults(handler=commands.cmd_logout)
    p = sub.add_parser("passwd", help="修改密码 — change your password")
    p.set_defaults(handler=commands.cmd_passwd)

    p = sub.add_parser("users", help="用户管理 — add, disable, enable, reset users; tick their functions")
    users = p.add_subparsers(dest="action", metavar="<action>", required=True)
    functions_help = "功能 functions, comma separated: " + ", ".join(f"{zh}({c})" for c, zh in FUNCTIONS.items())
    u = users.add_parser("list", help="列出用户 list users")
    u.set_defaults(handler=commands.cmd_users_list)
    u = users.add_parser("add", help="新增 add a user (password prompted or PAYROLL_CLIENT_NEW_PASSWORD)")
    u.add_argument("name", help="四位数字 four digits")
    u.add_argument("--functions", default="", help=functions_help)
    u.set_defaults(handler=commands.cmd_users_add)
    u = users.add_parser("grant", help="勾选功能 set the functions a user may use")
    u.add_argument("name")
    u.add_argument("--functions", required=True, help=functions_help)
    u.set_defaults(handler=commands.cmd_users_grant)
    for action, zh in (("disable", "停用"), ("enable", "启用")):
        u = users.add_parser(action, help=f"{zh} {action} a user")
        u.add_argument("name")
        u.set_defaults(handler=commands.cmd_users_active, active=action == "enable")
    u = users.add_parser("reset", help="重置密码 reset a password (the user must change it at login)")
    u.add_argument("name")
    u.set_defaults(handler=commands.cmd_users_reset)

    p = sub.add_parser("log", help="查看日志 — read the action log (administrator)")
    p.add_argument("--of", help="只看此用户 only this user")
    p.add_argument("--limit", type=int, default=200)
    p.set_defaults(handler=commands.cmd_log)

    p = sub.add_parser("agreement-import", help="协议信息导入 — import a bank-signed agreement package")
    p.add_argument("file", help="协议数据包 agreement package")
    p.set_defaults(handler=commands.cmd_agreement_import)
    p = sub.add_parser("agreement-query", help="协议查询 — show the agreement")
    _agreement(p)
    p.set_defaults(handler=commands.cmd_agreement_query)

    p = sub.add_parser("employee-disk", help="员工盘片 — employee info file typed by hand")
    disk = p.add_subparsers(dest="action", metavar="<action>", required=True)
    d = disk.add_parser("add", help="添加 add a row to the draft")
    _agreement(d)
    d.add_argument("--name", required=True, help="客户 name")
    d.add_argument("--account", required=True, help="客户帐号 account")
    d.add_argument("--id-type", required=True, help="证件类型 ID type (code 0-5, 9 or Chinese name)")
    d.add_argument("--id-number", required=True, help="证件 ID number")
    d.set_defaults(handler=commands.cmd_disk_add)
    d = disk.add_parser("remove", help="删除 remove rows from the draft (numbers from list)")
    _agreement(d)
    d.add_argument("row", nargs="+", type=int)
    d.set_defaults(handler=commands.cmd_disk_remove)
    d = disk.add_parser("list", help="列表 show the draft")
    _agreement(d)
    d.set_defaults(handler=commands.cmd_disk_list)
    d = disk.add_parser("write", help="完成 sign, encrypt and write the file (PIN)")
    _agreement(d)
    d.add_argument("--operation", choices=["add", "delete"], default="add", help="新增 add / 删除 delete")
    d.add_argument("--out", required=True, help="盘片保存路径 output folder")
    d.set_defaults(handler=commands.cmd_disk_write)

    p = sub.add_parser("employee-import", help="导入员工 — employee info file from a sheet (.xlsx .xls .csv)")
    p.add_argument("sheet", help="员工文件 the sheet")
    _agreement(p)
    p.add_argument("--operation", choices=["add", "delete"], default="add", help="新增 add / 删除 delete")
    p.add_argument("--out", required=True, help="员工信息盘片文件保存路径 output folder")
    _columns(p, payroll=False)
    p.set_defaults(handler=commands.cmd_employee_import)

    p = sub.add_parser("encrypt", help="文件加密 — payroll file: check, 换人复核, sign, encrypt, checklist")
    p.add_argument("sheet", help="工资数据文件 the payroll sheet (.xlsx .xls .csv), or an ISO 20022 pain.001 .xml")
    _agreement(p)
    p.add_argument("--pay-date", help="发薪日期 pay date YYYY-MM-DD (today … today+15); a pain.001 carries its own")
    p.add_argument("--batch", help="批次号 batch number; a pain.001 carries its own (PmtInfId)")
    p.add_argument("--purpose", default="工资", help="用途 purpose (工资)")
    p.add_argument("--reviewer", help="复核人 reviewer (or PAYROLL_CLIENT_REVIEWER, or asked)")
    p.add_argument("--reuse-batch", action="store_true",
                   help="批次号已在本机用过时仍然使用 use a batch number already used here for this agreement "
                        "(only when the bank invalidated or revoked the first file)")
    p.add_argument("--corrects", metavar="RETURN_FILE",
                   help="更正: SHEET 是文件回盘生成的更正表, 只重新发放此回盘文件中失败的行 / correction: SHEET is "
                        "文件回盘's 更正表; pay again only the failed rows of this return file (as downloaded)")
    p.add_argument("--out", required=True, help="保存路径 output folder")
    _columns(p, payroll=True)
    p.set_defaults(handler=commands.cmd_encrypt)

    p = sub.add_parser("return", help="文件回盘 — decrypt a bank return file; write it and the return list")
    p.add_argument("file", help="回盘文件 the return file from the kiosk")
    p.add_argument("--out", required=True, help="保存路径 output folder")
    p.set_defaults(handler=commands.cmd_return)

    p = sub.add_parser("history", help="信息查询 — files made, with operator, reviewer, totals, digest")
    p.add_argument("--agreement", help="协议编号 only this agreement")
    p.set_defaults(handler=commands.cmd_history)

    p = sub.add_parser("account-opening", help="批量开户 — employees without an account: check, sign, encrypt")
    p.add_argument("sheet", help="开户人员表 the sheet of employees to open accounts for (.xlsx .xls .csv)")
    _agreement(p)
    p.add_argument("--out", required=True, help="批量开户文件保存路径 output folder")
    group = p.add_argument_group("列号 columns (1-based)")
    group.add_argument("--id-type-col", type=column_number, default=1, help="证件类型读取列号 ID type column (1)")
    group.add_argument("--id-number-col", type=column_number, default=2, help="证件读取列号 ID number column (2)")
    group.add_argument("--name-col", type=column_number, default=3, help="姓名读取列号 name column (3)")
    group.add_argument("--phone-col", type=column_number, default=4, help="手机号码读取列号 mobile phone column (4)")
    group.add_argument("--remark-col", type=optional_column, default=0, help="备注列号 remark column (0 = none)")
    group.add_argument("--first-row", type=column_number, default=2, help="记录读取起始行号 first data row (2)")
    group.add_argument("--count", type=column_number, default=None,
                       help="记录总数 record count (checked when given)")
    _sheet_options(p)
    p.set_defaults(handler=commands.cmd_account_opening)
    p = sub.add_parser("account-opening-result",
                       help="批量开户结果 — decrypt the bank's result file; write the list of new accounts")
    p.add_argument("file", help="开户结果文件 the result file from the bank")
    p.add_argument("--out", required=True, help="保存路径 output folder")
    p.set_defaults(handler=commands.cmd_account_opening_result)
    _online(sub)
    return parser


def _server_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", metavar="URL",
                        help=f"银企直连地址 host-to-host address https://host:port (or ${SERVER_ENV}, or the one set "
                             "by payroll-client server)")


def _wait_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", type=float, default=600, metavar="SECONDS",
                        help="最多等待银行处理的秒数 how long to wait for the bank's job (600)")


def _online_handler(name: str):  # noqa: ANN202
    """The online commands' module (ssl, http.client) is imported only when one of them runs."""
    def handler(args: argparse.Namespace) -> int:
        from payroll_client import online_commands

        return int(getattr(online_commands, name)(args) or 0)
    return handler


def _online(sub) -> None:  # noqa: ANN001 - argparse's private subparsers action
    """联机模式: the host-to-host API with the USB key's certificate (payroll_client/online_commands.py)."""
    p = sub.add_parser("server", help="银企直连地址 — show, or set (administrator), the bank's host-to-host address")
    p.add_argument("url", nargs="?", help="https://host:port")
    p.set_defaults(handler=_online_handler("cmd_server"))

    p = sub.add_parser("submit", help="联机提交 — send a payroll (or employee) file to the bank online (PIN); "
                                      "wait for pre-validation")
    p.add_argument("file", help="加密后的文件 the file 文件加密 wrote (.p7m)")
    p.add_argument("--agreement", help="协议编号 agreement number (needed only when the USB key's certificate is "
                                       "bound to several)")
    p.add_argument("--kind", choices=["payroll", "pain001", "employees"], default=None,
                   help="文件类型 file kind (default: as this PC made it, else payroll)")
    p.add_argument("--confirm", action="store_true", help="预校验通过后即确认入库 confirm when pre-validation passes")
    _wait_option(p)
    _server_option(p)
    p.set_defaults(handler=_online_handler("cmd_submit"))

    p = sub.add_parser("status", help="联机查询 — a batch's state, progress and pre-validation result (PIN)")
    p.add_argument("batch", type=column_number, help="平台编号 the id submit printed")
    p.add_argument("--page", type=column_number, default=1, help="错误明细页 page of errors (100 a page)")
    _server_option(p)
    p.set_defaults(handler=_online_handler("cmd_status"))

    p = sub.add_parser("confirm", help="联机确认入库 — confirm a pre-validated batch (PIN; no paper checklist)")
    p.add_argument("batch", type=column_number, help="平台编号 the id submit printed")
    p.add_argument("--acknowledge-duplicate", action="store_true",
                   help="疑似重复发放: 确认与上次发放相同的文件 confirm a file equal to the last paid batch")
    _wait_option(p)
    _server_option(p)
    p.set_defaults(handler=_online_handler("cmd_confirm"))

    p = sub.add_parser("fetch-returns", help="联机回盘 — download the new return files (and pain.002), then "
                                             "文件回盘 (PIN)")
    p.add_argument("--out", required=True, help="保存路径 output folder (the return file as the kiosk names it, "
                                                "and what 文件回盘 writes)")
    _server_option(p)
    p.set_defaults(handler=_online_handler("cmd_fetch_returns"))


def _sheet_of(args: argparse.Namespace) -> Path | None:
    sheet = getattr(args, "sheet", None)
    return Path(sheet) if isinstance(sheet, str) and sheet else None


def _data_dir_of(args: argparse.Namespace) -> Path | None:
    try:
        return data_dir_resolve(given=args.data_dir)
    except Exception:  # noqa: BLE001 - no home folder: the error log is skipped, the line still printed
        return None


def main(argv: list[str] | None = None) -> int:
    """The one place where failures become what the user reads (see ``failures``)."""
    args = parser_build().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ExchangeError as exc:
        failures.refusal_print(exc=exc, sheet=_sheet_of(args))
        return failures.EXIT_REFUSED
    except OnlineFailure as exc:  # the line or the TLS handshake, not the file
        failures.failure_print(zh=exc.zh, en=exc.en)
        return failures.EXIT_FAILED
    except KeyboardInterrupt:
        print("\n已取消 cancelled; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (history | head): nothing to tell, and no second
        # error when Python flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return failures.EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - the top-level handler: never a traceback on the console
        known = failures.failure_text(exc)
        if known is not None:
            failures.failure_print(zh=known[0], en=known[1])
            return failures.EXIT_FAILED
        log = failures.unexpected_record(exc=exc, data_dir=_data_dir_of(args), command=args.command)
        failures.unexpected_print(log=log)
        return failures.EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
