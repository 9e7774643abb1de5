"""Locust load for issue 15's P7: the kiosk as a branch uses it (run by benchmarks/bench_kiosk_load.py).

    locust -f benchmarks/locust_kiosk.py --headless -u 20 -r 2 -t 90s --host http://127.0.0.1:PORT

Each simulated agent (one locust user) is one kiosk with its own company's service card: it opens
the login page, logs in once with its card number and PIN, then polls the status API every 2 s
(as the 入库中 page does, with ``?auto=1`` so the poll never extends the idle timer) and opens one
信息查询 page every 10 s (every fifth tick, in turn: 查询工资文件 of today, a batch's page, 查询员工文件
of a week ago, 回盘文件查询, 查询工资文件 of a week ago). The agents come from the JSON file named by
``KIOSK_AGENTS`` (card, pin, batch, address, day); the first agent's company runs the big intake, so
it polls the batch id the benchmark writes to ``KIOSK_INTAKE_BATCH_FILE`` once a file is submitted.

Each agent connects from its own loopback address (127.0.0.x): a branch's kiosks are separate
machines on the branch network, and the kiosk's login limit counts per client address.

The web process runs with production settings behind no TLS proxy here: every request says
``X-Forwarded-Proto: https`` as the bank's TLS terminator would (SECURE_PROXY_SSL_HEADER), and the
client keeps the session and CSRF cookies although they are marked Secure (requests would not send
a Secure cookie over plain http; in production the browser talks https to the proxy).
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

from locust import HttpUser, constant_pacing, task
from urllib3 import PoolManager

AGENTS = json.loads(Path(os.environ["KIOSK_AGENTS"]).read_text(encoding="utf-8"))
INTAKE_BATCH_FILE = os.environ.get("KIOSK_INTAKE_BATCH_FILE", "")
POLL_SECONDS = 2
QUERY_EVERY = 5  # ticks: one query page every 10 s
_next_agent = itertools.count()


def _csrf_token(html: str) -> str:
    marker = 'name="csrfmiddlewaretoken" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


class KioskAgent(HttpUser):
    wait_time = constant_pacing(POLL_SECONDS)

    def __init__(self, environment) -> None:
        self.agent = AGENTS[next(_next_agent) % len(AGENTS)]
        # One connection pool bound to this kiosk's own source address.
        self.pool_manager = PoolManager(source_address=(self.agent["address"], 0))
        super().__init__(environment)
        origin = "https://" + self.host.split("://", 1)[1].rstrip("/")
        self.client.headers.update({"X-Forwarded-Proto": "https", "Origin": origin, "Referer": origin + "/"})
        self.ticks = 0
        day = self.agent["day"]  # an upload date with files on it (a week ago)
        self.pages = itertools.cycle([
            ("query: 查询工资文件 /payroll/ (today)", "/payroll/", "payroll"),
            ("query: batch page /payroll/[id]/", f"/payroll/{self.agent['batch']}/", "payroll"),
            ("query: 查询员工文件 /employees/?upload_date=", f"/employees/?upload_date={day}", "employees"),
            ("query: 回盘文件查询 /returns/", "/returns/", "returns"),
            ("query: 查询工资文件 /payroll/?upload_date=", f"/payroll/?upload_date={day}", "payroll"),
        ])

    def _keep_cookies(self) -> None:
        # After every response: a page that touches the session (the idle timer) sends its cookie again.
        for cookie in self.client.cookies:
            cookie.secure = False

    def on_start(self) -> None:
        with self.client.get("/", name="login page GET /", allow_redirects=False, catch_response=True) as page:
            self._keep_cookies()
            if page.status_code != 200 or "csrfmiddlewaretoken" not in page.text:
                page.failure(f"login page: {page.status_code}")
                return
            token = _csrf_token(page.text)
        form = {"csrfmiddlewaretoken": token, "card": self.agent["card"], "pin": self.agent["pin"]}
        with self.client.post("/", data=form, name="login POST / (PIN check)", allow_redirects=False,
                              catch_response=True) as answer:
            self._keep_cookies()
            if answer.status_code != 302 or not answer.headers.get("Location", "").endswith("/home/"):
                answer.failure(f"login refused: {answer.status_code} {answer.headers.get('Location', '')}")

    def _poll_batch(self) -> int:
        if INTAKE_BATCH_FILE and self.agent.get("intake"):
            try:
                return int(Path(INTAKE_BATCH_FILE).read_text(encoding="ascii"))
            except (OSError, ValueError):
                pass  # not submitted yet: the agent polls its last batch meanwhile
        return self.agent["batch"]

    @task
    def tick(self) -> None:
        batch = self._poll_batch()
        with self.client.get(f"/api/batches/{batch}/status/?auto=1", name="status API /api/batches/[id]/status/",
                             allow_redirects=False, catch_response=True) as poll:
            if poll.status_code != 200:
                poll.failure(f"status {poll.status_code} {poll.error or ''}")
            elif poll.json().get("id") != batch:
                poll.failure(f"another batch: {poll.text[:80]}")
        self._keep_cookies()
        self.ticks += 1
        if self.ticks % QUERY_EVERY == 0:
            name, path, marker = next(self.pages)
            with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as page:
                # A redirect here would be the login page: the session was lost.
                if page.status_code != 200:
                    page.failure(f"{path}: {page.status_code} {page.headers.get('Location', '')}")
                elif 'id="login-form"' in page.text or marker not in page.text:
                    page.failure(f"{path}: not the {marker} page")
            self._keep_cookies()
