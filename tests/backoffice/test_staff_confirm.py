"""代企业确认入库 (issue 13): an agent without the checklist cannot confirm at the kiosk; a supervisor
confirms in the admin with a reason, audited; the admin shows how each batch was confirmed."""

from __future__ import annotations

import pytest

from apps.core.models import AuditEvent
from apps.payroll.models import BatchStatus, ConfirmedHow, PayrollBatch
from apps.payroll.services.checklist import ChecklistRefused
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_prevalidate, payroll_batch_submit
from apps.payroll.services.storing import payroll_batch_store
from tests.backoffice.conftest import BATCHES, client_for
from tests.factories import payroll_file_bytes, payroll_rows, upload

pytestmark = pytest.mark.django_db

CODE = "A3C4E6F7G9"


@pytest.fixture
def awaiting(business_clock, our_agent, bank, django_capture_on_commit_callbacks) -> PayrollBatch:
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(3), bank=bank, check_code=CODE)
    with django_capture_on_commit_callbacks():
        batch = payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION
    return batch


def confirm_action(client, batch, reason):
    return client.post(BATCHES, {"action": "confirm_selected", "_selected_action": [batch.pk], "post": "yes",
                                 "reason": reason}, follow=True)


def test_without_the_checklist_the_kiosk_refuses_and_a_supervisor_confirms_with_a_reason(
        awaiting, our_agent, supervisor, django_capture_on_commit_callbacks):
    with pytest.raises(ChecklistRefused):
        payroll_batch_confirm(batch=awaiting, card=our_agent.card)
    client = client_for(supervisor)
    page = client.post(BATCHES, {"action": "confirm_selected", "_selected_action": [awaiting.pk], "index": 0})
    assert 'name="reason"' in page.content.decode()
    with django_capture_on_commit_callbacks():
        done = confirm_action(client, awaiting, "核对清单遗失，已电话核实笔数和金额")
    assert "已代企业确认入库 1 个批次" in done.content.decode()
    awaiting.refresh_from_db()
    assert awaiting.status == BatchStatus.STORING
    assert awaiting.confirmed_how == ConfirmedHow.STAFF_REASON
    assert awaiting.confirm_reason == "核对清单遗失，已电话核实笔数和金额"
    event = AuditEvent.objects.get(action="payroll_confirm")
    assert (event.actor_kind, event.actor) == ("staff", "super-wang")
    assert event.detail["reason"] == "核对清单遗失，已电话核实笔数和金额"
    assert payroll_batch_store(batch_id=awaiting.pk) is True
    # the list and the batch's page say how it was confirmed; the code's hash is not on the page
    listing = client.get(BATCHES).content.decode()
    assert "银行员工确认（附原因）" in listing
    detail = client.get(f"{BATCHES}{awaiting.pk}/change/").content.decode()
    assert "核对清单遗失" in detail
    assert awaiting.check_code_hash not in detail


def test_a_clerk_or_an_empty_reason_is_refused_and_nothing_changes(awaiting, clerk, supervisor):
    before = PayrollBatch.objects.values().get(pk=awaiting.pk)
    choices = [v for v, _ in client_for(clerk).get(BATCHES).context["action_form"].fields["action"].choices]
    assert "confirm_selected" not in choices
    confirm_action(client_for(clerk), awaiting, "越权")
    response = confirm_action(client_for(supervisor), awaiting, "   ")
    assert response.context["form"].errors["reason"]
    assert PayrollBatch.objects.values().get(pk=awaiting.pk) == before
    assert not AuditEvent.objects.filter(action="payroll_confirm").exists()
