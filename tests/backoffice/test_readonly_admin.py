"""The registry, employee files, ledger and return files in the admin: looked at, searched,
filtered, never written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.employees.models import Employee, EmployeeFile
from apps.employees.services import employee_file_open, employee_file_submit
from apps.ledger.models import AccountKind, JournalEntry, LedgerAccount
from apps.ledger.services import ledger_deposit
from apps.returns.models import ReturnFile
from tests.backoffice.conftest import client_for, stored_batch
from tests.factories import employee_file_bytes, employee_rows, upload

pytestmark = pytest.mark.django_db

EMPLOYEES = "/admin/employees/employee/"
EMPLOYEE_FILES = "/admin/employees/employeefile/"
EMPLOYEE_FILE_ROWS = "/admin/employees/employeefilerow/"
ACCOUNTS = "/admin/ledger/ledgeraccount/"
ENTRIES = "/admin/ledger/journalentry/"
RETURNS = "/admin/returns/returnfile/"


def assert_read_only(client, changelist: str, obj, *, add_page: bool = False) -> str:
    page = client.get(f"{changelist}{obj.pk}/change/")
    assert page.status_code == 200
    add = client.get(f"{changelist}add/")
    if add_page:  # a service's form (opening an account), never the model form with its balance
        assert 'name="balance"' not in add.content.decode()
    else:
        assert add.status_code == 403
    assert client.post(f"{changelist}{obj.pk}/change/", {}).status_code == 403
    assert client.post(f"{changelist}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    action_form = client.get(changelist).context["action_form"]
    choices = [v for v, _ in action_form.fields["action"].choices] if action_form else []
    assert "delete_selected" not in choices
    return page.content.decode()


def test_employee_registry_search_and_company_filter(business_clock, our_agent, other_agent, bank, superuser,
                                                     django_capture_on_commit_callbacks):
    stored_batch(our_agent, bank, django_capture_on_commit_callbacks)  # registers three new employees
    Employee.objects.create(company=other_agent.company, account="6222020000000000999", name="王五", id_type="1",
                            id_number="E12345678")
    client = client_for(superuser)

    def listed(**params) -> set[str]:
        return {e.name for e in client.get(EMPLOYEES, params).context["cl"].result_list}

    assert len(listed()) == 4
    assert listed(company__id__exact=other_agent.company.pk) == {"王五"}
    assert listed(q="王五") == {"王五"}
    assert listed(q="6222020000000000999") == {"王五"}
    assert listed(current="no") == set()
    page = assert_read_only(client, EMPLOYEES, Employee.objects.get(name="王五"))
    assert 'name="account"' not in page


def test_employee_files_and_their_rows(business_clock, our_agent, bank, superuser,
                                       django_capture_on_commit_callbacks):
    data = employee_file_bytes(party=our_agent, rows=employee_rows(2), bank=bank)
    with django_capture_on_commit_callbacks():
        employee_file = employee_file_submit(card=our_agent.card, agreement=our_agent.agreement,
                                             upload=upload(data, "员工.p7m"))
    employee_file_open(file_id=employee_file.pk)
    client = client_for(superuser)

    listing = client.get(EMPLOYEE_FILES, {"status__exact": EmployeeFile.Status.AWAITING_CONFIRMATION})
    assert [f.pk for f in listing.context["cl"].result_list] == [employee_file.pk]
    page = assert_read_only(client, EMPLOYEE_FILES, employee_file)
    assert "查看 2 行明细" in page
    rows = client.get(EMPLOYEE_FILE_ROWS, {"file__id__exact": employee_file.pk}).context["cl"].result_list
    assert [r.seq for r in rows] == [1, 2]
    assert_read_only(client, EMPLOYEE_FILE_ROWS, rows[0])


def test_ledger_accounts_and_entries_are_read_only(business_clock, our_agent, superuser):
    account = LedgerAccount.objects.get(number="310066001800001")  # opened with the agreement
    txn = ledger_deposit(account=account, amount=Decimal("5000.00"))
    client = client_for(superuser)

    accounts = client.get(ACCOUNTS, {"kind__exact": AccountKind.SETTLEMENT})
    assert [a.number for a in accounts.context["cl"].result_list] == ["310066001800001"]
    page = assert_read_only(client, ACCOUNTS, account, add_page=True)
    assert 'name="balance"' not in page
    assert "5,000.00" in page or "5000.00" in page

    entries = client.get(ENTRIES, {"q": str(txn)})
    assert {(e.side, e.amount) for e in entries.context["cl"].result_list} == {("D", Decimal("5000.00")),
                                                                              ("C", Decimal("5000.00"))}
    assert [e.account_id for e in client.get(ENTRIES, {"account__id__exact": account.pk}).context["cl"]
            .result_list] == [account.pk]
    entry = JournalEntry.objects.get(txn_id=txn, account=account)
    assert 'name="amount"' not in assert_read_only(client, ENTRIES, entry)
    assert LedgerAccount.objects.get(pk=account.pk).balance == Decimal("5000.00")


def test_return_files_are_read_only(business_clock, our_agent, bank, superuser, django_capture_on_commit_callbacks):
    batch = stored_batch(our_agent, bank, django_capture_on_commit_callbacks)
    # Only the admin is under test here; the return-file job has its own tests.
    return_file = ReturnFile.objects.create(
        batch=batch, stored_name="r1", file_id="RET-0001", size=10, digest="0" * 64, plain_digest="1" * 64,
        format_version="1", record_count=3, success_count=3, success_amount=Decimal("24000.00"), failure_count=0,
        failure_amount=Decimal("0.00"), fee_charged=Decimal("1.50"), business_date=date(2026, 12, 6),
    )
    client = client_for(superuser)

    assert [r.pk for r in client.get(RETURNS, {"q": our_agent.company.name}).context["cl"].result_list] == [
        return_file.pk]
    page = assert_read_only(client, RETURNS, return_file)
    assert 'name="success_amount"' not in page


def test_staff_without_permissions_see_none_of_it(business_clock, bank_staff):
    client = client_for(bank_staff)
    for url in (EMPLOYEES, EMPLOYEE_FILES, EMPLOYEE_FILE_ROWS, ACCOUNTS, ENTRIES, RETURNS):
        assert client.get(url).status_code == 403, url
    index = client.get("/admin/")
    assert index.status_code == 200
    assert index.context["app_list"] == []


def test_every_registered_admin_page_renders_for_a_superuser(business_clock, our_agent, superuser):
    from django.contrib import admin
    from django.urls import reverse

    client = client_for(superuser)
    assert client.get("/admin/").status_code == 200
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
