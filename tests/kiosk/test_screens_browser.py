"""Kiosk screens at the three screen sizes a branch has (1024×768, 1280×1024, 1920×1080), in real
Chromium against the live server: the login fits without scrolling and the PIN pad waits for the
swipe; the query tables keep every button usable with a failed upload's long name; 撤消 asks
first and 补充入库 leads to the checklist check; a file put in the wrong slot says where it belongs, in words.

Debian's chromium only (never ``playwright install``).
"""

from __future__ import annotations

import os

import pytest

from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import payroll_batch_prevalidate
from tests.factories import CARD_PIN, CHECK_CODE, employee_file_bytes, employee_rows, payroll_file_bytes, payroll_rows
from tests.support.browser import (
    MIN_TARGET_PX,
    TARGETS_JS,
    assert_accessible,
    chromium,
    kiosk_page,
    shot,
    swipe_and_pin,
    swipe_card,
)
from tests.support.checklists import checklist_type

# Playwright's sync API runs an event loop in this thread; the ORM calls made here between
# browser steps are ordinary synchronous calls, not calls from async code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = {"1024x768": (1024, 768), "1280x1024": (1280, 1024), "1920x1080": (1920, 1080)}
# 60 characters, no space to break at: what crushed the 操作 column.
LONG_NAME = "2026年12月上海示例科技有限公司全体员工工资及年终奖金发放明细表第二次修订版最终确认稿_final_v3_2.p7m"


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture(params=list(SCREENS), ids=list(SCREENS))
def screen(request) -> str:
    return request.param


@pytest.fixture
def page(browser, live_server, screen):
    width, height = SCREENS[screen]
    with kiosk_page(browser, live_server.url, viewport={"width": width, "height": height}) as tab:
        yield tab


def bottom_of(page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box["y"] + box["height"]


def no_scrolling(page) -> None:
    """The page is no taller and no wider than the screen."""
    size = page.viewport_size
    assert page.evaluate("document.documentElement.scrollHeight") <= size["height"], page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], page.url


def test_login_fits_the_screen_and_the_pin_pad_waits_for_the_swipe(page, our_agent, screen):
    page.goto("/")
    assert page.locator("#pinpad").is_hidden()
    assert page.locator("#login-help").is_visible()
    no_scrolling(page)
    assert bottom_of(page, "#enter-button") <= page.viewport_size["height"]
    assert_accessible(page)
    if screen == "1024x768":
        shot(page, "login-1024x768", prefix="screens")

    swipe_card(page, our_agent.card_number)
    assert page.locator("#pinpad").is_visible()
    assert page.locator("#login-help").is_hidden()
    no_scrolling(page)
    for selector in ("#enter-button", "#pinpad [data-ok]"):
        assert bottom_of(page, selector) <= page.viewport_size["height"], selector
    assert_accessible(page)
    if screen == "1024x768":
        shot(page, "pin-pad-1024x768", prefix="screens")


def test_login_with_a_wrong_pin_message_still_fits(page, our_agent):
    page.goto("/")
    swipe_and_pin(page, our_agent.card_number, "111111")
    page.wait_for_selector("#login-error")
    assert page.inner_text("#login-error") == "卡号或密码错误，还可尝试 2 次"
    assert page.locator("#pinpad").is_hidden()
    no_scrolling(page)
    swipe_card(page, our_agent.card_number)
    no_scrolling(page)
    assert bottom_of(page, "#enter-button") <= page.viewport_size["height"]


def login(page, party) -> None:
    page.goto("/")
    swipe_and_pin(page, party.card_number, CARD_PIN)
    page.wait_for_url("**/home/")


def upload_through_the_form(page, *, slot: str, path) -> None:
    page.goto("/home/")
    page.click(f"text={slot}")
    page.set_input_files("#id_upload", str(path))
    page.click("#next-button")


