"""联机模式 online mode commands: submit, status, confirm, fetch-returns, server. Each opens the
store, checks the user's tick, asks the USB key's PIN (mutual TLS needs the key, as signing does)
and calls the host-to-host API through ``payroll_client.online``.

Which tick each needs: submit and confirm are part of 文件加密 (the user who makes the file sends
it); status is 信息查询; fetch-returns is 文件回盘. Setting the bank's address is the administrator's.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from payroll_client import users
from payroll_client.commands import _acting, _open, _pin_opener, actor_resolve, return_made_print
from payroll_client.online import SERVER_ENV, SERVER_SETTING, Api, Server, tls_context
from payroll_client.outputs import outputs_write
from payroll_client.store import log_write, setting_get, setting_put, store_transaction
from payroll_exchange import clock, pki
from payroll_exchange.errors import ExchangeError, RowError

# One status poll a second: well inside the API's per-certificate limit (H2H_RATE, 600/min), and the
# progress (rows_done) moves visibly between two polls on a large file.
POLL_SECONDS = 1.0


# -- the connection ---------------------------------------------------------------------------

def server_of(*, args: argparse.Namespace, conn: sqlite3.Connection) -> Server:
    """--server, else PAYROLL_CLIENT_SERVER, else the address the administrator stored."""
    stored = setting_get(conn=conn, key=SERVER_SETTING)
    url = getattr(args, "server", None) or os.environ.get(SERVER_ENV, "").strip() or (
        stored.decode("utf-8") if stored else "")
    if not url:
        raise ExchangeError("server_missing", "未设置银企直连地址: 用 --server https://主机:端口, 或请管理员执行 "
                                              "payroll-client server https://主机:端口",
                            "no host-to-host address: give --server https://host:port, or have the administrator "
                            "run payroll-client server https://host:port")
    return Server.parse(url)


def api_open(*, args: argparse.Namespace, conn: sqlite3.Connection, user: users.User,
             action: str) -> tuple[Api, pki.Identity]:
    """The API with the USB key (PIN asked here, after the address and the root are known to be there)."""
    from payroll_client import keys

    server = server_of(args=args, conn=conn)
    root_pem = pki.cert_pem(keys.root_get(conn=conn))
    identity = _pin_opener(conn, user, action)()
    return Api(server=server, context=tls_context(identity=identity, root_pem=root_pem)), identity


@contextmanager
def _logged(conn: sqlite3.Connection, user: users.User, action: str) -> Iterator[None]:
    """A refusal of the bank goes into the action log (its code) on its way to the user."""
    try:
        yield
    except ExchangeError as exc:
        log_write(conn=conn, user_name=user.name, action=action, outcome="refused", detail=exc.code)
        raise


# -- what is printed ----------------------------------------------------------------------------

def batch_lines(*, batch: dict[str, Any]) -> list[str]:
    progress = f"{batch['rows_done']}/{batch['rows_total']}" if batch.get("rows_total") else "-"
    actions = ", ".join(batch.get("actions") or []) or "-"
    return [
        f"平台批次 batch id {batch['id']}  批次号 batch no {batch.get('batch_no') or '-'}  "
        f"协议 agreement {batch.get('agreement') or '-'}",
        f"  状态 status: {batch.get('label')} ({batch['status']})  进度 progress: {progress}",
        f"  发薪日期 pay date {batch.get('pay_date') or '-'}  笔数 count {batch.get('record_count') or 0}  "
        f"金额 amount {batch.get('total_amount') or '-'}  预计手续费 expected fee {batch.get('expected_fee') or '-'}",
        f"  可执行 actions: {actions}",
    ]


def result_lines(*, conn: sqlite3.Connection, result: dict[str, Any]) -> list[str]:
    """The pre-validation result's summary, and which file made on this PC the bank read."""
    lines = [f"  预校验结果 pre-validation: 错误 errors {result['error_total']}, 新增员工 new employees "
             f"{len(result['new_employees'])}, 每笔手续费 fee per payment {result['fee_per_payment']}"]
    for code, count in sorted((result.get("error_codes") or {}).items(), key=lambda item: -item[1]):
        lines.append(f"    [{code}]: {count}")
    for person in result["new_employees"][:20]:
        lines.append(f"    新增员工 new: {person['seq']} {person['name']} {person['account']}")
    if len(result["new_employees"]) > 20:
        lines.append(f"    … 另有 {len(result['new_employees']) - 20} 人 more")
    digest = result.get("digest") or ""
    if digest:
        made = conn.execute("SELECT * FROM files_made WHERE digest = ? ORDER BY id DESC LIMIT 1", (digest,)).fetchone()
        where = (f"对应本机 {made['made_at']} 制作的 {Path(made['path']).name} (制作 {made['operator']} 复核 "
                 f"{made['reviewer'] or '-'}) / made on this PC") if made else \
            "本机没有制作过此摘要的文件 / no file made on this PC has this digest"
        lines.append(f"  文件摘要 digest {digest}: {where}")
    return lines


