"""提交员工信息: upload, open in the background, 确认入库 or cancel; the registry rules."""

from __future__ import annotations

import pytest

from apps.employees.models import Employee, EmployeeFile, EmployeeFileRow
from apps.employees.selectors import employee_file_get, employee_files_for_company
from apps.employees.services import (
    employee_file_cancel,
    employee_file_confirm,
    employee_file_open,
    employee_file_store,
    employee_file_submit,
)
from apps.intake.errors import StateError
from tests.factories import employee_file_bytes, employee_rows, upload

pytestmark = pytest.mark.django_db
S = EmployeeFile.Status


@pytest.fixture
def bank(platform_keys):
    return platform_keys["bank"]


def opened(party, bank, rows, django_capture_on_commit_callbacks, operation="add") -> EmployeeFile:
    data = employee_file_bytes(party=party, rows=rows, operation=operation, bank=bank)
    with django_capture_on_commit_callbacks() as callbacks:
        employee_file = employee_file_submit(card=party.card, agreement=party.agreement,
                                             upload=upload(data, "员工.p7m"))
    assert len(callbacks) == 1
    employee_file_open(file_id=employee_file.pk)
    employee_file.refresh_from_db()
    return employee_file


def test_add_file_is_shown_then_stored_into_the_registry_once(
    business_clock, our_agent, bank, django_capture_on_commit_callbacks
):
    rows = employee_rows(3)
    employee_file = opened(our_agent, bank, rows, django_capture_on_commit_callbacks)
    assert employee_file.status == S.AWAITING_CONFIRMATION
    assert list(EmployeeFileRow.objects.filter(file=employee_file).values_list("seq", "name")) == [
        (r.seq, r.name) for r in rows
    ]
    assert Employee.objects.count() == 0  # nothing reaches the registry before 确认入库

    employee_file_confirm(employee_file=employee_file, card=our_agent.card)
    assert employee_file_store(file_id=employee_file.pk) is True
    assert employee_file_store(file_id=employee_file.pk) is False
    assert EmployeeFile.objects.get(pk=employee_file.pk).status == S.STORED
    assert sorted(Employee.objects.filter(company=our_agent.company).values_list("account", flat=True)) == sorted(
        r.account for r in rows
    )


def test_delete_file_removes_registered_accounts(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    rows = employee_rows(2)
    Employee.objects.bulk_create([Employee(company=our_agent.company, account=r.account, name=r.name, id_type="0",
                                           id_number=r.id_number) for r in rows])
    employee_file = opened(our_agent, bank, rows[:1], django_capture_on_commit_callbacks, operation="delete")
    employee_file_confirm(employee_file=employee_file, card=our_agent.card)
    employee_file_store(file_id=employee_file.pk)
    current = Employee.objects.filter(company=our_agent.company, removed_at__isnull=True)
    assert list(current.values_list("account", flat=True)) == [rows[1].account]


def test_deleting_an_unknown_account_is_an_error(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    employee_file = opened(our_agent, bank, employee_rows(1), django_capture_on_commit_callbacks, operation="delete")
    assert employee_file.status == S.INVALID
    assert [(e["code"], e["row"], e["field"]) for e in employee_file.errors] == [
        ("registry_unknown_account", 1, "account")
    ]
    assert not EmployeeFileRow.objects.exists()


def test_adding_an_account_registered_under_another_name_is_an_error(
    business_clock, our_agent, bank, django_capture_on_commit_callbacks
):
    rows = employee_rows(1)
    Employee.objects.create(company=our_agent.company, account=rows[0].account, name="赵六", id_type="0",
                            id_number=rows[0].id_number)
    employee_file = opened(our_agent, bank, rows, django_capture_on_commit_callbacks)
    assert employee_file.status == S.INVALID
    assert employee_file.errors[0]["code"] == "registry_name_mismatch"
    with pytest.raises(StateError):
        employee_file_confirm(employee_file=employee_file, card=our_agent.card)
    assert Employee.objects.get(account=rows[0].account).name == "赵六"


def test_cancel_leaves_the_registry_untouched(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    employee_file = opened(our_agent, bank, employee_rows(2), django_capture_on_commit_callbacks)
    employee_file_cancel(employee_file=employee_file, card=our_agent.card)
    assert EmployeeFile.objects.get(pk=employee_file.pk).status == S.CANCELLED
    with pytest.raises(StateError):
        employee_file_confirm(employee_file=employee_file, card=our_agent.card)
    assert Employee.objects.count() == 0


def test_another_company_sees_and_confirms_nothing(
    business_clock, our_agent, other_agent, bank, django_capture_on_commit_callbacks
):
    employee_file = opened(our_agent, bank, employee_rows(1), django_capture_on_commit_callbacks)
    assert list(employee_files_for_company(company=other_agent.company)) == []
    with pytest.raises(EmployeeFile.DoesNotExist):
        employee_file_get(company=other_agent.company, pk=employee_file.pk)
    with pytest.raises(EmployeeFile.DoesNotExist):
        employee_file_confirm(employee_file=employee_file, card=other_agent.card)
    assert EmployeeFile.objects.get(pk=employee_file.pk).status == S.AWAITING_CONFIRMATION


def test_query_by_upload_date(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    from datetime import date

    employee_file = opened(our_agent, bank, employee_rows(1), django_capture_on_commit_callbacks)
    assert list(employee_files_for_company(company=our_agent.company, upload_date=date(2026, 12, 1))) == [
        employee_file
    ]
    assert list(employee_files_for_company(company=our_agent.company, upload_date=date(2026, 11, 30))) == []
