"""The kiosk in real Chromium: swipe, PIN pad, lock, idle countdown, English, 入库中 → result,
touch targets >= 48 px and text contrast >= 4.5:1 measured on the rendered pages.

Debian's chromium only (never ``playwright install``). Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from apps.cards.models import ServiceCard
from apps.payroll.models import BatchStatus, PayrollBatch
from payroll_exchange.clock import BUSINESS_TZ
from tests.factories import CARD_PIN, CHECK_CODE, payroll_file_bytes, payroll_rows
from tests.kiosk.conftest import track2
from tests.support.browser import assert_accessible, shot, swipe_and_pin
from tests.support.checklists import checklist_type

# Playwright's sync API runs an event loop in this thread; the ORM calls made here between
# browser steps are ordinary synchronous calls, not calls from async code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swipe_tap_the_pin_and_reach_home(page, our_agent):
    page.goto("/")
    assert page.locator("#swipe-button").inner_text() == "点击此处后请刷卡"
    assert_accessible(page)
    shot(page, "01-login")

    page.click("#swipe-button")
    page.type("#card-input", track2(our_agent.card_number))
    page.keyboard.press("Enter")
    page.wait_for_selector("#pinpad:not([hidden])")
    masked = f"{our_agent.card_number[:4]} **** **** {our_agent.card_number[-4:]}"
    assert page.locator("#card-display").inner_text() == masked
    for digit in CARD_PIN:
        page.click(f"#pinpad [data-digit='{digit}']")
    assert page.input_value("#pin-input") == CARD_PIN
    assert page.get_attribute("#pin-input", "type") == "password"
    assert_accessible(page)
    shot(page, "02-pin-pad")
    page.click("#pinpad [data-ok]")
    page.click("#enter-button")

    page.wait_for_url("**/home/")
    tiles = page.locator(".tile").all_inner_texts()
    assert [t.split("\n")[-1].strip()[-9:] for t in tiles] == [
        "提交员工信息", "查询员工文件", "提交代发工资", "查询工资文件", "回盘文件查询/下载"]
    assert_accessible(page)
    shot(page, "03-home")


def test_three_wrong_pins_lock_the_card(page, our_agent):
    page.goto("/")
    for attempt in range(3):
        swipe_and_pin(page, our_agent.card_number, "111111")
        page.wait_for_selector("#login-error")
        if attempt < 2:
            assert page.inner_text("#login-error") == f"卡号或密码错误，还可尝试 {2 - attempt} 次"
    assert page.inner_text("#login-error") == "此卡已锁定，请联系银行柜台解锁"
    assert ServiceCard.objects.get(pk=our_agent.card.pk).locked_at is not None
    assert_accessible(page)
    shot(page, "04-card-locked")


def test_the_idle_countdown_shows_and_logs_out(page, our_agent, settings):
    settings.KIOSK_IDLE_SECONDS = 6
    page.goto("/")
    swipe_and_pin(page, our_agent.card_number, CARD_PIN)
    page.wait_for_url("**/home/")
    page.wait_for_selector("#idle-countdown:not([hidden])")
    assert "秒后自动退出" in page.inner_text("#idle-countdown")
    assert_accessible(page)
    shot(page, "05-idle-countdown")
    page.wait_for_url("**/logged-out/", timeout=15_000)
    assert "由于长时间未操作，系统已自动退出" in page.content()
    page.goto("/home/")
    assert page.url.endswith("/")  # the server ended the session too


def test_the_english_switch(page, our_agent):
    page.goto("/")
    page.click("#lang-switch")
    page.wait_for_selector("text=Click here, then swipe the card")
    assert page.locator("html").get_attribute("lang") == "en"
    swipe_and_pin(page, our_agent.card_number, CARD_PIN)
    page.wait_for_url("**/home/")
    assert "Submit payroll" in page.content()
    assert_accessible(page)
    shot(page, "06-home-english")
    page.click("#lang-switch")
    page.wait_for_selector("text=提交代发工资")


def test_outside_service_hours(page, business_clock, db):
    business_clock.set(datetime(2026, 12, 5, 10, 0, tzinfo=BUSINESS_TZ))  # a Saturday
    page.goto("/")
    assert "自助平台暂停服务" in page.content()
    assert "2026-12-07 09:00" in page.content()
    assert page.locator("#swipe-button").count() == 0
    assert_accessible(page)
    shot(page, "07-closed")


def test_upload_watch_validating_turn_into_the_result(page, our_agent, platform_keys, tmp_path):
    from apps.payroll.services.intake import payroll_batch_prevalidate

    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(3), bank=platform_keys["bank"])
    path = tmp_path / "11月工资.p7m"
    path.write_bytes(data)
    page.goto("/")
    swipe_and_pin(page, our_agent.card_number, CARD_PIN)
    page.wait_for_url("**/home/")
    page.click("text=提交代发工资")
    page.set_input_files("#id_upload", str(path))
    assert page.inner_text("#id_upload-name") == "11月工资.p7m"
    shot(page, "08-payroll-upload")
    page.click("#next-button")
    page.wait_for_selector("#progress")
    shot(page, "09-payroll-validating")

    # The worker's part, run here: the page is polling and turns into the result by itself.
    batch = PayrollBatch.objects.get()
    payroll_batch_prevalidate(batch_id=batch.pk)
    page.wait_for_selector("#figures", timeout=20_000)
    assert page.inner_text("#fig-count") == "3"
    assert page.inner_text("#fig-amount") == "24,000.00"
    assert "待确认入库" in page.inner_text("#batch-status")
    assert_accessible(page)
    shot(page, "10-payroll-result")

    # 确认入库 waits for the checklist check: the agent types the 核对码 printed on the checklist.
    assert page.locator("#confirm-button").is_disabled()
    checklist_type(page, CHECK_CODE)
    page.click("#confirm-button")
    page.wait_for_selector("text=已确认入库")
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.STORING
    page.goto("/payroll/")
    assert "入库中" in page.content()
    shot(page, "11-payroll-query")
