"""The 核对清单 the current client prints with a payroll file, for tests that confirm at the kiosk the
way an agent does: the QR text a keyboard-mode scanner types (the facts signed with the enterprise
key), or the 核对码 (tests/factories.CHECK_CODE) typed by hand."""

from __future__ import annotations

from payroll_exchange import checkcode
from tests.factories import CHECK_CODE


def checklist_qr(*, party, batch, code: str = CHECK_CODE) -> str:
    """The QR of ``batch``'s checklist as the client signs it (a pain.001's carries code="")."""
    facts = checkcode.ChecklistFacts(
        agreement_no=party.agreement.number, batch_no=batch.batch_no or "", pay_date=batch.pay_date,
        record_count=batch.record_count, total_amount=batch.total_amount, expected_fee=batch.expected_fee,
        digest=batch.digest or "", code=code)
    return checkcode.qr_text(facts=facts, key=party.identity.key)


def checklist_type(page, code: str = CHECK_CODE) -> None:
    """In Chromium, on the file's page: type the checklist's 核对码 into the scanner field and 核对, as the
    agent does before 确认入库; waits for the match."""
    page.fill("#checklist-input", code)
    page.click("#checklist-button")
    page.wait_for_selector("#checklist-ok")
