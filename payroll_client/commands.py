"""One handler per subcommand: open the store, find who is acting, check their tick, call one
service, print the result. No business rule lives here.

The file services (sheets, PDF, CMS) are imported inside their handlers: logging in or listing
users then starts in a fraction of the time, without loading openpyxl, reportlab and the CMS code.
"""

from __future__ import annotations

import argparse
import sqlite3
from datetime import date
from pathlib import Path

from payroll_client import prompts, users
from payroll_client.store import SheetFacts, data_dir_resolve, files_made_list, log_list, log_write, store_open
from payroll_exchange import clock
from payroll_exchange.errors import ExchangeError


def _open(args: argparse.Namespace) -> sqlite3.Connection:
    conn = store_open(data_dir=data_dir_resolve(given=args.data_dir))
    users.users_bootstrap(conn=conn)
    return conn


def actor_resolve(*, conn: sqlite3.Connection, args: argparse.Namespace) -> users.User:
    """--user / PAYROLL_CLIENT_USER with a password, else the user of the stored session."""
    import os

    name = args.user or os.environ.get(prompts.USER_ENV, "").strip()
    if name:
        password = prompts.secret_ask(prompt=f"用户 {name} 密码 password", env=prompts.PASSWORD_ENV)
        return users.user_authenticate(conn=conn, name=name, password=password)
    session = users.session_user(conn=conn)
    user = users.user_get(conn=conn, name=session) if session else None
    if user is None or not user.active:
        raise ExchangeError("login_required", "请先登录: payroll-client login <用户名>",
                            "log in first: payroll-client login <user>")
    return user


def _acting(args: argparse.Namespace, function: str) -> tuple[sqlite3.Connection, users.User]:
    conn = _open(args)
    user = actor_resolve(conn=conn, args=args)
    users.function_require(conn=conn, user=user, function=function)
    return conn, user


def _pin_opener(conn: sqlite3.Connection, user: users.User, action: str):
    from payroll_client import keys

    def open_key():
        print("请插入 USBKEY. Insert the USB key.")
        pin = prompts.secret_ask(prompt="USBKEY 密码 PIN", env=prompts.PIN_ENV)
        return keys.usbkey_open(conn=conn, pin=pin, user=user.name, action=action)
    return open_key


def _facts_print(facts: SheetFacts | None) -> None:
    """How the sheet was read, after a file was made from it (the review shows it for payroll)."""
    if facts is None:
        return
    from payroll_client.sheet_input import read_text

    shown = read_text(source=facts.source_file, sheet=facts.sheet_name, kind=facts.kind, encoding=facts.encoding)
    print(f"  读取 read: {shown}")
    if facts.hidden_rows:
        print(f"  隐藏行 hidden rows: {facts.hidden_rows}")


def _pairs_print(pairs: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in pairs)
    for label, value in pairs:
        print(f"  {label.ljust(width)}  {value}")


# -- 证书导入 -------------------------------------------------------------------------------------

def cmd_install(args: argparse.Namespace) -> int:
    from payroll_client import keys

    conn, user = _acting(args, users.ADMIN_FUNCTION)
    if not args.root and not args.usbkey:
        raise ExchangeError("install_nothing", "请给出 --root 和/或 --usbkey", "give --root and/or --usbkey")
    if args.root:
        cert = keys.root_read(data=Path(args.root).read_bytes())
        print(f"银行根证书 bank root: {cert.subject.rfc4514_string()}")
        print(f"SHA-256 指纹 fingerprint: {keys.root_fingerprint(cert=cert)}")
        print("请与银行打印的指纹逐字核对。Compare it with the fingerprint the bank printed.")
        if not prompts.confirm_ask(prompt="指纹一致? fingerprints match?", given=args.yes):
            log_write(conn=conn, user_name=user.name, action="root_trust", outcome="refused", detail="not confirmed")
            raise ExchangeError("root_not_confirmed", "未确认指纹, 未导入根证书 (核对后加 --yes 或输入 yes)",
                                "fingerprint not confirmed; nothing imported (add --yes, or type yes)")
        keys.root_trust(conn=conn, cert=cert, by=user.name)
        print("已导入银行根证书 bank root trusted.")
    if args.usbkey:
        pin = prompts.secret_ask(prompt="USBKEY 密码 PIN", env=prompts.PIN_ENV)
        identity = keys.usbkey_register(conn=conn, data=Path(args.usbkey).read_bytes(), pin=pin,
                                        now=clock.business_now(), by=user.name)
        print(f"已登记 USBKEY registered: {identity.cert.subject.rfc4514_string()}")
        print(f"企业证书指纹 certificate: {keys.pki.fingerprint_display(identity.fingerprint)}")
    return 0


