"""Kiosk screens at the three screen sizes a branch has (1024×768, 1280×1024, 1920×1080), in real
Chromium against the live server: the login fits without scrolling and the PIN pad waits for the
swipe; the query tables keep every button usable with a failed upload's long name; 撤消 and
补充入库 ask first; a file put in the wrong slot says where it belongs, in words.

Debian's chromium only (never ``playwright install``).
"""

from __future__ import annotations

import os

import pytest

from tests.factories import CARD_PIN
from tests.support.browser import (
    assert_accessible,
    chromium,
    kiosk_page,
    shot,
    swipe_and_pin,
    swipe_card,
)

# Playwright's sync API runs an event loop in this thread; the ORM calls made here between
# browser steps are ordinary synchronous calls, not calls from async code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = {"1024x768": (1024, 768), "1280x1024": (1280, 1024), "1920x1080": (1920, 1080)}
LONG_NAME = "2026年12月份上海示例科技有限公司全体员工工资及年终奖金发放明细表（第二次修订版本最终确认稿）.p7m"


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
