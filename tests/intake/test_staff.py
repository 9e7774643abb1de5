"""Files in error (系统处理失败) in the back office: counted on the index, listed, retried (audited)
after the pay-date window and the certificate are checked again; the kiosk says what to do."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from apps.agreements.services import certificate_revoke
from apps.core.models import AuditEvent
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_prevalidate
from apps.payroll.services.review import SUPERVISOR_GROUP, payroll_review_roles_ensure
from tests.conftest import DEFAULT_BUSINESS_NOW
from tests.factories import CARD_PIN, CHECK_CODE

pytestmark = pytest.mark.django_db
BATCHES = "/admin/payroll/payrollbatch/"


@pytest.fixture
def supervisor_client(django_user_model) -> Client:
    payroll_review_roles_ensure()
    user = django_user_model.objects.create_user("super-wang", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPERVISOR_GROUP))
    client = Client()
    client.force_login(user)
    return client


def in_error(batch: PayrollBatch, *, failed_in: str = BatchStatus.VALIDATING) -> PayrollBatch:
    PayrollBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.ERROR, error_from=failed_in, attempts=3,
                                                    system_error="RuntimeError: prepared file vanished")
    batch.refresh_from_db()
    return batch


def retry(client: Client, batch: PayrollBatch):
    return client.post(BATCHES, {"action": "retry_selected", "_selected_action": [batch.pk]}, follow=True)


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_admin_index_counts_files_in_error(supervisor_client, submitted):
    in_error(submitted())
    page = supervisor_client.get("/admin/").content.decode()
    assert 'id="intake-errors"' in page
    assert "代发工资文件：1 个文件系统处理失败，请处理" in page
    assert f"{BATCHES}?status__exact=error" in page
    listed = supervisor_client.get(f"{BATCHES}?status__exact=error")
    assert [b.pk for b in listed.context["cl"].result_list] == [PayrollBatch.objects.get().pk]


def test_retry_puts_the_batch_back_and_is_audited(supervisor_client, submitted, django_capture_on_commit_callbacks):
    batch = in_error(submitted())
    with django_capture_on_commit_callbacks() as published:
        response = retry(supervisor_client, batch)
    assert "已重试 1 个文件，系统正在重新处理。" in page_messages(response)
    batch.refresh_from_db()
    assert (batch.status, batch.attempts, batch.system_error, batch.claim_token) == (BatchStatus.VALIDATING, 0, "", "")
    assert len(published) == 1
    event = AuditEvent.objects.get(action="payroll_retry")
    assert (event.actor, event.detail) == ("super-wang", {"to": "validating",
                                                          "reason": "RuntimeError: prepared file vanished"})
    assert payroll_batch_prevalidate(batch_id=batch.pk) is True


def test_retry_is_refused_when_the_certificate_was_revoked(supervisor_client, submitted, our_agent):
    batch = in_error(submitted())
    certificate_revoke(certificate=our_agent.agreement.certificate, reason="key lost", now=DEFAULT_BUSINESS_NOW)
    before = PayrollBatch.objects.filter(pk=batch.pk).values().get()
    response = retry(supervisor_client, batch)
    assert any("已于" in m and "吊销，不能重试" in m for m in page_messages(response))
    assert PayrollBatch.objects.filter(pk=batch.pk).values().get() == before
    assert not AuditEvent.objects.filter(action="payroll_retry").exists()


def test_retry_of_storing_rechecks_the_pay_date(supervisor_client, submitted, our_agent, business_clock):
    batch = submitted()
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    payroll_batch_confirm(batch=batch, card=our_agent.card, checklist=CHECK_CODE)
    batch = in_error(batch, failed_in=BatchStatus.STORING)
    business_clock.set(DEFAULT_BUSINESS_NOW.replace(day=6))  # the pay date (5 Dec) has passed
    before = PayrollBatch.objects.filter(pk=batch.pk).values().get()
    response = retry(supervisor_client, batch)
    assert any("已不在今天" in m for m in page_messages(response))
    assert PayrollBatch.objects.filter(pk=batch.pk).values().get() == before
    business_clock.set(DEFAULT_BUSINESS_NOW)
    retry(supervisor_client, batch)
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.STORING
    assert batch.pay_date == date(2026, 12, 5)


def test_retry_needs_the_supervisor(django_user_model, submitted):
    batch = in_error(submitted())
    clerk = django_user_model.objects.create_user("clerk-li", password="pw", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename="view_payrollbatch"))
    client = Client()
    client.force_login(clerk)
    client.post(BATCHES, {"action": "retry_selected", "_selected_action": [batch.pk]})
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.ERROR


def test_the_kiosk_says_what_to_do(submitted, our_agent):
    batch = in_error(submitted())
    client = Client()
    client.post("/", {"card": f";{our_agent.card_number}=28121010000000000000?", "pin": CARD_PIN})
    page = client.get(f"/payroll/{batch.pk}/").content.decode()
    assert "系统处理失败" in page
    assert "未入库任何数据。请联系银行柜台" in page
    assert "RuntimeError" not in page  # the reason is for staff