# -- 用户管理 -------------------------------------------------------------------------------------

def cmd_login(args: argparse.Namespace) -> int:
    import os

    conn = _open(args)
    name = args.name or args.user or os.environ.get(prompts.USER_ENV, "").strip() or prompts.text_ask(
        prompt="用户名 user name")
    password = prompts.secret_ask(prompt="密码 password", env=prompts.PASSWORD_ENV)
    user = users.user_authenticate(conn=conn, name=name, password=password)
    if user.must_change:
        print("首次登录或密码已重置, 请设置新密码。First login or reset: choose a new password.")
        new = prompts.new_password_ask(prompt="新密码 new password")
        if new == password:
            raise ExchangeError("password_same", "新密码不能与管理员给的临时密码相同",
                                "the new password may not equal the temporary one the administrator gave")
        users.user_password_set(conn=conn, name=name, password=new, must_change=False, by=name)
    users.session_start(conn=conn, name=name)
    print(f"已登录 logged in: {name}")
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    name = users.session_end(conn=_open(args))
    print(f"已退出 logged out: {name}" if name else "未登录 nobody was logged in")
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    conn = _open(args)
    user = actor_resolve(conn=conn, args=args)
    current = prompts.secret_ask(prompt="当前密码 current password", env=prompts.PASSWORD_ENV)
    users.user_authenticate(conn=conn, name=user.name, password=current)
    new = prompts.new_password_ask(prompt="新密码 new password")
    users.user_password_set(conn=conn, name=user.name, password=new, must_change=False, by=user.name)
    print("密码已修改 password changed.")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    conn, _ = _acting(args, users.ADMIN_FUNCTION)
    for u in users.users_list(conn=conn):
        ticks = "管理用户 administrator" if u.is_admin else ", ".join(
            users.FUNCTIONS[c] for c in users.FUNCTIONS if c in u.functions) or "-"
        state = "启用 active" if u.active else "停用 disabled"
        print(f"  {u.name:6} {state:12} {ticks}")
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    conn, admin = _acting(args, users.ADMIN_FUNCTION)
    functions = users.functions_parse(text=args.functions)
    password = prompts.new_password_ask(prompt=f"用户 {args.name} 的密码 password")
    users.user_create(conn=conn, name=args.name, password=password, functions=functions, by=admin.name)
    print(f"已新增用户 user added: {args.name}  {', '.join(users.FUNCTIONS[c] for c in sorted(functions))}")
    print(f"  首次登录须修改密码 {args.name} must change this password at the first login: "
          f"payroll-client login {args.name}")
    return 0


def cmd_users_grant(args: argparse.Namespace) -> int:
    conn, admin = _acting(args, users.ADMIN_FUNCTION)
    functions = users.functions_parse(text=args.functions)
    users.user_functions_set(conn=conn, name=args.name, functions=functions, by=admin.name)
    print(f"已更新权限 functions set: {args.name}")
    return 0


def cmd_users_active(args: argparse.Namespace) -> int:
    conn, admin = _acting(args, users.ADMIN_FUNCTION)
    users.user_active_set(conn=conn, name=args.name, active=args.active, by=admin.name)
    print(f"{'已启用 enabled' if args.active else '已停用 disabled'}: {args.name}")
    return 0


def cmd_users_reset(args: argparse.Namespace) -> int:
    conn, admin = _acting(args, users.ADMIN_FUNCTION)
    password = prompts.new_password_ask(prompt=f"用户 {args.name} 的临时密码 temporary password")
    users.user_reset(conn=conn, name=args.name, password=password, by=admin.name)
    print(f"已重置 reset: {args.name} (下次登录须修改密码 must change it at the next login)")
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    conn, _ = _acting(args, users.ADMIN_FUNCTION)
    for row in reversed(log_list(conn=conn, limit=args.limit, user_name=args.of)):
        print(f"{row['at']}  {row['user_name'] or '-':6} {row['action']:22} {row['outcome']:8} {row['detail']}")
    return 0


# -- 协议 ------------------------------------------------------------------------------------------

def cmd_agreement_import(args: argparse.Namespace) -> int:
    from payroll_client import agreements

    conn = _open(args)
    user = actor_resolve(conn=conn, args=args)
    # The manual has the administrator or an ordinary user import it; both may, nobody else.
    users.function_require(conn=conn, user=user,
                           function=users.ADMIN_FUNCTION if user.is_admin else "agreement_query")
    package = agreements.agreement_import(conn=conn, data=Path(args.file).read_bytes(),
                                          now=clock.business_now(), by=user.name)
    print("协议导入成功 agreement imported:")
    _pairs_print(agreements.agreement_describe(agreement=package))
    return 0


