"""Chromium for the kiosk tests: Debian's browser (never ``playwright install``), the kiosk's
screen size, the swipe and the PIN pad as an agent uses them, screenshots, and the two
accessibility measures taken on every rendered page (touch targets >= 48 px, text contrast
>= 4.5:1, WCAG AA).

Used by tests/kiosk/test_browser.py (pytest-django's live_server) and tests/journey/ (a real
web server process).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.kiosk.conftest import track2

# Every screen is saved on every run; into docs/screenshots (what the README shows) only when
# asked with UPDATE_SCREENSHOTS=1, so an ordinary run leaves the working tree as it found it.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "payroll-screenshots"
)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# A 17-inch 5:4 kiosk screen.
VIEWPORT = {"width": 1280, "height": 1024}
MIN_TARGET_PX = 48
MIN_CONTRAST = 4.5

TARGETS_JS = """() => Array.from(document.querySelectorAll(
    'a, button, input:not([type=hidden]), select, label.btn'))
  .filter(el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !el.closest('.visually-hidden'); })
  .map(el => { const r = el.getBoundingClientRect();
    return {what: el.tagName + '#' + el.id + ' ' + (el.textContent || el.value || '').trim().slice(0, 20),
            w: r.width, h: r.height}; })"""

CONTRAST_JS = """() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(parseFloat); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => { for (; el; el = el.parentElement) {
    const c = parse(getComputedStyle(el).backgroundColor); if (c && c.a > 0) return c; }
    return {r: 255, g: 255, b: 255, a: 1}; };
  const ratio = el => { const a = lum(parse(getComputedStyle(el).color)), b = lum(background(el));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&
    getComputedStyle(el).visibility !== 'hidden' && !el.closest('[hidden]') && !el.closest('.visually-hidden'); };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) { const t = walker.currentNode; const el = t.parentElement;
    if (!t.textContent.trim() || !visible(el)) continue;
    out.push({text: t.textContent.trim().slice(0, 30), ratio: ratio(el)}); }
  document.querySelectorAll('input:not([type=hidden]), select').forEach(el => {
    if (visible(el)) out.push({text: el.tagName + '#' + el.id, ratio: ratio(el)}); });
  return out;
}"""


@contextmanager
def chromium() -> Iterator:
    """Debian's chromium through Playwright's sync API, closed on the way out."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def kiosk_page(browser, base_url: str, *, timeout_ms: int = 15_000, **context_options) -> Iterator:
    """One kiosk screen: a fresh browser context (no cookies), the kiosk's size, Chinese first."""
    options = {"viewport": VIEWPORT, "locale": "zh-CN", "base_url": base_url, **context_options}
    context = browser.new_context(**options)
    try:
        tab = context.new_page()
        tab.set_default_timeout(timeout_ms)
        yield tab
    finally:
        context.close()


def shot(page, name: str, *, prefix: str = "kiosk") -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{prefix}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def small_targets(page) -> list[dict]:
    return [t for t in page.evaluate(TARGETS_JS) if t["w"] < MIN_TARGET_PX or t["h"] < MIN_TARGET_PX]


def faint_texts(page) -> list[dict]:
    return [t for t in page.evaluate(CONTRAST_JS) if t["ratio"] < MIN_CONTRAST]


def assert_accessible(page) -> None:
    # Nothing runs off the side of the kiosk screen (a kiosk cannot scroll sideways).
    assert page.evaluate("document.documentElement.scrollWidth") <= (page.viewport_size or VIEWPORT)["width"], page.url
    small = small_targets(page)
    assert small == [], (page.url, small)
    faint = faint_texts(page)
    assert faint == [], (page.url, faint)


def swipe_card(page, card_number: str) -> None:
    """点击此处后请刷卡, then the reader types track 2 and Enter into the swipe field."""
    page.click("#swipe-button")
    page.type("#card-input", track2(card_number))
    page.keyboard.press("Enter")
    page.wait_for_selector("#pinpad:not([hidden])")


def pin_tap(page, pin: str) -> None:
    """Tap the PIN on the on-screen pad (its keys are shuffled on every page) and 确认."""
    for digit in pin:
        page.click(f"#pinpad [data-digit='{digit}']")
    page.click("#pinpad [data-ok]")


def swipe_and_pin(page, card_number: str, pin: str) -> None:
    swipe_card(page, card_number)
    pin_tap(page, pin)
    page.click("#enter-button")
