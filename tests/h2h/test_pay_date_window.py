"""Service hours do not apply to the API, the pay-date window does: 确认入库 is offered and accepted
only while the pay date is between today and today + PAY_WINDOW_DAYS, by the same rule the kiosk
shows (apps/payroll/availability.py), and refused with the kiosk's code otherwise."""

from __future__ import annotations

from datetime import date

import pytest

from apps.core.models import AuditEvent
from apps.h2h.models import IdempotencyKey
from apps.kiosk.presenters import batch_kiosk_actions
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import payroll_batch_prevalidate
from tests.factories import at, payroll_file_bytes, payroll_rows

pytestmark = pytest.mark.django_db

PAY_DATE = date(2026, 12, 5)


@pytest.fixture
def awaiting(api_a, our_agent, platform_keys, django_capture_on_commit_callbacks) -> PayrollBatch:
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=platform_keys["bank"], pay_date=PAY_DATE)
    with django_capture_on_commit_callbacks(execute=False):
        batch_id = api_a.upload(data).json()["id"]
    payroll_batch_prevalidate(batch_id=batch_id)
    batch = PayrollBatch.objects.get(pk=batch_id)
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION
    return batch


def kiosk_offers(batch: PayrollBatch, today: date) -> list[str]:
    return [a for a in batch_kiosk_actions(batch.status, pay_date=batch.pay_date, today=today)
            if a in ("confirm", "revoke")]


@pytest.mark.parametrize(("today", "offered"), [
    (date(2026, 12, 1), ["revoke", "confirm"]),  # 4 days ahead: in the window
    (date(2026, 12, 5), ["revoke", "confirm"]),  # the pay date itself
    (date(2026, 12, 6), ["revoke"]),  # past the pay date
    (date(2026, 11, 15), ["revoke"]),  # 20 days ahead: beyond the 15-day window
])
def test_the_api_offers_confirm_exactly_when_the_kiosk_does(api_a, awaiting, business_clock, today, offered):
    business_clock.set(at(today, hour=20))  # the kiosk is closed at 20:00; the API is not
    actions = api_a.get(f"/batches/{awaiting.pk}/").json()["actions"]
    assert actions == offered
    assert sorted(actions) == sorted(kiosk_offers(awaiting, today))


@pytest.mark.parametrize("today", [date(2026, 12, 6), date(2026, 11, 15)])
def test_confirm_outside_the_window_is_refused_and_nothing_changes(api_a, awaiting, business_clock, today):
    business_clock.set(at(today))
    response = api_a.post(f"/batches/{awaiting.pk}/confirm/", key="late-1")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "pay_date_out_of_window"
    assert set(body["message"]) == {"zh", "en"}
    assert "2026-12-05" in body["message"]["zh"]
    assert PayrollBatch.objects.get(pk=awaiting.pk).status == BatchStatus.AWAITING_CONFIRMATION
    assert not AuditEvent.objects.filter(action="payroll_confirm").exists()
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["up-1"]  # the upload's only


def test_confirm_in_the_window_after_service_hours_is_accepted(api_a, awaiting, business_clock,
                                                               django_capture_on_commit_callbacks):
    business_clock.set(at(date(2026, 12, 4), hour=22))
    with django_capture_on_commit_callbacks(execute=False):
        response = api_a.post(f"/batches/{awaiting.pk}/confirm/", key="night-1")
    assert response.status_code == 200, response.json()
    assert PayrollBatch.objects.get(pk=awaiting.pk).status == BatchStatus.STORING
