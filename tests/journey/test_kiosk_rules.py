"""The kiosk's rules in Chromium against the real web server process and worker, with the business
clock moved through the shared clock file.

tests/kiosk/test_browser.py already drives the basic cases on pytest-django's in-process
live_server (three wrong PINs lock, the idle countdown, the English switch on the login and home
screens, a Saturday). These extend them where the separate processes matter: the lock holds for
the right PIN until the bank unlocks; the idle time comes from the server's environment and
继续操作 restarts it; 16:30 ends a session that is open; English on the pre-validation result;
撤消 before storing. Another company's card is checked at the end of the journey
(test_journey.py, step 7), against the journey's own files.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from apps.cards.models import ServiceCard
from apps.cards.services import card_unlock
from apps.employees.models import Employee
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from payroll_exchange.clock import BUSINESS_TZ
from tests.factories import CARD_PIN, payroll_file_bytes, payroll_rows
from tests.journey.conftest import web_server_start
from tests.support.browser import assert_accessible, kiosk_page, shot, swipe_and_pin

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IDLE_SECONDS = 8


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BUSINESS_TZ)


def screen(page, name: str) -> None:
    assert_accessible(page)
    shot(page, name, prefix="journey")


@pytest.fixture
def page(browser, web_server) -> Iterator:
    with kiosk_page(browser, web_server.extra["url"]) as tab:
        yield tab


def test_three_wrong_pins_lock_the_card_until_the_bank_unlocks_it(business_clock, page, our_agent):
    page.goto("/")
    for attempt in range(3):
        swipe_and_pin(page, our_agent.card_number, "135791")
        page.wait_for_selector("#login-error")
        if attempt < 2:
            expect(page.locator("#login-error")).to_have_text(f"卡号或密码错误，还可尝试 {2 - attempt} 次")
    expect(page.locator("#login-error")).to_have_text("此卡已锁定，请联系银行柜台解锁")
    screen(page, "40-card-locked")

    # Locked means locked: the right PIN is refused too, and nothing is served.
    swipe_and_pin(page, our_agent.card_number, CARD_PIN)
    expect(page.locator("#login-error")).to_have_text("此卡已锁定，请联系银行柜台解锁")
    page.goto("/home/")
    assert urlsplit(page.url).path == "/"
    assert page.locator("#swipe-button").count() == 1

    # The bank's counter unlocks it; the agent swipes again and is in.
    card_unlock(card=ServiceCard.objects.get(pk=our_agent.card.pk), actor="clerk01")
    page.goto("/")
    swipe_and_pin(page, our_agent.card_number, CARD_PIN)
    page.wait_for_url("**/home/")


@pytest.fixture
def impatient_server(django_db_setup, session_dir) -> Iterator:
    """A second web server whose KIOSK_IDLE_SECONDS comes from its environment, as in production."""
    server = web_server_start(log_dir=session_dir, extra_env={"KIOSK_IDLE_SECONDS": str(IDLE_SECONDS)})
    yield server
    server.stop()


def test_idle_countdown_keep_working_then_logout(business_clock, browser, impatient_server, our_agent):
    with kiosk_page(browser, impatient_server.extra["url"], timeout_ms=30_000) as page:
        page.goto("/")
        swipe_and_pin(page, our_agent.card_number, CARD_PIN)
        page.wait_for_url("**/home/")
        banner = page.locator("#idle-countdown")
        expect(banner).to_be_visible()  # the whole idle time is inside the 30 s warning here
        expect(banner).to_contain_text("秒后自动退出")
        screen(page, "41-idle-countdown")

        # 继续操作 a few seconds in: the server's timer restarts from the tap, not from the page load.
        time.sleep(IDLE_SECONDS / 2)
        page.click("#idle-countdown [data-stay]")
        tapped = time.monotonic()
        page.wait_for_url("**/logged-out/")
        assert time.monotonic() - tapped >= IDLE_SECONDS - 1.5
        expect(page.locator(".msg-info")).to_contain_text("由于长时间未操作，系统已自动退出")
        screen(page, "42-logged-out-idle")

        # The server ended the session, not just the page.
        page.goto("/payroll/")
        assert urlsplit(page.url).path == "/"
        assert page.locator("#swipe-button").count() == 1


def test_at_16_30_an_open_session_ends_and_no_login_until_the_next_working_day(business_clock, page, our_agent):
    business_clock.set(at(2026, 12, 1, 16, 25))
    page.goto("/")
    swipe_and_pin(page, our_agent.card_number, CARD_PIN)
    page.wait_for_url("**/home/")

    business_clock.set(at(2026, 12, 1, 17, 0))
    page.click("text=提交代发工资")
    expect(page.locator("h1")).to_have_text("自助平台暂停服务")
    expect(page.locator(".next")).to_have_text("下次开放时间：2026-12-02 09:00")
    assert page.locator("#swipe-button").count() == 0
    assert page.locator("text=退出系统").count() == 0  # the session is gone with the hours
    screen(page, "43-closed-after-hours")

    business_clock.set(at(2026, 12, 2, 9, 0))
    page.goto("/payroll/upload/")
    assert urlsplit(page.url).path == "/"
    expect(page.locator("#swipe-button")).to_be_visible()  # open again, but the agent swipes anew


@pytest.fixture
def awaiting(business_clock, live_worker, page, our_agent, platform_keys, tmp_path) -> SimpleNamespace:
    """Our agent has uploaded a three-row payroll file (three new employees) and the real worker
    has pre-validated it: the result screen waits for 确认入库 or 撤消."""
    path = tmp_path / "12月工资.p7m"
    path.write_bytes(payroll_file_bytes(party=our_agent, rows=payroll_rows(3), bank=platform_keys["bank"]))
    page.goto("/")
    swipe_and_pin(page, our_agent.card_number, CARD_PIN)
    page.wait_for_url("**/home/")
    page.click("text=提交代发工资")
    page.set_input_files("#id_upload", str(path))
    page.click("#next-button")
    page.wait_for_url(re.compile(r"/payroll/\d+/$"))
    page.wait_for_selector("#figures", timeout=60_000)
    expect(page.locator("#batch-status")).to_have_text("待确认入库")
    return SimpleNamespace(page=page, batch=PayrollBatch.objects.get(company=our_agent.company))


def test_the_english_switch_on_the_pre_validation_result(awaiting):
    page = awaiting.page
    page.click("#lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_contain_text("Payroll file")
    expect(page.locator("#figures .label").first).to_have_text("Count")
    expect(page.locator("#fig-amount")).to_have_text("24,000.00")
    expect(page.locator("#confirm-button")).to_have_text("Confirm and store")
    expect(page.locator("#revoke-button")).to_have_text("Revoke")
    assert page.url.endswith(f"/payroll/{awaiting.batch.pk}/")  # the switch keeps the agent on this screen
    screen(page, "44-payroll-result-english")
    page.click("#lang-switch")
    expect(page.locator("#confirm-button")).to_have_text("确认入库")


# The status labels come from the models' choices: untranslated in locale/en until the
# locale/en/LC_MESSAGES/django.po update that gives them English names.
def test_the_english_result_screen_names_the_status_in_english(awaiting):
    page = awaiting.page
    page.click("#lang-switch")
    expect(page.locator("#confirm-button")).to_have_text("Confirm and store")
    expect(page.locator("#batch-status")).to_have_text("Awaiting confirmation")


def test_revoke_before_storing_stores_nothing(awaiting, our_agent):
    page, batch = awaiting.page, awaiting.batch
    page.click("#revoke-button")
    expect(page.locator("#confirm-dialog")).to_be_visible()  # 撤消 asks first
    page.click("#confirm-yes")
    expect(page.locator(".msg-success")).to_contain_text("文件已撤消，不会入库")
    expect(page.locator("#batch-status")).to_have_text("已撤消")
    assert page.locator("#confirm-button").count() == 0
    assert page.locator("#revoke-button").count() == 0
    screen(page, "45-payroll-revoked")

    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.REVOKED
    assert PayrollRow.objects.filter(batch_id=batch.pk).count() == 0
    assert Employee.objects.filter(company=our_agent.company).count() == 0  # the new hires were not registered

    # 查询工资文件: 已撤消, and neither 补充入库 nor 撤消 is offered any more.
    page.goto("/payroll/")
    expect(page.locator("#batches tbody tr td").nth(5)).to_have_text("已撤消")
    assert page.locator("#batches button").count() == 0