def result_refusal(*, batch: dict[str, Any], result: dict[str, Any]) -> ExchangeError:
    errors = [RowError(code=e["code"], row=e.get("row"), field=e.get("field"), zh=e["zh"], en=e["en"])
              for e in result["errors"]]
    return ExchangeError("batch_invalid",
                         f"银行预校验未通过, 批次 {batch.get('batch_no') or batch['id']} 未入库 "
                         f"({result['error_total']} 处错误); 请改正后重新制作文件",
                         f"the bank's pre-validation refused batch {batch.get('batch_no') or batch['id']} "
                         f"({result['error_total']} errors); correct the sheet and make the file again",
                         errors=errors)


def batch_show(*, api: Api, conn: sqlite3.Connection, batch: dict[str, Any], page: int = 1) -> None:
    """Print the batch and its pre-validation summary; a refused batch ends as a refusal (exit 2)."""
    print("\n".join(batch_lines(batch=batch)))
    if batch["busy"]:
        return
    result = api.get_json(f"/batches/{batch['id']}/result/", page=str(page))
    print("\n".join(result_lines(conn=conn, result=result)))
    if batch["status"] == "invalid":
        raise result_refusal(batch=batch, result=result)
    if "confirm" in (batch.get("actions") or []):
        print(f"  确认入库 confirm: payroll-client confirm {batch['id']}")


def batch_wait(*, api: Api, batch_id: int, wait: float) -> dict[str, Any]:
    """Poll the status until the bank's job is done (or ``wait`` seconds passed), printing progress."""
    deadline = time.monotonic() + wait
    shown = ""
    try:
        while True:
            batch = api.get_json(f"/batches/{batch_id}/")
            done, total = batch.get("rows_done") or 0, batch.get("rows_total") or "?"
            line = f"  {batch.get('label')} ({batch['status']}) {done}/{total}"
            if line != shown:
                print(line, flush=True)
                shown = line
            if not batch["busy"]:
                return batch
            if time.monotonic() >= deadline:
                print(f"  仍在处理中, 稍后查看 still working; later: payroll-client status {batch_id}")
                return batch
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        # Not cli's "nothing was written": the bank has the file and carries on without us.
        print(f"\n已停止等待, 银行继续处理 stopped waiting; the bank carries on: payroll-client status {batch_id}",
              file=sys.stderr)
        raise SystemExit(130) from None


# -- commands ------------------------------------------------------------------------------------

def _upload_kind(*, conn: sqlite3.Connection, path: Path, given: str | None) -> str:
    """payroll, pain001 or employees: as given, else as this PC's history made the file (found by its
    name: the history keeps the path as typed, perhaps relative to another folder), else payroll."""
    if given:
        return given
    made = next((r for r in conn.execute("SELECT kind, sheet_kind, path FROM files_made ORDER BY id DESC")
                 if Path(r["path"]).name == path.name), None)
    if made is not None and made["kind"] == "employees":
        return "employees"
    from payroll_client.pain001 import XML_INFO

    if made is not None and made["sheet_kind"] == XML_INFO.kind_zh:  # 信息查询 keeps how the input was read
        return "pain001"
    return "payroll"


def submit_key(*, kind: str, data: bytes) -> str:
    """The Idempotency-Key of an upload: the same file sent again (a retry after a lost answer)
    replays the bank's first answer instead of making a second batch."""
    return f"payroll-client-{kind}-{hashlib.sha256(data).hexdigest()}"


def cmd_submit(args: argparse.Namespace) -> int:
    conn, user = _acting(args, "encrypt")
    path = Path(args.file).resolve()
    data = path.read_bytes()
    kind = _upload_kind(conn=conn, path=path, given=args.kind)
    api, _identity = api_open(args=args, conn=conn, user=user, action="submit")
    query = {"kind": kind, **({"agreement": args.agreement} if args.agreement else {})}
    with _logged(conn, user, "submit"):
        reply = api.post("/files/", key=submit_key(kind=kind, data=data), body=data,
                         content_type="application/octet-stream", **query)
    accepted = reply.json()
    replayed = reply.headers.get("idempotent-replayed") == "true"
    log_write(conn=conn, user_name=user.name, action="submit", outcome="ok",
              detail=f"{kind} id {accepted['id']} sha256 {hashlib.sha256(data).hexdigest()}"
                     f"{' replayed' if replayed else ''}")
    print(f"已提交 submitted: {path.name} → 平台编号 id {accepted['id']}"
          + ("  (此文件已提交过, 银行返回首次的结果 already submitted: the bank's first answer)" if replayed else ""))
    if kind == "employees":
        record = api.get_json(accepted["url"])
        print(f"  员工信息文件 employee file: {record['label']} ({record['status']}), 笔数 count "
              f"{record['record_count']}")
        return 0
    batch = batch_wait(api=api, batch_id=accepted["id"], wait=args.wait)
    batch_show(api=api, conn=conn, batch=batch)
    if args.confirm and "confirm" in (batch.get("actions") or []):
        return _confirm(api=api, conn=conn, user=user, batch_id=batch["id"], acknowledge=False, wait=args.wait)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    conn, user = _acting(args, "info_query")
    api, _identity = api_open(args=args, conn=conn, user=user, action="status")
    batch_show(api=api, conn=conn, batch=api.get_json(f"/batches/{args.batch}/"), page=args.page)
    return 0


