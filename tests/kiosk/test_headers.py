"""Security headers on every kiosk URL, and no inline script on any kiosk page (issue 12).

Every route of apps/kiosk/urls.py is reversed (none is listed by hand, so a new screen is
covered the day it is added), with the pk of a real batch and employee file of our company,
and fetched logged in and logged out; whatever the answer (page, redirect, 404, 405), it carries
Cache-Control: no-store, the Content-Security-Policy with no inline script, X-Frame-Options: DENY
and Referrer-Policy: same-origin.
"""

from __future__ import annotations

import os
import re

import pytest
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils.cache import get_max_age

from apps.kiosk.urls import urlpatterns
from tests.factories import CARD_PIN, employee_file_bytes, employee_rows, payroll_file_bytes, payroll_rows, upload

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
# The browser test drives Playwright's sync API (an event loop in this thread) between ORM calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def kiosk_routes() -> list[URLPattern]:
    return [p for p in urlpatterns if isinstance(p, URLPattern)]


@pytest.fixture
def objects(our_client, our_agent, platform_keys) -> dict[str, int]:
    """A payroll batch and an employee file of our company, made through the kiosk's own upload."""
    from apps.employees.models import EmployeeFile
    from apps.payroll.models import PayrollBatch

    bank = platform_keys["bank"]
    our_client.post("/payroll/upload/", {"agreement": our_agent.agreement.pk, "upload": upload(
        payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=bank), "工资.p7m")})
    our_client.post("/employees/upload/", {"agreement": our_agent.agreement.pk, "upload": upload(
        employee_file_bytes(party=our_agent, rows=employee_rows(2), bank=bank), "员工.p7m")})
    return {"batch": PayrollBatch.objects.get().pk, "employee_file": EmployeeFile.objects.get().pk}


def kiosk_urls(objects: dict[str, int]) -> list[str]:
    urls = []
    for route in kiosk_routes():
        kwargs = {}
        for name in route.pattern.converters:
            kwargs[name] = objects["employee_file"] if route.name.startswith("employee") else objects["batch"]
        urls.append(reverse(f"kiosk:{route.name}", kwargs=kwargs))
    return urls


def assert_kiosk_headers(response, url: str) -> None:
    cache_control = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    assert "no-store" in cache_control, (url, response.get("Cache-Control"))
    assert get_max_age(response) in (None, 0), url
    csp = response.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("script-src") == ["'self'"], (url, csp)
    assert directives.get("default-src") == ["'self'"], (url, csp)
    assert directives.get("frame-ancestors") == ["'none'"], (url, csp)
    assert directives.get("object-src") == ["'none'"], (url, csp)
    assert "'unsafe-inline'" not in csp.replace("style-src-attr 'unsafe-inline'", ""), (url, csp)
    assert response["X-Frame-Options"] == "DENY", url
    assert response["Referrer-Policy"] == "same-origin", url


def assert_no_inline_script(response, url: str) -> None:
    if not response.get("Content-Type", "").startswith("text/html"):
        return
    body = response.content.decode()
    assert not INLINE_SCRIPT.search(body), (url, INLINE_SCRIPT.search(body))
    assert not HANDLER_ATTRIBUTE.search(body), (url, HANDLER_ATTRIBUTE.search(body))
    assert not JS_URL.search(body), url


def test_every_kiosk_route_is_reached(objects):
    # The login screen, home, the five functions, their sub-pages, downloads and the status API.
    assert len(kiosk_urls(objects)) == len(kiosk_routes()) >= 20


def test_every_kiosk_url_logged_in_carries_the_headers_and_no_inline_script(our_client, objects):
    statuses = {}
    for url in kiosk_urls(objects):
        response = our_client.get(url)
        statuses[url] = response.status_code
        assert_kiosk_headers(response, url)
        assert_no_inline_script(response, url)
    # Real pages were looked at, not only refusals: home, both queries, both uploads, the batch and
    # employee file pages are ordinary 200 pages.
    for name, kwargs in [("home", {}), ("payroll_batches", {}), ("employee_files", {}), ("payroll_upload", {}),
                         ("employee_upload", {}), ("returns", {}), ("payroll_batch", {"pk": objects["batch"]}),
                         ("employee_file", {"pk": objects["employee_file"]})]:
        assert statuses[reverse(f"kiosk:{name}", kwargs=kwargs)] == 200, name


def test_every_kiosk_url_logged_out_carries_the_headers(objects):
    anonymous = Client()
    for url in kiosk_urls(objects):
        response = anonymous.get(url)
        assert_kiosk_headers(response, url)
        assert_no_inline_script(response, url)


def test_the_login_answers_carry_the_headers(our_agent):
    client = Client()
    for data in ({"card": "", "pin": ""}, {"card": our_agent.card_number, "pin": "000000"}):
        response = client.post("/", data)
        assert_kiosk_headers(response, "/ POST")
        assert_no_inline_script(response, "/ POST")


def test_the_closed_page_carries_the_headers(business_clock, db):
    from datetime import datetime

    from payroll_exchange.clock import BUSINESS_TZ

    business_clock.set(datetime(2026, 12, 1, 20, 0, tzinfo=BUSINESS_TZ))
    response = Client().get("/")
    assert "暂停服务" in response.content.decode()
    assert_kiosk_headers(response, "/ closed")
    assert_no_inline_script(response, "/ closed")


def test_static_files_keep_their_cache_and_the_back_office_its_own_headers(db):
    static = Client().get("/static/kiosk/kiosk.js")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")
    admin = Client().get("/admin/login/")
    assert admin["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" not in admin  # Django's admin pages keep their own inline bits


# --- in Chromium: the kiosk's own script runs under the policy, and nothing is blocked ---------------

CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture(scope="module")
def browser():
    from tests.support.browser import chromium

    with chromium() as launched:
        yield launched


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_kiosk_script_works_under_the_policy_and_nothing_is_blocked(browser, live_server, our_agent):
    from playwright.sync_api import expect

    from apps.cards.throttle import kiosk_login_failed, kiosk_login_reserve
    from tests.support.browser import kiosk_page, swipe_and_pin

    with kiosk_page(browser, live_server.url) as page:
        page.add_init_script(CSP_LISTENER)
        page.goto("/")
        swipe_and_pin(page, our_agent.card_number, CARD_PIN)  # the swipe field, the PIN pad: kiosk.js
        page.wait_for_url("**/home/")
        assert page.evaluate("window.__cspViolations") == []
        for path in ("/payroll/", "/employees/", "/returns/", "/payroll/upload/", "/employees/upload/"):
            page.goto(path)
            assert page.evaluate("window.__cspViolations") == [], path
        page.click("#logout-form button")
        page.wait_for_url(f"{live_server.url}/")

        # The countdown of a waiting kiosk (this browser's address) ticks by itself.
        for _ in range(5):
            assert kiosk_login_reserve(address="127.0.0.1") == 0
            kiosk_login_failed(address="127.0.0.1")
        response = page.goto("/")
        assert response.status == 429
        clock = page.locator(".wait-clock")
        first = clock.inner_text()
        expect(clock).not_to_have_text(first, timeout=5_000)
        assert page.evaluate("window.__cspViolations") == []
