"""入库: the storing service writes every row with COPY and registers the new employees."""

from __future__ import annotations

from dataclasses import replace

import pytest

from apps.core.models import AuditEvent
from apps.employees.models import Employee
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_prevalidate, payroll_batch_submit
from apps.payroll.services.storing import payroll_batch_store
from tests.factories import CHECK_CODE, payroll_file_bytes, payroll_rows, upload

pytestmark = pytest.mark.django_db


def confirmed(party, bank, rows, django_capture_on_commit_callbacks) -> PayrollBatch:
    data = payroll_file_bytes(party=party, rows=rows, bank=bank)
    with django_capture_on_commit_callbacks():
        batch = payroll_batch_submit(card=party.card, agreement=party.agreement, upload=upload(data))
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION, batch.errors
    with django_capture_on_commit_callbacks():
        payroll_batch_confirm(batch=batch, card=party.card, checklist=CHECK_CODE)
    return batch


def test_values_with_copy_special_characters_are_stored_verbatim(
    business_clock, our_agent, platform_keys, django_capture_on_commit_callbacks
):
    # A tab or a backslash is allowed in a name or a remark; COPY's text format must escape them.
    rows = payroll_rows(3)
    rows[0] = replace(rows[0], name="王\\小明", remark="奖金\t12月")
    rows[2] = replace(rows[2], remark="C:\\工资\\N")
    batch = confirmed(our_agent, platform_keys["bank"], rows, django_capture_on_commit_callbacks)

    assert payroll_batch_store(batch_id=batch.pk) is True

    stored = list(PayrollRow.objects.filter(batch=batch).order_by("seq").values_list(
        "seq", "account", "name", "amount", "id_type", "id_number", "remark", "result_code", "result_message"))
    assert stored == [(r.seq, r.account, r.name, r.amount, r.id_type, r.id_number, r.remark, "", "") for r in rows]
    assert Employee.objects.get(company=our_agent.company, account=rows[0].account).name == "王\\小明"


def test_new_employees_are_registered_once_with_their_source_and_counted_in_the_audit(
    business_clock, our_agent, platform_keys, django_capture_on_commit_callbacks
):
    rows = payroll_rows(4)
    Employee.objects.create(company=our_agent.company, account=rows[0].account, name=rows[0].name, id_type="0",
                            id_number=rows[0].id_number, source="employee_file")
    batch = confirmed(our_agent, platform_keys["bank"], rows, django_capture_on_commit_callbacks)

    assert payroll_batch_store(batch_id=batch.pk) is True

    registry = Employee.objects.filter(company=our_agent.company).order_by("account")
    assert list(registry.values_list("account", "name", "id_type", "id_number", "source", "removed_at")) == [
        (rows[0].account, rows[0].name, "0", rows[0].id_number, "employee_file", None),
        *[(r.account, r.name, r.id_type, r.id_number, f"payroll:{batch.batch_no}", None) for r in rows[1:]],
    ]
    event = AuditEvent.objects.get(action="payroll_stored", object_id=str(batch.pk))
    assert event.detail == {"rows": 4, "new_employees": 3}