@pytest.fixture
def query_day(our_agent, platform_keys, tmp_path, page):
    """Today's uploads: two files waiting for 确认入库 (one with the long name) and a failed upload
    with the long name (an employee file put into 提交代发工资), as the agent made them."""
    bank = platform_keys["bank"]
    login(page, our_agent)
    files = [
        (LONG_NAME, payroll_file_bytes(party=our_agent, rows=payroll_rows(3), batch_no="B1201A", bank=bank)),
        ("12月工资.p7m", payroll_file_bytes(party=our_agent, rows=payroll_rows(2, start=10), batch_no="B1201B",
                                         bank=bank)),
    ]
    for name, data in files:
        path = tmp_path / name
        path.write_bytes(data)
        upload_through_the_form(page, slot="提交代发工资", path=path)
        page.wait_for_selector("#batch-status")
    wrong = tmp_path / "wrong" / LONG_NAME
    wrong.parent.mkdir()
    wrong.write_bytes(employee_file_bytes(party=our_agent, rows=employee_rows(2), bank=bank))
    upload_through_the_form(page, slot="提交代发工资", path=wrong)
    page.wait_for_selector("#batch-status")
    for batch in PayrollBatch.objects.order_by("pk"):
        payroll_batch_prevalidate(batch_id=batch.pk)
    statuses = list(PayrollBatch.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [BatchStatus.AWAITING_CONFIRMATION, BatchStatus.AWAITING_CONFIRMATION, BatchStatus.INVALID]
    return PayrollBatch.objects.order_by("pk")


def buttons_in(page, selector: str) -> list[dict]:
    targets = page.evaluate(TARGETS_JS)
    inside = page.evaluate(f"""() => Array.from(document.querySelectorAll('{selector} a, {selector} button'))
        .filter(el => el.getBoundingClientRect().width > 0).length""")
    assert inside > 0, selector
    return targets


def test_query_table_keeps_every_button_wide_with_a_failed_upload_of_a_long_name(page, query_day, screen):
    assert len(LONG_NAME) == 60
    page.goto("/payroll/")
    rows = page.locator("#batches tbody tr")
    assert rows.count() == 2  # the failed upload is not among the real batches
    assert page.locator("#failed-batches").is_hidden()  # apart, collapsed
    buttons_in(page, "#batches")
    assert_accessible(page)  # every target >= 48 x 48 px, nothing wider than the screen
    widths = page.evaluate("""() => Array.from(document.querySelectorAll('#batches td.buttons .btn'))
        .map(el => el.getBoundingClientRect().width)""")
    assert len(widths) == 2 * 5  # 查看, 下载 | 详情, 补充入库, 撤消
    assert min(widths) >= MIN_TARGET_PX
    assert page.locator("#batches tbody tr").first.locator("[data-report-view]").inner_text() == "查看"
    if screen == "1280x1024":
        shot(page, "payroll-query", prefix="screens")

    page.click("#failed-uploads > summary")
    assert page.locator("#failed-batches").is_visible()
    assert page.locator("#failed-batches tbody tr").count() == 1
    buttons_in(page, "#failed-batches")
    assert_accessible(page)
    name = page.locator("#failed-batches .fname-text")
    one_line = name.bounding_box()["height"]
    assert name.inner_text() == LONG_NAME  # the whole name is there, cut by the cell
    name.click()  # tap: the whole name, wrapped
    assert page.locator("#failed-batches .fname").get_attribute("open") is not None
    assert name.bounding_box()["height"] > one_line
    assert_accessible(page)
    if screen == "1280x1024":
        shot(page, "payroll-query-failed-open", prefix="screens")


def test_revoke_asks_first_and_not_revoking_changes_nothing(page, query_day):
    long_one = query_day[0]
    page.goto("/payroll/")
    row = page.locator("#batches tbody tr", has_text="B1201A")
    row.locator("[data-revoke-button]").click()
    dialog = page.locator("#confirm-dialog")
    assert dialog.is_visible()
    assert "确定撤消此文件吗" in page.inner_text("#confirm-dialog-text")
    assert page.inner_text("#confirm-yes") == "确定撤消"
    assert page.inner_text("#confirm-no") == "不撤消"
    assert_accessible(page)
    page.click("#confirm-no")
    assert dialog.is_hidden()
    assert PayrollBatch.objects.get(pk=long_one.pk).status == BatchStatus.AWAITING_CONFIRMATION

    row.locator("[data-revoke-button]").click()
    page.click("#confirm-yes")
    page.wait_for_url(f"**/payroll/{long_one.pk}/")
    assert PayrollBatch.objects.get(pk=long_one.pk).status == BatchStatus.REVOKED
    messages = page.locator("main .msg").all_inner_texts()
    assert "文件已撤消，不会入库。同一文件和批次号可以重新提交。" in messages
    assert page.inner_text("#batch-note") == "文件已撤消，不会入库。同一文件和批次号可以重新提交。"


def test_supplementary_confirm_leads_to_the_checklist_check(page, query_day, screen):
    other = query_day[1]
    page.goto("/payroll/")
    row = page.locator("#batches tbody tr", has_text="B1201B")
    # 补充入库 is no one-click confirmation: the file's page checks the stamped checklist first (issue 13).
    row.locator("[data-checklist-confirm]").click()
    page.wait_for_url(f"**/payroll/{other.pk}/#checklist-check")
    assert page.locator("#checklist-input").is_visible()
    assert page.locator("#confirm-button").is_disabled()
    checklist_type(page, CHECK_CODE)
    assert page.locator("#confirm-button").is_enabled()
    assert_accessible(page)
    if screen == "1280x1024":
        shot(page, "payroll-supplement-checklist", prefix="screens")
    assert PayrollBatch.objects.get(pk=other.pk).status == BatchStatus.AWAITING_CONFIRMATION

    page.click("#confirm-button")
    page.wait_for_selector("text=已确认入库")
    assert PayrollBatch.objects.get(pk=other.pk).status == BatchStatus.STORING


def test_a_file_in_the_wrong_slot_says_where_it_belongs_in_words(page, query_day):
    failed = query_day[2]
    page.goto(f"/payroll/{failed.pk}/")
    assert page.inner_text("#batch-status") == "校验失败"
    errors = page.locator("#row-errors tbody td:nth-child(2)").all_inner_texts()
    assert errors == ["这是员工信息文件，请在“提交员工信息”中提交。文件本身无需重新制作。"]
    note = page.inner_text("#batch-note")
    assert note == "此文件不是代发工资文件，未入库。请按下面的说明到正确的功能中提交；文件本身无需重新制作。"
    text = page.inner_text("main")
    for internal in ("employees", "payroll", "envelope_wrong_kind"):
        assert internal not in text
    assert "改正后重新制作" not in text
    assert_accessible(page)
