"""The enterprise client and the kiosk driven as a user would, for end-to-end tests: the
installed ``payroll-client`` console script, and the kiosk over real HTTP with a cookie jar."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

CLIENT = str(Path(sys.executable).with_name("payroll-client"))
ADMIN_PASSWORD = "Admin#2026"
OPERATOR, REVIEWER = "0001", "0002"
PASSWORDS = {OPERATOR: "op-0001-pw", REVIEWER: "rv-0002-pw"}


@dataclass
class EnterpriseClient:
    """One enterprise PC: a data folder, the bank root trusted, the USB key registered, an
    operator and a reviewer, and the agreement package imported."""

    home: Path
    usbkey_pin: str
    clock: str  # BUSINESS_CLOCK value shared with the bank side
    base_env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, user: str | None = OPERATOR, env: dict[str, str] | None = None):
        full = {k: v for k, v in os.environ.items() if not k.startswith("PAYROLL_CLIENT")}
        full.update(self.base_env, PAYROLL_CLIENT_HOME=str(self.home), BUSINESS_CLOCK=self.clock,
                    PAYROLL_CLIENT_PIN=self.usbkey_pin)
        if user:
            full["PAYROLL_CLIENT_USER"] = user
            full["PAYROLL_CLIENT_PASSWORD"] = ADMIN_PASSWORD if user == "admin" else PASSWORDS[user]
        full.update(env or {})
        result = subprocess.run([CLIENT, *args], capture_output=True, text=True, env=full, timeout=120, check=False)
        if result.returncode != 0:
            raise AssertionError(f"payroll-client {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def set_up(self, *, root_pem: Path, usbkey: Path, agreement_package: Path) -> None:
        self.run("login", "admin", user=None,
                 env={"PAYROLL_CLIENT_PASSWORD": "admin", "PAYROLL_CLIENT_NEW_PASSWORD": ADMIN_PASSWORD})
        self.run("install", "--root", str(root_pem), "--yes", "--usbkey", str(usbkey), user="admin")
        for name, functions in ((OPERATOR, "文件加密,文件回盘,员工盘片,导入员工,协议查询,信息查询"),
                                (REVIEWER, "文件加密")):
            self.run("users", "add", name, "--functions", functions, user="admin",
                     env={"PAYROLL_CLIENT_NEW_PASSWORD": f"first-{name}"})
            # a user the administrator created must change the first password at the first login
            self.run("login", name, user=None, env={"PAYROLL_CLIENT_PASSWORD": f"first-{name}",
                                                    "PAYROLL_CLIENT_NEW_PASSWORD": PASSWORDS[name]})
        self.run("agreement-import", str(agreement_package))

    def payroll_encrypt(self, *, sheet: Path, pay_date: str, batch: str, out: Path, extra: tuple[str, ...] = ()):
        return self.run("encrypt", str(sheet), "--pay-date", pay_date, "--batch", batch, "--out", str(out), *extra,
                        env={"PAYROLL_CLIENT_REVIEWER": REVIEWER,
                             "PAYROLL_CLIENT_REVIEWER_PASSWORD": PASSWORDS[REVIEWER]})


class KioskHttp:
    """The kiosk over HTTP, as a browser without JavaScript would use it."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.geturl(), response.read().decode("utf-8")

    def post(self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None):
        headers = {"Referer": self.base + path, "X-CSRFToken": self._csrf()}
        fields = {"csrfmiddlewaretoken": self._csrf(), **fields}
        if files:
            boundary = uuid.uuid4().hex
            parts = []
            for name, value in fields.items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                             f"{value}\r\n".encode())
            for name, (filename, content) in files.items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                             f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
                             + content + b"\r\n")
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        else:
            body = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        # Our own loopback kiosk over http://; no other scheme is ever built here.
        request = urllib.request.Request(self.base + path, data=body, headers=headers, method="POST")  # noqa: S310
        with self.opener.open(request, timeout=60) as response:
            return response.geturl(), response.read().decode("utf-8")

    def login(self, *, card: str, pin: str) -> str:
        self.get("/")
        url, _page = self.post("/", {"card": f";{card}=28121010000000000000?", "pin": pin})
        return url

    def agreement_choice(self, page: str) -> str:
        match = re.search(r'name="agreement"[^>]*value="(\d+)"|<option value="(\d+)"', page)
        if not match:
            raise AssertionError("no agreement to choose on the upload page")
        return match.group(1) or match.group(2)

    def payroll_upload(self, *, filename: str, data: bytes) -> int:
        _url, page = self.get("/payroll/upload/")
        url, _page = self.post("/payroll/upload/", {"agreement": self.agreement_choice(page)},
                               files={"upload": (filename, data)})
        match = re.search(r"/payroll/(\d+)/$", url)
        if not match:
            raise AssertionError(f"upload did not lead to the batch page: {url}\n{_page[:2000]}")
        return int(match.group(1))

    def batch_status(self, batch_id: int) -> dict:
        _url, body = self.get(f"/api/batches/{batch_id}/status/?auto=1")
        return json.loads(body)
