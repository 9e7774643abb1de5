"""协议信息导入 / 协议查询: the bank-signed agreement packages the client knows."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from payroll_client import prompts
from payroll_client.keys import trust_store
from payroll_client.store import log_write, now_text, store_transaction
from payroll_exchange import agreement_package, envelope, pki
from payroll_exchange.errors import ExchangeError
from payroll_exchange.records import AgreementPackage


def agreement_import(*, conn: sqlite3.Connection, data: bytes, now: datetime, by: str) -> AgreementPackage:
    """Verify the package's bank signature under the trusted root, then keep it. A tampered
    package or one signed under another root is refused by ``signed_open`` and nothing is kept."""
    trust = trust_store(conn=conn)
    try:
        opened = envelope.signed_open(data=data, trust=trust, now=now, expected_kind="agreement")
        if pki.cert_role(opened.signer) not in (None, "bank"):
            raise ExchangeError("agreement_signer", "协议数据包不是银行签发的",
                                "the agreement package was not signed by the bank")
        package = agreement_package.agreement_load(opened.payload)
    except ExchangeError as exc:
        log_write(conn=conn, user_name=by, action="agreement_import", outcome="refused", detail=exc.code)
        raise
    with store_transaction(conn=conn):
        # A renewed agreement keeps its number: the newer package replaces the older one.
        conn.execute(
            "INSERT INTO agreements (agreement_no, package, payload, company_name, imported_at, imported_by) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(agreement_no) DO UPDATE SET package = excluded.package, "
            "payload = excluded.payload, company_name = excluded.company_name, "
            "imported_at = excluded.imported_at, imported_by = excluded.imported_by",
            (package.agreement_no, data, opened.payload, package.company_name, now_text(), by),
        )
        log_write(conn=conn, user_name=by, action="agreement_import", outcome="ok",
                  detail=f"agreement {package.agreement_no} digest {opened.digest}")
    return package


def agreements_list(*, conn: sqlite3.Connection) -> list[AgreementPackage]:
    rows = conn.execute("SELECT payload FROM agreements ORDER BY agreement_no")
    return [agreement_package.agreement_load(bytes(r["payload"])) for r in rows]


def agreement_choose(*, conn: sqlite3.Connection, given: str | None) -> AgreementPackage:
    """--agreement when given; the only one when there is one; otherwise ask at the terminal."""
    agreements = agreements_list(conn=conn)
    if not agreements:
        raise ExchangeError("agreement_missing", "尚未导入协议数据包, 请先执行 协议信息导入 (agreement-import)",
                            "no agreement imported yet; run agreement-import first")
    by_no = {a.agreement_no: a for a in agreements}
    if given:
        if given not in by_no:
            raise ExchangeError("agreement_unknown", f"没有协议 {given}; 已导入: {', '.join(by_no)}",
                                f"no agreement {given}; imported: {', '.join(by_no)}")
        return by_no[given]
    if len(agreements) == 1:
        return agreements[0]
    if not prompts.interactive():
        raise ExchangeError("agreement_choose", f"有多个协议, 请用 --agreement 指定: {', '.join(by_no)}",
                            f"several agreements; choose one with --agreement: {', '.join(by_no)}")
    for index, a in enumerate(agreements, 1):
        print(f"  {index}. {a.agreement_no}  {a.company_name}  {a.payer_unit_no}")
    answer = prompts.text_ask(prompt="选择协议 choose the agreement (number)")
    if answer in by_no:
        return by_no[answer]
    if answer.isdigit() and 1 <= int(answer) <= len(agreements):
        return agreements[int(answer) - 1]
    raise ExchangeError("agreement_unknown", f"没有协议 {answer}", f"no agreement {answer}")


def agreement_describe(*, agreement: AgreementPackage) -> list[tuple[str, str]]:
    a = agreement
    return [
        ("企业名称 Company", a.company_name),
        ("协议编号 Agreement", a.agreement_no),
        ("发薪单位号 Payer unit", a.payer_unit_no),
        ("协议期限 Term", f"{a.start_date.isoformat()} ~ {a.end_date.isoformat()}"),
        ("每笔手续费 Fee per payment (元/笔)", f"{a.fee_per_payment:.2f}"),
        ("单笔发放限额 Single payment limit (元)", f"{a.single_limit:.2f}"),
        ("结算账户 Settlement account", a.settlement_account),
        ("企业证书指纹 Enterprise certificate", pki.fingerprint_display(a.enterprise_cert_fingerprint)),
    ]
