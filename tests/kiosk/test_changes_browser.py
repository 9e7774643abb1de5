"""变动提示 and the funding warning in real Chromium at the kiosk's screen (1280×1024): the list is
readable and accessible, 疑似重复发放's checkbox must be ticked before 确认入库 submits. With
UPDATE_SCREENSHOTS=1 the README's picture docs/screenshots/kiosk-changes.png is remade.

Debian's chromium only (never ``playwright install``).
"""

from __future__ import annotations

import os

import pytest
from django.test import Client

from apps.payroll.models import BatchStatus
from tests.factories import CARD_PIN
from tests.kiosk.conftest import login
from tests.kiosk.test_changes_funding import awaiting, december_rows, november_rows, paid_batch
from tests.support.browser import assert_accessible, shot, swipe_and_pin
from tests.support.checklists import checklist_type

# Playwright's sync API runs an event loop in this thread; the ORM calls between browser steps are
# ordinary synchronous calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def uploaded(party, bank, rows, batch_no):
    client = Client()
    assert login(client, party).status_code == 302
    return awaiting(client, party, bank, rows, batch_no=batch_no)


def test_changes_list_on_the_result_screen(page, our_agent, platform_keys):
    paid_batch(our_agent, november_rows())
    batch = uploaded(our_agent, platform_keys["bank"], december_rows(), "GZ202612")
    page.goto("/")
    swipe_and_pin(page, our_agent.card_number, CARD_PIN)
    page.goto(f"/payroll/{batch.pk}/")
    changes = page.locator("#changes")
    assert changes.is_visible()
    assert page.locator("#changes-added tbody tr").count() == 1
    assert page.locator("#changes-removed tbody tr").count() == 1
    assert page.locator("#changes-amount tbody tr").count() == 2
    assert page.locator("#changes-account tbody tr").count() == 1
    assert page.locator("#changes-added td").nth(1).inner_text() == "杨*"
    assert page.locator("#funding-shortfall").is_visible()
    checklist_type(page)  # the checklist check comes first; the funding warning never blocks
    assert page.locator("#confirm-button").is_enabled()
    assert_accessible(page)
    changes.scroll_into_view_if_needed()
    shot(page, "changes")


def test_suspected_duplicate_submits_only_with_the_tick(page, our_agent, platform_keys):
    paid_batch(our_agent, november_rows())
    batch = uploaded(our_agent, platform_keys["bank"], november_rows(), "GZ202611B")
    page.goto("/")
    swipe_and_pin(page, our_agent.card_number, CARD_PIN)
    page.goto(f"/payroll/{batch.pk}/")
    assert page.locator("#suspected-duplicate").is_visible()
    checklist_type(page)
    assert_accessible(page)
    page.click("#confirm-button")  # the browser holds the form: the box is required
    assert page.evaluate("document.querySelector('#duplicate-ack input').validity.valueMissing") is True
    assert page.evaluate("document.querySelector('#confirm-button').form.checkValidity()") is False
    batch.refresh_from_db()
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION
    page.check("#duplicate-ack input")
    with page.expect_navigation():
        page.click("#confirm-button")
    batch.refresh_from_db()
    assert batch.status in (BatchStatus.STORING, BatchStatus.STORED)