def cmd_agreement_query(args: argparse.Namespace) -> int:
    from payroll_client import agreements

    conn, _ = _acting(args, "agreement_query")
    _pairs_print(agreements.agreement_describe(agreement=agreements.agreement_choose(conn=conn, given=args.agreement)))
    return 0


# -- 员工盘片 / 导入员工 --------------------------------------------------------------------------

def _column_map(args: argparse.Namespace, *, payroll_columns: bool):  # -> sheets.ColumnMap
    from payroll_exchange import sheets

    extra = {}
    if payroll_columns:
        extra = {"amount": args.amount_col, "remark": args.remark_col or None}
    return sheets.ColumnMap(name=args.name_col, account=args.account_col, id_type=args.id_type_col,
                            id_number=args.id_number_col, first_row=args.first_row, record_count=args.count,
                            **extra)


def cmd_disk_add(args: argparse.Namespace) -> int:
    from payroll_client import agreements, employees

    conn, user = _acting(args, "employee_disk")
    agreement = agreements.agreement_choose(conn=conn, given=args.agreement)
    row = employees.draft_add(conn=conn, agreement=agreement, id_type=args.id_type, id_number=args.id_number,
                              name=args.name, account=args.account, today=clock.business_today(), by=user.name)
    print(f"已添加 added #{row.id}: {row.name} {row.account}")
    return 0


def cmd_disk_remove(args: argparse.Namespace) -> int:
    from payroll_client import agreements, employees

    conn, user = _acting(args, "employee_disk")
    agreement = agreements.agreement_choose(conn=conn, given=args.agreement)
    removed = employees.draft_remove(conn=conn, agreement_no=agreement.agreement_no, row_ids=args.row, by=user.name)
    print(f"已删除 removed: {removed}")
    return 0


def cmd_disk_list(args: argparse.Namespace) -> int:
    from payroll_client import agreements, employees

    conn, _ = _acting(args, "employee_disk")
    agreement = agreements.agreement_choose(conn=conn, given=args.agreement)
    rows = employees.draft_list(conn=conn, agreement_no=agreement.agreement_no)
    for r in rows:
        print(f"  #{r.id:<5} {r.name:10} {r.account:20} {r.id_type} {r.id_number}")
    print(f"共 {len(rows)} 条 rows")
    return 0


def _employee_write(args: argparse.Namespace, *, function: str, source: str) -> int:
    from payroll_client import agreements, employees

    conn, user = _acting(args, function)
    agreement = agreements.agreement_choose(conn=conn, given=args.agreement)
    if source == "draft":
        def rows():
            return employees.rows_from_draft(conn=conn, agreement_no=agreement.agreement_no)
    else:
        from payroll_client import sheet_input

        data = Path(args.sheet).read_bytes()
        columns = _column_map(args, payroll_columns=False)

        def rows():
            return employees.rows_from_sheet(data=data, filename=args.sheet, columns=columns,
                                             choice=sheet_input.choice_from(args))
    path, made, digest, made_facts = employees.employee_make(
        conn=conn, operator=user.name, agreement=agreement, operation=args.operation, rows=rows,
        today=clock.business_today(), out_dir=Path(args.out), usbkey=_pin_opener(conn, user, function),
        source=source)
    print(f"员工信息盘片已生成 employee file written: {path}")
    print(f"  {employees.OPERATIONS[args.operation]} {args.operation}: {len(made.rows)} 条 rows; SHA-256 {digest}")
    _facts_print(made_facts)
    return 0


def cmd_disk_write(args: argparse.Namespace) -> int:
    return _employee_write(args, function="employee_disk", source="draft")


def cmd_employee_import(args: argparse.Namespace) -> int:
    return _employee_write(args, function="employee_import", source="sheet")


# -- 文件加密 -------------------------------------------------------------------------------------

def _pay_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ExchangeError("pay_date_format", f"发薪日期格式须为 YYYY-MM-DD: {text}",
                            f"the pay date is YYYY-MM-DD: {text}") from None


def _key_once(open_key):  # noqa: ANN001, ANN202 — the PIN is asked once for decrypting and signing
    opened = []

    def once():
        if not opened:
            opened.append(open_key())
        return opened[0]
    return once


