"""Benchmark: peak memory of a real worker and a real web worker for uploads up to UPLOAD_MAX_BYTES
(not a test).

    .venv/bin/python benchmarks/bench_memory.py [--only malformed|random|rows]

Three files, each in a valid envelope (signed by the agreement's key, encrypted for the bank):
- ``malformed``: UPLOAD_MAX_BYTES of malformed record lines (a valid header, then lines that fail
  to parse), the error-amplification case;
- ``random``: a 45 MB random payload (not a record file at all);
- ``rows``: a valid 100,000-row payroll file, stored after confirmation.

For each file: a fresh gunicorn (one sync worker) and a fresh Celery worker (concurrency 1) on a
scratch PostgreSQL database (dropped at the end, also on error) and the local Redis. The kiosk is
driven over HTTP as an agent would: card login, upload, wait for pre-validation, the report
downloaded as text and as CSV, and (for ``rows``) confirmation and storing. Peak RSS is VmHWM from
/proc of the gunicorn worker process and of the Celery pool process (the ones doing the work), read
before they stop. Aims (issue 11): worker <= 400 MB, web <= 150 MB. The baseline beside each figure
is the same process's VmHWM right after it started (Django loaded, nothing done yet).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_intake import BUSINESS_NOW, django_setup, world_make  # noqa: E402 — after the path insert
from benchmarks.scratch import (  # noqa: E402
    SCRATCH_DB,
    SERVER,
    free_port,
    require,
    scratch_db_create,
    scratch_db_drop,
    vm_hwm_mb,
    wait_for,
)
from config.queues import queue_names  # noqa: E402 — after the path insert

MB = 1024 * 1024
AIM_WORKER_MB = 400
AIM_WEB_MB = 150
PROJECT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


class Proc:
    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self.popen = subprocess.Popen(argv, cwd=PROJECT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()


class Kiosk:
    """An agent at the kiosk, over HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _csrf(self, html: str) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        require(match is not None, "no CSRF token on the page")
        return match.group(1)

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.base + path, timeout=120) as response:
            return response.status, response.read().decode("utf-8", "replace")

    def download(self, path: str) -> int:
        """Read a download in chunks; return its size."""
        size = 0
        with self.opener.open(self.base + path, timeout=300) as response:
            require(response.status == 200, f"{path}: HTTP {response.status}")
            while chunk := response.read(1 << 16):
                size += len(chunk)
        return size

    def post(self, path: str, fields: dict[str, str], *, page: str) -> tuple[int, str, str]:
        fields = {"csrfmiddlewaretoken": self._csrf(page), **fields}
        request = urllib.request.Request(  # noqa: S310 — our own http://127.0.0.1 server
            self.base + path, data=urllib.parse.urlencode(fields).encode(), headers={"Referer": self.base + path})
        with self.opener.open(request, timeout=120) as response:
            return response.status, response.geturl(), response.read().decode("utf-8", "replace")

    def login(self, *, card: str, pin: str) -> None:
        _status, page = self.get("/")
        _status, url, _body = self.post("/", {"card": card, "pin": pin}, page=page)
        require("/home/" in url, f"login failed: ended at {url}")

    def upload(self, *, data: bytes, name: str) -> int:
        _status, page = self.get("/payroll/upload/")
        agreement = re.search(r'name="agreement" value="(\d+)"|<option value="(\d+)"', page)
        require(agreement is not None, "no agreement on the upload page")
        boundary = uuid.uuid4().hex
        parts = []
        fields = {"csrfmiddlewaretoken": self._csrf(page), "agreement": agreement.group(1) or agreement.group(2)}
        for key, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="upload"; filename="{name}"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n".encode())
        body = b"".join(parts) + data + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(  # noqa: S310 — our own http://127.0.0.1 server
            self.base + "/payroll/upload/", data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                     "Referer": self.base + "/payroll/upload/"})
        with self.opener.open(request, timeout=300) as response:
            url = response.geturl()
        match = re.search(r"/payroll/(\d+)/$", url)
        require(match is not None, f"upload did not end on a batch page: {url}")
        return int(match.group(1))


