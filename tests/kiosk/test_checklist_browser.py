"""核对清单核对 in real Chromium (issue 13): a keyboard-mode scanner types the QR text into the focused
field, or the agent types the 核对码; match → 确认入库 enabled; another file's checklist and a tampered
QR (one digit of the total) → refused with the message, 确认入库 stays disabled; the code never in a page."""

from __future__ import annotations

import os

import pytest

from apps.payroll.models import BatchStatus, PayrollBatch
from tests.factories import CARD_PIN, payroll_file_bytes, payroll_rows
from tests.kiosk.test_checklist import CODE, OTHER_CODE, qr_for
from tests.support.browser import assert_accessible, swipe_and_pin

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def result_page(page, our_agent, platform_keys, tmp_path):
    """The pre-validation result of a three-row file carrying CODE, open in the browser."""
    from apps.payroll.services.intake import payroll_batch_prevalidate

    path = tmp_path / "11月工资.p7m"
    path.write_bytes(payroll_file_bytes(party=our_agent, rows=payroll_rows(3), bank=platform_keys["bank"],
                                        check_code=CODE))
    page.goto("/")
    swipe_and_pin(page, our_agent.card_number, CARD_PIN)
    page.wait_for_url("**/home/")
    page.click("text=提交代发工资")
    page.set_input_files("#id_upload", str(path))
    page.click("#next-button")
    page.wait_for_selector("#progress")
    batch = PayrollBatch.objects.get()
    payroll_batch_prevalidate(batch_id=batch.pk)
    page.wait_for_selector("#figures", timeout=20_000)
    # the page turned into the result by polling; reload so the scanner field has the focus
    page.reload()
    assert page.evaluate("document.activeElement.id") == "checklist-input"
    assert page.locator("#confirm-button").is_disabled()
    batch.refresh_from_db()
    return page, batch


def scan(page, text: str) -> None:
    """What a keyboard-mode scanner does: type into the focused field, then Enter."""
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    page.wait_for_selector("#checklist-check")


def test_scanned_qr_enables_confirm(result_page, our_agent):
    page, batch = result_page
    scan(page, qr_for(our_agent, batch))
    page.wait_for_selector("#checklist-ok")
    assert page.locator("#checklist-result td").all_inner_texts() == ["✓", "✓", "✓", "✓"]
    assert page.locator("#confirm-button").is_enabled()
    assert CODE not in page.content()
    assert_accessible(page)
    page.click("#confirm-button")
    page.wait_for_selector("text=已确认入库")
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.STORING


def test_typed_code_enables_confirm(result_page):
    page, batch = result_page
    scan(page, f"{CODE[:5]} {CODE[5:]}".lower())
    page.wait_for_selector("#checklist-ok")
    assert page.locator("#confirm-button").is_enabled()
    assert CODE not in page.content()
    page.click("#confirm-button")
    page.wait_for_selector("text=已确认入库")
    assert PayrollBatch.objects.get(pk=batch.pk).confirmed_how == "code_typed"


def test_another_files_checklist_is_refused_with_the_message(result_page, our_agent):
    page, batch = result_page
    scan(page, qr_for(our_agent, batch, code=OTHER_CODE, digest="0" * 64, batch_no="B20261101"))
    assert "这份核对清单对应的是另一个文件" in page.inner_text("#checklist-mismatch")
    assert page.locator("#confirm-button").is_disabled()
    scan(page, OTHER_CODE)
    assert "这份核对清单对应的是另一个文件" in page.inner_text("#checklist-mismatch")
    assert page.locator("#confirm-button").is_disabled()
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.AWAITING_CONFIRMATION


def test_a_tampered_qr_is_refused(result_page, our_agent):
    page, batch = result_page
    qr = qr_for(our_agent, batch)
    total = f"{batch.total_amount:.2f}"
    tampered = qr.replace(f"|total={total}|", f"|total={'9' if total[0] != '9' else '8'}{total[1:]}|")
    assert tampered != qr
    scan(page, tampered)
    assert "签名不符" in page.inner_text("#checklist-mismatch")
    assert page.locator("#confirm-button").is_disabled()
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.AWAITING_CONFIRMATION