def _corrects_open(*, conn: sqlite3.Connection, path: Path, usbkey, given: str | None):  # noqa: ANN001, ANN202
    """The return file of --corrects, decrypted and its bank signature checked: the failed rows a
    correction may pay again, its agreement, and the original payroll file's digest if made here."""
    from payroll_client import corrections, returns

    returned, agreement, _digest = returns.return_open(conn=conn, data=path.read_bytes(), identity=usbkey(),
                                                       now=clock.business_now())
    if given and given != agreement.agreement_no:
        raise ExchangeError("correction_agreement", f"回盘文件属于协议 {agreement.agreement_no}, 不是 {given}",
                            f"the return file belongs to agreement {agreement.agreement_no}, not {given}")
    # The return file (version 2) names the payroll file it answers; else this PC's history does.
    digest = getattr(returned.header, "payroll_digest", "") or corrections.original_digest(
        conn=conn, agreement_no=agreement.agreement_no, batch_no=returned.header.batch_no)
    return returned, agreement, digest


def cmd_encrypt(args: argparse.Namespace) -> int:
    from payroll_client import agreements, payroll, review, sheet_input
    from payroll_client.pain001 import is_pain001

    # Who may encrypt is asked before anything of the file is read: a user without 文件加密 learns
    # nothing about it, and is told so even when the path is wrong.
    conn, user = _acting(args, "encrypt")
    if is_pain001(filename=args.sheet, data=Path(args.sheet).read_bytes()[:512]):
        return _encrypt_pain001(args, conn=conn, user=user)
    if not args.pay_date or not args.batch:
        raise ExchangeError("encrypt_arguments", "工资表须给出 --pay-date 和 --batch",
                            "a payroll sheet needs --pay-date and --batch")
    usbkey = _pin_opener(conn, user, "encrypt")
    corrects, corrects_digest = None, ""
    if args.corrects:  # 更正: the return file is opened (USB key) before the sheet is read
        usbkey = _key_once(usbkey)
        corrects, agreement, corrects_digest = _corrects_open(conn=conn, path=Path(args.corrects), usbkey=usbkey,
                                                              given=args.agreement)
    else:
        agreement = agreements.agreement_choose(conn=conn, given=args.agreement)
    columns = _column_map(args, payroll_columns=True)
    request = payroll.PayrollRequest(
        data=Path(args.sheet).read_bytes(), filename=args.sheet, columns=columns,
        agreement=agreement, pay_date=_pay_date(args.pay_date), batch_no=args.batch.strip(),
        purpose=args.purpose, today=clock.business_today(), choice=sheet_input.choice_from(args),
        reuse_batch=args.reuse_batch, corrects=corrects, corrects_digest=corrects_digest)

    def review_ask(prepared: payroll.Prepared) -> tuple[str, str]:
        print("\n".join(review.review_lines(payroll=prepared.payroll, agreement=agreement, columns=columns,
                                             info=prepared.info, filename=args.sheet, warnings=prepared.warnings)))
        print("\n".join(review.changes_review_lines(conn=conn, payroll=prepared.payroll)))
        name = args.reviewer or prompts.text_ask(prompt="复核人用户名 reviewer", env=prompts.REVIEWER_ENV)
        password = prompts.secret_ask(prompt=f"复核人 {name} 密码 password", env=prompts.REVIEWER_PASSWORD_ENV)
        return name, password

    paths, checklist, prepared = payroll.payroll_make(
        conn=conn, operator=user, request=request, out_dir=Path(args.out), review=review_ask, usbkey=usbkey)
    print("工资文件已加密 payroll file written:")
    for path in paths:
        print(f"  {path}")
    print(f"  SHA-256 {checklist.digest}")
    for line in review.warnings_lines(warnings=prepared.warnings):
        print(line)
    print("请打印代理业务核对清单并加盖公章。Print the checklist and stamp it.")
    return 0


def _encrypt_pain001(args: argparse.Namespace, *, conn: sqlite3.Connection, user: users.User) -> int:
    """文件加密 of an ISO 20022 pain.001 XML (payroll_client/pain001.py): same review, key and checklist."""
    from payroll_client import agreements, pain001, review

    agreement = agreements.agreement_choose(conn=conn, given=args.agreement)
    request = pain001.Pain001Request(data=Path(args.sheet).read_bytes(), filename=args.sheet, agreement=agreement,
                                     today=clock.business_today(), reuse_batch=args.reuse_batch)

    def review_ask(prepared) -> tuple[str, str]:  # noqa: ANN001
        print("\n".join(review.review_lines(payroll=prepared.payroll, agreement=agreement, columns=None,
                                             info=prepared.info, filename=args.sheet, warnings=prepared.warnings)))
        name = args.reviewer or prompts.text_ask(prompt="复核人用户名 reviewer", env=prompts.REVIEWER_ENV)
        password = prompts.secret_ask(prompt=f"复核人 {name} 密码 password", env=prompts.REVIEWER_PASSWORD_ENV)
        return name, password

    paths, checklist, _prepared = pain001.pain001_make(conn=conn, operator=user, request=request,
                                                       out_dir=Path(args.out), review=review_ask,
                                                       usbkey=_pin_opener(conn, user, "encrypt"))
    print("pain.001 文件已签名加密 pain.001 file signed and encrypted:")
    for path in paths:
        print(f"  {path}")
    print(f"  SHA-256 {checklist.digest}")
    print("请打印代理业务核对清单并加盖公章。Print the checklist and stamp it.")
    return 0