def payload_malformed(limit: int, *, agreement_no: str = "DF0001", payer_unit_no: str = "U31001") -> bytes:
    """A valid header (the agreement's, written by the format's own writer), then malformed record
    lines up to ``limit`` bytes: every line is a row error."""
    from datetime import date
    from decimal import Decimal

    from payroll_exchange.formats import payroll_dump
    from payroll_exchange.records import PayrollFile, PayrollHeader

    header = PayrollHeader(format_version="1", agreement_no=agreement_no, payer_unit_no=payer_unit_no,
                           batch_no="B20261299", pay_date=date(2026, 12, 5), currency="CNY", record_count=1,
                           total_amount=Decimal("1.00"), purpose="工资")
    head = payroll_dump(PayrollFile(header=header, rows=[]))
    line = b"D|not a record line\n"
    return head + line * ((limit - len(head)) // len(line))


def measure(kind: str, *, party, sealed_rows: bytes, env: dict[str, str], work: Path) -> dict[str, float | str]:
    from apps.agreements.services import bank_identity
    from apps.payroll.models import BatchStatus, PayrollBatch
    from payroll_exchange.envelope import envelope_seal
    from tests.factories import CARD_PIN, CHECK_CODE

    limit = int(os.environ.get("UPLOAD_MAX_BYTES", 50 * MB))
    envelope_room = 64 * 1024  # CMS, certificate, transport header
    if kind == "malformed":
        data = envelope_seal(payload=payload_malformed(limit - envelope_room), kind="payroll",
                             signer=party.identity, recipient_cert=bank_identity().cert)
    elif kind == "random":
        data = envelope_seal(payload=secrets.token_bytes(45 * MB), kind="payroll", signer=party.identity,
                             recipient_cert=bank_identity().cert)
    else:
        data = sealed_rows
    require(len(data) <= limit, f"{kind}: {len(data)} bytes is over UPLOAD_MAX_BYTES")

    port = free_port()
    web = Proc([PYTHON, "-m", "gunicorn", "config.wsgi", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                "--timeout", "300"], env, work / f"web-{kind}.log")
    queues = ",".join(queue_names(default=env["CELERY_QUEUE"]))  # the default queue and each stage's
    worker = Proc([PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", queues, "--concurrency",
                   "1", "--without-gossip", "--without-mingle", "--loglevel", "INFO", "-n", f"bench-{kind}@%h"],
                  env, work / f"worker-{kind}.log")
    try:
        wait_for(lambda: " ready." in worker.log(), seconds=120, what="the worker")
        wait_for(lambda: "Booting worker" in web.log(), seconds=60, what="gunicorn")
        kiosk = Kiosk(f"http://127.0.0.1:{port}")
        wait_for(lambda: _answers(kiosk), seconds=60, what="the kiosk page")
        web_pid = children(web.popen.pid)[0]
        pool_pid = children(worker.popen.pid)[0]
        idle = {"web": vm_hwm_mb(web_pid), "worker": vm_hwm_mb(pool_pid)}

        kiosk.login(card=party.card_number, pin=CARD_PIN)
        started = time.perf_counter()
        batch_id = kiosk.upload(data=data, name=f"{kind}.p7m")
        upload_s = time.perf_counter() - started
        wait_for(lambda: PayrollBatch.objects.get(pk=batch_id).status != BatchStatus.VALIDATING, seconds=600,
                 what="pre-validation")
        batch = PayrollBatch.objects.get(pk=batch_id)
        status, _page = kiosk.get(f"/payroll/{batch_id}/")
        require(status == 200, "batch page")
        report_txt = kiosk.download(f"/payroll/{batch_id}/report.txt")
        report_csv = kiosk.download(f"/payroll/{batch_id}/report.csv")
        if kind == "rows":
            require(batch.status == BatchStatus.AWAITING_CONFIRMATION, f"rows: {batch.status} {batch.errors[:2]}")
            _status, page = kiosk.get(f"/payroll/{batch_id}/")
            # 核对清单核对 first: the kiosk confirms only with the checklist's 核对码 (the factory's CHECK_CODE).
            _status, _url, page = kiosk.post(f"/payroll/{batch_id}/checklist/", {"checklist": CHECK_CODE}, page=page)
            kiosk.post(f"/payroll/{batch_id}/confirm/", {}, page=page)
            wait_for(lambda: PayrollBatch.objects.get(pk=batch_id).status == BatchStatus.STORED, seconds=600,
                     what="storing")
        else:
            require(batch.status == BatchStatus.INVALID, f"{kind}: {batch.status}")
        batch.refresh_from_db()
        return {
            "kind": kind, "upload_mb": len(data) / MB, "status": batch.status, "errors": batch.error_count,
            "report_kb": (report_txt + report_csv) / 1024, "upload_s": upload_s,
            "web_idle": idle["web"], "web_peak": vm_hwm_mb(web_pid),
            "worker_idle": idle["worker"], "worker_peak": vm_hwm_mb(pool_pid),
        }
    finally:
        worker.stop()
        web.stop()


def _answers(kiosk: Kiosk) -> bool:
    try:
        return kiosk.get("/")[0] == 200
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("malformed", "random", "rows"), action="append")
    args = parser.parse_args()
    kinds = args.only or ["malformed", "random", "rows"]

    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    private_dir = str(work / "private")
    scratch_db_create()
    try:
        django_setup(private_dir)
        party, _rows, sealed_rows = world_make(100_000)
        from django.conf import settings

        env = os.environ.copy()
        env.update(DATABASE_URL=f"{SERVER}/{SCRATCH_DB}", PRIVATE_FILES_DIR=private_dir,
                   DJANGO_SETTINGS_MODULE="config.settings.test", BUSINESS_CLOCK=BUSINESS_NOW,
                   CELERY_BROKER_URL=settings.CELERY_BROKER_URL, CELERY_QUEUE=settings.CELERY_TASK_DEFAULT_QUEUE,
                   CACHE_KEY_PREFIX=f"bench-memory-{os.getpid()}", PYTHONPATH=str(PROJECT))
        results = [measure(kind, party=party, sealed_rows=sealed_rows, env=env, work=work) for kind in kinds]
    finally:
        scratch_db_drop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"\nPeak RSS (VmHWM, MiB): aim worker <= {AIM_WORKER_MB}, web <= {AIM_WEB_MB}; idle = just started")
    print(f"{'file':<10} {'upload':>8} {'status':<22} {'errors':>9} {'report':>9} "
          f"{'worker idle/peak':>17} {'aim':>5} {'web idle/peak':>14} {'aim':>5}")
    for r in results:
        worker_ok = "ok" if r["worker_peak"] <= AIM_WORKER_MB else "OVER"
        web_ok = "ok" if r["web_peak"] <= AIM_WEB_MB else "OVER"
        print(f"{r['kind']:<10} {r['upload_mb']:>6.1f}MB {r['status']:<22} {r['errors']:>9} {r['report_kb']:>7.0f}kB "
              f"{r['worker_idle']:>7.0f} /{r['worker_peak']:>7.0f} {worker_ok:>5} "
              f"{r['web_idle']:>5.0f} /{r['web_peak']:>6.0f} {web_ok:>5}")


if __name__ == "__main__":
    main()
