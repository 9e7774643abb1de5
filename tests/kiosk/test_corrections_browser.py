"""更正 at the kiosk in real Chromium (issue 13): the original batch names its corrections and the
correction names its original batch, both on the kiosk's batch page (1280×1024), readable and
accessible. With UPDATE_SCREENSHOTS=1 the README's pictures docs/screenshots/kiosk-correction-*.png
are remade.

Debian's chromium only (never ``playwright install``).
"""

from __future__ import annotations

import os

import pytest

from apps.payroll.models import BatchStatus
from tests.factories import CARD_PIN, CHECK_CODE
from tests.payroll.test_corrections import _through, bank, corrected, correction_bytes, returned  # noqa: F401
from tests.support.browser import assert_accessible, shot, swipe_and_pin
from tests.support.checklists import checklist_type

# Playwright's sync API runs an event loop in this thread; the ORM calls between browser steps are
# ordinary synchronous calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_original_and_its_correction_name_each_other(page, returned, our_agent, bank,  # noqa: F811
                                                         django_capture_on_commit_callbacks):
    original, rows = returned
    # Row 2 failed (AC01): the company corrects its account and submits only that row again.
    correction = _through(our_agent, correction_bytes(party=our_agent, bank=bank, original=original,
                                                       rows=corrected(rows, 2), batch_no="B20261201-C1"),
                          django_capture_on_commit_callbacks)
    assert correction.status == BatchStatus.AWAITING_CONFIRMATION, correction.errors
    page.goto("/")
    swipe_and_pin(page, our_agent.card_number, CARD_PIN)
    page.wait_for_url("**/home/")

    page.goto(f"/payroll/{original.pk}/")
    assert page.locator("#corrections-list li").all_inner_texts() == ["B20261201-C1（待确认入库）"]
    assert "本批次失败行的更正文件" in page.inner_text("#correction-links")
    assert_accessible(page)
    page.locator("#correction-links").scroll_into_view_if_needed()
    shot(page, "correction-original")

    page.goto(f"/payroll/{correction.pk}/")
    assert page.inner_text("#corrects-original") == (
        "更正文件：只重新发放原批次 B20261201 中发放失败的行，每行对应原批次的一行。")
    assert page.inner_text("#fig-count") == "1"
    assert page.inner_text("#fig-amount") == "8,000.00"
    # A correction is confirmed the same way as any file: its checklist's 核对码 first.
    assert page.locator("#confirm-button").is_disabled()
    checklist_type(page, CHECK_CODE)
    assert page.locator("#confirm-button").is_enabled()
    assert CHECK_CODE not in page.content()
    assert_accessible(page)
    shot(page, "correction-awaiting")