# -- 文件回盘 / 信息查询 / 批量开户 ----------------------------------------------------------------

def cmd_return(args: argparse.Namespace) -> int:
    from payroll_client import returns

    conn, user = _acting(args, "return")
    paths, returned = returns.return_make(conn=conn, operator=user.name, data=Path(args.file).read_bytes(),
                                          now=clock.business_now(), out_dir=Path(args.out),
                                          usbkey=_pin_opener(conn, user, "return"))
    return_made_print(conn=conn, paths=paths, returned=returned)
    return 0


def return_made_print(*, conn: sqlite3.Connection, paths: list[Path], returned) -> None:  # noqa: ANN001
    """What 文件回盘 shows; also after the online fetch-returns (payroll_client/online_commands.py)."""
    from payroll_client import returns

    h = returned.header
    print(f"回盘完成 return file decrypted: 成功 paid {h.success_count} 笔 {h.success_amount:.2f} 元, "
          f"失败 failed {h.failure_count} 笔 {h.failure_amount:.2f} 元")
    print(returns.return_answers(conn=conn, returned=returned))  # which file made on this PC it answers
    for path in paths:
        print(f"  {path}")


def cmd_history(args: argparse.Namespace) -> int:
    from payroll_client.sheet_input import read_text

    conn, _ = _acting(args, "info_query")
    rows = files_made_list(conn=conn, agreement_no=args.agreement)
    for r in rows:
        print(f"{r['made_at']}  {r['kind']:9} {r['agreement_no']} {r['batch_no'] or r['operation']:10} "
              f"{r['pay_date'] or '-':10} {r['record_count']:>7} {r['total_amount'] or '-':>14}  "
              f"制作 {r['operator']} 复核 {r['reviewer'] or '-'}  {r['digest']}")
        if r["source_file"]:
            read = read_text(source=r["source_file"], sheet=r["sheet_name"], kind=r["sheet_kind"],
                             encoding=r["sheet_encoding"])
            hidden = f"  隐藏行 {r['hidden_rows']}" if r["hidden_rows"] else ""
            print(f"    读取 read: {read}{hidden}")
    print(f"共 {len(rows)} 个文件 files")
    return 0


def cmd_account_opening(args: argparse.Namespace) -> int:
    from payroll_client import account_opening, agreements, sheet_input

    conn, user = _acting(args, "account_opening")
    agreement = agreements.agreement_choose(conn=conn, given=args.agreement)
    columns = account_opening.OpeningColumns(
        id_type=args.id_type_col, id_number=args.id_number_col, name=args.name_col, phone=args.phone_col,
        remark=args.remark_col or None, first_row=args.first_row, record_count=args.count)
    path, made, digest, made_facts = account_opening.request_make(
        conn=conn, operator=user.name, agreement=agreement, data=Path(args.sheet).read_bytes(), filename=args.sheet,
        columns=columns, today=clock.business_today(), out_dir=Path(args.out),
        usbkey=_pin_opener(conn, user, "account_opening"), choice=sheet_input.choice_from(args))
    print(f"批量开户文件已生成 account opening file written: {path}")
    print(f"  {len(made.rows)} 人 people; SHA-256 {digest}")
    _facts_print(made_facts)
    print("请携带此文件到银行柜台办理开户。Take this file to the bank's counter.")
    return 0


def cmd_account_opening_result(args: argparse.Namespace) -> int:
    from payroll_client import account_opening

    conn, user = _acting(args, "account_opening")
    paths, result = account_opening.result_make(
        conn=conn, operator=user.name, data=Path(args.file).read_bytes(), now=clock.business_now(),
        out_dir=Path(args.out), usbkey=_pin_opener(conn, user, "account_opening"))
    h = result.header
    print(f"开户结果 account opening result: 成功 opened {h.opened_count} 人, 未开户 refused {h.refused_count} 人")
    for path in paths:
        print(f"  {path}")
    return 0
