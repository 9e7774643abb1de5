"""Payroll batches in the admin, as staff use it: hold, release, reject, refusals, filters,
search, read-only rows, and no COUNT(*) over a large rows table."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.models import AuditEvent
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from tests.backoffice.conftest import BATCHES, batch_state, client_for, stored_batch

pytestmark = pytest.mark.django_db

ROWS = "/admin/payroll/payrollrow/"


@pytest.fixture
def batch(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    return stored_batch(our_agent, bank, django_capture_on_commit_callbacks)


def messages_of(response) -> list[str]:
    return [str(m.message) for m in get_messages(response.wsgi_request)]


def act(client, action: str, batch: PayrollBatch, **extra):
    """The first POST of an action from the changelist (select, pick the action, Go)."""
    return client.post(BATCHES, {"action": action, "_selected_action": [batch.pk], "index": 0, **extra})


def confirm(client, action: str, batch: PayrollBatch, **fields):
    """The second POST: the intermediate page's form, like delete_selected's confirmation."""
    return client.post(BATCHES, {"action": action, "_selected_action": [batch.pk], "post": "yes", **fields},
                       follow=True)


def test_a_clerk_holds_a_batch_with_a_reason(batch, clerk):
    client = client_for(clerk)

    page = act(client, "hold_selected", batch)
    assert page.status_code == 200
    assert "暂停代发批次" in page.content.decode()
    assert batch_state(batch)[0] == BatchStatus.STORED  # nothing yet: the page only asks

    done = confirm(client, "hold_selected", batch, reason="收款人账户待核实")

    assert done.status_code == 200
    assert "已暂停 1 个批次。" in messages_of(done)
    assert batch_state(batch)[:2] == (BatchStatus.HELD, "clerk-li")
    assert AuditEvent.objects.get(action="payroll_hold").detail == {"reason": "收款人账户待核实"}


def test_a_clerk_is_not_offered_release_or_reject_and_a_forged_post_changes_nothing(batch, clerk):
    client = client_for(clerk)
    confirm(client, "hold_selected", batch, reason="")
    before = batch_state(batch)

    changelist = client.get(BATCHES)
    choices = [value for value, _label in changelist.context["action_form"].fields["action"].choices]
    assert "hold_selected" in choices
    assert "release_selected" not in choices
    assert "reject_selected" not in choices

    forged = client.post(BATCHES, {"action": "release_selected", "_selected_action": [batch.pk], "index": 0},
                         follow=True)
    forged_reject = confirm(client, "reject_selected", batch, reason="复核员越权")

    assert forged.status_code == forged_reject.status_code == 200
    assert batch_state(batch) == before
    assert not AuditEvent.objects.filter(action__in=["payroll_release", "payroll_reject"]).exists()


def test_a_supervisor_releasing_their_own_hold_is_refused_with_a_message(batch, supervisor):
    client = client_for(supervisor)
    confirm(client, "hold_selected", batch, reason="")
    before = batch_state(batch)

    response = act(client, "release_selected", batch)

    assert response.status_code == 302
    refused = messages_of(client.get(BATCHES))
    assert any("此批次由您本人暂停" in m for m in refused), refused
    assert batch_state(batch) == before
    assert not AuditEvent.objects.filter(action="payroll_release").exists()


def test_another_supervisor_releases_and_the_batch_is_stored_again(batch, clerk, other_supervisor):
    confirm(client_for(clerk), "hold_selected", batch, reason="")
    client = client_for(other_supervisor)

    act(client, "release_selected", batch)

    assert batch_state(batch)[:2] == (BatchStatus.STORED, "")
    assert "已放行 1 个批次，将在下一次发薪任务中发放。" in messages_of(client.get(BATCHES))
    assert AuditEvent.objects.get(action="payroll_release").actor == "super-zhao"


def test_release_of_a_batch_that_is_not_held_names_its_state(batch, supervisor):
    client = client_for(supervisor)
    act(client, "release_selected", batch)
    assert any("当前状态为“成功”" in m for m in messages_of(client.get(BATCHES)))
    assert batch_state(batch)[0] == BatchStatus.STORED


def test_a_supervisor_rejects_with_a_reason_through_the_confirmation_page(batch, clerk, supervisor):
    confirm(client_for(clerk), "hold_selected", batch, reason="")
    client = client_for(supervisor)

    page = act(client, "reject_selected", batch)
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    done = confirm(client, "reject_selected", batch, reason="金额与核对清单不符")

    assert "已拒绝 1 个批次。" in messages_of(done)
    assert batch_state(batch)[:3] == (BatchStatus.REJECTED, "clerk-li", "金额与核对清单不符")
    event = AuditEvent.objects.get(action="payroll_reject")
    assert (event.actor, event.detail) == ("super-wang", {"reason": "金额与核对清单不符"})


def test_a_reject_without_a_reason_is_refused_and_nothing_changes(batch, supervisor):
    client = client_for(supervisor)
    before = batch_state(batch)

    response = confirm(client, "reject_selected", batch, reason="   ")

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert batch_state(batch) == before
    assert not AuditEvent.objects.filter(action="payroll_reject").exists()


def test_a_supervisor_cannot_reject_their_own_hold_through_admin(batch, supervisor):
    client = client_for(supervisor)
    confirm(client, "hold_selected", batch, reason="")
    before = batch_state(batch)

    response = confirm(client, "reject_selected", batch, reason="自己暂停的")

    assert any("此批次由您本人暂停" in m for m in messages_of(response))
    assert batch_state(batch) == before


def test_staff_without_a_review_role_see_nothing(batch, bank_staff, client):
    staff = client_for(bank_staff)
    assert staff.get(BATCHES).status_code == 403
    assert staff.get(f"{BATCHES}{batch.pk}/change/").status_code == 403
    assert staff.post(BATCHES, {"action": "hold_selected", "_selected_action": [batch.pk], "post": "yes",
                                "reason": ""}).status_code == 403
    assert staff.get(ROWS).status_code == 403
    anonymous = client.get(BATCHES)
    assert anonymous.status_code == 302
    assert "/admin/login/" in anonymous["Location"]
    assert batch_state(batch)[0] == BatchStatus.STORED


def test_money_and_rows_are_never_editable(batch, superuser):
    client = client_for(superuser)
    page = client.get(f"{BATCHES}{batch.pk}/change/").content.decode()
    for field in ("total_amount", "expected_fee", "record_count", "status", "held_by", "success_amount"):
        assert f'name="{field}"' not in page
    assert "24,000.00" in page or "24000.00" in page

    row = PayrollRow.objects.filter(batch=batch).order_by("seq").first()
    amount_before = row.amount
    row_page = client.get(f"{ROWS}{row.pk}/change/").content.decode()
    assert 'name="amount"' not in row_page
    assert 'name="account"' not in row_page

    # A forged save is refused outright.
    assert client.post(f"{BATCHES}{batch.pk}/change/", {"total_amount": "1.00"}).status_code == 403
    assert client.post(f"{ROWS}{row.pk}/change/", {"amount": "1.00"}).status_code == 403
    assert client.get(f"{BATCHES}add/").status_code == 403
    assert client.post(f"{ROWS}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.amount == amount_before
    assert batch_state(batch)[3] == batch.total_amount
    choices = [v for v, _ in client.get(BATCHES).context["action_form"].fields["action"].choices]
    assert "delete_selected" not in choices


def test_changelist_filters_and_search(business_clock, our_agent, other_agent, bank, clerk, supervisor,
                                       django_capture_on_commit_callbacks):
    ours = stored_batch(our_agent, bank, django_capture_on_commit_callbacks, batch_no="A-1205",
                        pay_date=date(2026, 12, 5))
    theirs = stored_batch(other_agent, bank, django_capture_on_commit_callbacks, batch_no="B-1210",
                          pay_date=date(2026, 12, 10), start=100)
    confirm(client_for(clerk), "hold_selected", theirs, reason="")
    client = client_for(supervisor)

    def listed(**params) -> set[int]:
        response = client.get(BATCHES, params)
        assert response.status_code == 200
        return {b.pk for b in response.context["cl"].result_list}

    assert listed() == {ours.pk, theirs.pk}
    assert listed(status__exact="held") == {theirs.pk}
    assert listed(status__exact="stored") == {ours.pk}
    assert listed(company__id__exact=our_agent.company.pk) == {ours.pk}
    assert listed(pay_date__gte="2026-12-08", pay_date__lt="2026-12-11") == {theirs.pk}
    assert listed(q="A-1205") == {ours.pk}
    assert listed(q="北京样例") == {theirs.pk}
    assert listed(q="no-such-batch") == set()


def _many_rows(batch: PayrollBatch, count: int) -> None:
    """Rows beyond the file's, written set-based: the point is the table's size, not the file."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO payroll_payrollrow (batch_id, seq, account, name, amount, id_type, id_number, remark,
                                            result_code, result_message)
            SELECT %s, 1000 + n, '6222020000' || lpad(n::text, 9, '0'), '员工' || n, 100.00, '0',
                   '310104199003070000', '', '', ''
            FROM generate_series(1, %s) AS n
            """,
            [batch.pk, count],
        )
        cursor.execute("ANALYZE payroll_payrollrow")
    PayrollBatch.objects.filter(pk=batch.pk).update(record_count=count + batch.record_count)


def _row_counts(queries) -> list[str]:
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "payroll_payrollrow" in q["sql"]]


def test_pages_of_a_large_batch_never_count_the_rows_table(batch, supervisor):
    _many_rows(batch, 20_000)
    client = client_for(supervisor)

    with CaptureQueriesContext(connection) as changelist:
        assert client.get(BATCHES).status_code == 200
    with CaptureQueriesContext(connection) as change:
        page = client.get(f"{BATCHES}{batch.pk}/change/")
    assert page.status_code == 200
    assert "查看 20003 笔明细" in page.content.decode()
    with CaptureQueriesContext(connection) as all_rows:
        response = client.get(ROWS)
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 10_000  # pg_class.reltuples, not COUNT(*)
    with CaptureQueriesContext(connection) as batch_rows:
        response = client.get(ROWS, {"batch__id__exact": batch.pk})
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 100

    assert _row_counts(changelist.captured_queries) == []
    assert _row_counts(change.captured_queries) == []
    assert _row_counts(all_rows.captured_queries) == []
    # Filtered: one count, capped by a LIMIT, so its cost is bounded whatever the batch size.
    capped = _row_counts(batch_rows.captured_queries)
    assert len(capped) == 1
    assert "LIMIT 10000" in capped[0]
    assert not any("payroll_payrollbatch" in q["sql"] and "COUNT(" in q["sql"].upper()
                   for q in changelist.captured_queries if "LIMIT" not in q["sql"])


def test_the_rows_of_a_batch_are_listed_and_searchable(batch, supervisor):
    client = client_for(supervisor)
    rows = client.get(ROWS, {"batch__id__exact": batch.pk}).context["cl"].result_list
    assert [r.seq for r in rows] == [1, 2, 3]
    account = rows[1].account
    assert [r.account for r in client.get(ROWS, {"q": account}).context["cl"].result_list] == [account]