def _confirm(*, api: Api, conn: sqlite3.Connection, user: users.User, batch_id: int, acknowledge: bool,
             wait: float) -> int:
    query = {"acknowledge_duplicate": "true"} if acknowledge else {}
    with _logged(conn, user, "confirm"):
        acted = api.post(f"/batches/{batch_id}/confirm/",
                         key=f"payroll-client-confirm-{batch_id}{'-ack' if acknowledge else ''}", **query).json()
    log_write(conn=conn, user_name=user.name, action="confirm", outcome="ok", detail=f"id {batch_id}")
    print(f"已确认入库 confirmed: 平台编号 id {batch_id} ({acted['status']})")
    batch = batch_wait(api=api, batch_id=batch_id, wait=wait)
    print("\n".join(batch_lines(batch=batch)))
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    conn, user = _acting(args, "encrypt")
    api, _identity = api_open(args=args, conn=conn, user=user, action="confirm")
    return _confirm(api=api, conn=conn, user=user, batch_id=args.batch, acknowledge=args.acknowledge_duplicate,
                    wait=args.wait)


def _fetched(*, conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """(batch number, pay date) of every return file decrypted here, online or from the kiosk's USB drive."""
    return {(r["batch_no"], r["pay_date"]) for r in conn.execute(
        "SELECT batch_no, pay_date FROM files_made WHERE kind = 'return'")}


def _store(*, out_dir: Path, name: str, data: bytes) -> Path:
    """Keep a download under the kiosk's name, so ``payroll-client return`` opens it again later;
    the same bytes already there (an interrupted earlier fetch) are kept as they are."""
    target = out_dir / name
    if target.exists() and target.read_bytes() == data:
        return target
    return outputs_write(out_dir=out_dir, files={name: data})[0]


def cmd_fetch_returns(args: argparse.Namespace) -> int:
    from payroll_client import returns

    conn, user = _acting(args, "return")
    api, identity = api_open(args=args, conn=conn, user=user, action="return")
    out_dir = Path(args.out)
    done = _fetched(conn=conn)
    listed = [r for r in api.get_json("/returns/") if (r["batch_no"], r["pay_date"]) not in done]
    if not listed:
        print("没有新的回盘文件 no new return files")
        return 0
    for entry in listed:
        documents = {d["kind"]: d for d in entry["documents"]}
        sealed = api.get_bytes(documents["return_file"]["url"])
        stored = _store(out_dir=out_dir, name=documents["return_file"]["name"], data=sealed)
        print(f"已下载回盘文件 return file downloaded: {stored}")
        paths, returned = returns.return_make(conn=conn, operator=user.name, data=sealed, now=clock.business_now(),
                                              out_dir=out_dir, usbkey=lambda: identity)
        return_made_print(conn=conn, paths=paths, returned=returned)
        h = returned.header
        if (h.success_count, f"{h.success_amount:.2f}", h.failure_count, f"{h.failure_amount:.2f}") != (
                entry["success_count"], entry["success_amount"], entry["failure_count"], entry["failure_amount"]):
            print("  注意: 回盘文件的汇总与银行列表不符, 请联系银行 / warning: the return file's totals differ from "
                  "the bank's list; contact the bank")
        if "pain002" in documents:
            report = _store(out_dir=out_dir, name=documents["pain002"]["name"],
                            data=api.get_bytes(documents["pain002"]["url"]))
            print(f"  ISO 20022 pain.002 状态报告 status report: {report}")
    log_write(conn=conn, user_name=user.name, action="fetch_returns", outcome="ok", detail=f"{len(listed)} files")
    return 0


def cmd_server(args: argparse.Namespace) -> int:
    conn = _open(args)
    user = actor_resolve(conn=conn, args=args)
    if not args.url:
        stored = setting_get(conn=conn, key=SERVER_SETTING)
        print(f"银企直连地址 host-to-host address: {stored.decode('utf-8') if stored else '(未设置 not set)'}")
        return 0
    users.function_require(conn=conn, user=user, function=users.ADMIN_FUNCTION)
    server = Server.parse(args.url)
    with store_transaction(conn=conn):
        setting_put(conn=conn, key=SERVER_SETTING, value=server.base.encode("utf-8"))
        log_write(conn=conn, user_name=user.name, action="server_set", outcome="ok", detail=server.base)
    print(f"已设置银企直连地址 host-to-host address set: {server.base}")
    return 0
