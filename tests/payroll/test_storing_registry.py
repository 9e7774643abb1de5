"""入库 and the employee registry: the new accounts are found at storing time (an anti-join), and an
account another file registers while the batch is being stored is kept once."""

from __future__ import annotations

import threading

import psycopg
import pytest
from django.db import connection

from apps.core.files import private_path
from apps.core.models import AuditEvent
from apps.employees.models import Employee
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_prevalidate, payroll_batch_submit
from apps.payroll.services.storing import newcomers_path, payroll_batch_store, prepared_blocks, prepared_digest
from tests.factories import payroll_file_bytes, payroll_rows, upload
from tests.support.processes import wait_until

CODE = "A3C4E6F7G9"  # the file's 核对码, typed at 确认入库


def _confirmed(party, bank, rows) -> PayrollBatch:
    """Submitted, pre-validated and confirmed; the queued tasks are not run (the test stores)."""
    data = payroll_file_bytes(party=party, rows=rows, bank=bank, check_code=CODE)
    batch = payroll_batch_submit(card=party.card, agreement=party.agreement, upload=upload(data))
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION, batch.errors
    payroll_batch_confirm(batch=batch, card=party.card, checklist=CODE)
    return batch


def _registered_by_employee_file(company, row) -> Employee:
    """The row's employee already in the registry, put there by an employee file (员工文件)."""
    return Employee.objects.create(company=company, account=row.account, name=row.name, id_type="0",
                                   id_number=row.id_number, source="employee_file")


@pytest.mark.django_db
def test_storing_registers_the_new_employees_the_agent_confirmed_and_a_later_deletion_stands(
    business_clock, our_agent, platform_keys, django_capture_on_commit_callbacks
):
    # Given a batch whose first account was registered at pre-validation (two 新增员工 shown and
    # confirmed), and an employee file that deleted that employee afterwards.
    rows = payroll_rows(3)
    known = _registered_by_employee_file(our_agent.company, rows[0])
    with django_capture_on_commit_callbacks():
        batch = _confirmed(our_agent, platform_keys["bank"], rows)
    assert batch.new_employee_count == 2
    Employee.objects.filter(pk=known.pk).update(removed_at=known.added_at)

    assert payroll_batch_store(batch_id=batch.pk) is True

    # Then every row is stored, the two new employees are registered, and the deletion stands.
    assert PayrollRow.objects.filter(batch=batch).count() == 3
    registry = Employee.objects.filter(company=our_agent.company).order_by("account")
    assert list(registry.values_list("account", "source", "removed_at")) == [
        (rows[0].account, "employee_file", known.added_at),
        *[(r.account, f"payroll:{batch.batch_no}", None) for r in rows[1:]],
    ]
    event = AuditEvent.objects.get(action="payroll_stored", object_id=str(batch.pk))
    assert event.detail == {"rows": 3, "new_employees": 2}


@pytest.mark.django_db
def test_newcomers_changed_after_prevalidation_are_refused_by_the_digest_and_nothing_is_stored(
    business_clock, our_agent, platform_keys, django_capture_on_commit_callbacks
):
    rows = payroll_rows(3)
    with django_capture_on_commit_callbacks():
        batch = _confirmed(our_agent, platform_keys["bank"], rows)
    newcomers = newcomers_path(batch.stored_name)
    assert newcomers.read_bytes() == b"1,2,3"
    newcomers.write_bytes(b"1,2")  # one new employee fewer than the digest recorded

    assert payroll_batch_store(batch_id=batch.pk) is False

    batch.refresh_from_db()
    assert batch.status == BatchStatus.STORING
    assert "digest" in batch.system_error
    assert not PayrollRow.objects.filter(batch=batch).exists()
    assert not Employee.objects.exists()


def _waiting_on_lock(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND wait_event_type = 'Lock' AND query ILIKE %s", [f"%{table}%"])
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_an_account_registered_by_another_file_while_storing_is_kept_once(
    business_clock, our_agent, platform_keys
):
    # Given a confirmed batch of three new employees, and another session (an employee file being
    # stored) that has registered the second account but not committed yet.
    rows = payroll_rows(3)
    batch = _confirmed(our_agent, platform_keys["bank"], rows)
    db = connection.settings_dict
    other = psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    outcome: dict[str, object] = {}

    def store() -> None:
        try:
            outcome["stored"] = payroll_batch_store(batch_id=batch.pk)
        except Exception as exc:  # noqa: BLE001 — reported to the test below
            outcome["error"] = exc
        finally:
            connection.close()

    try:
        other.execute(
            "INSERT INTO employees_employee (company_id, account, name, id_type, id_number, added_at, source)"
            " VALUES (%s, %s, %s, '0', %s, now(), 'employee_file')",
            [our_agent.company.pk, rows[1].account, rows[1].name, rows[1].id_number])
        # When storing runs, its insert of that account waits for the other session's unique key …
        worker = threading.Thread(target=store)
        worker.start()
        wait_until(lambda: _waiting_on_lock("employees_employee"), timeout=60,
                   what="storing to wait for the other session's registration")
        # … which then commits first.
        other.commit()
        worker.join(timeout=60)
        assert not worker.is_alive()
    finally:
        other.close()

    # Then the batch is stored with every row, and the registry holds that account once (the other
    # file's) and the two others from this batch.
    assert outcome == {"stored": True}
    batch.refresh_from_db()
    assert batch.status == BatchStatus.STORED
    assert PayrollRow.objects.filter(batch=batch).count() == 3
    registry = Employee.objects.filter(company=our_agent.company).order_by("account")
    assert list(registry.values_list("account", "source")) == sorted(
        [(rows[0].account, f"payroll:{batch.batch_no}"), (rows[1].account, "employee_file"),
         (rows[2].account, f"payroll:{batch.batch_no}")])
    event = AuditEvent.objects.get(action="payroll_stored", object_id=str(batch.pk))
    assert event.detail == {"rows": 3, "new_employees": 2}


@pytest.mark.django_db
def test_a_batch_prepared_before_the_newcomers_file_existed_is_stored_with_the_upsert(
    business_clock, our_agent, platform_keys, django_capture_on_commit_callbacks
):
    # A batch confirmed before a deployment of this version: its prepared rows, no newcomers file,
    # rows_digest of the rows alone.
    rows = payroll_rows(3)
    _registered_by_employee_file(our_agent.company, rows[0])
    with django_capture_on_commit_callbacks():
        batch = _confirmed(our_agent, platform_keys["bank"], rows)
    newcomers_path(batch.stored_name).unlink()
    prepared = private_path("validated", batch.stored_name)
    PayrollBatch.objects.filter(pk=batch.pk).update(
        rows_digest=prepared_digest(rows=prepared_blocks(prepared), newcomer_seqs=None))

    assert payroll_batch_store(batch_id=batch.pk) is True

    assert PayrollRow.objects.filter(batch=batch).count() == 3
    registry = Employee.objects.filter(company=our_agent.company).order_by("account")
    assert list(registry.values_list("account", "source")) == [
        (rows[0].account, "employee_file"), *[(r.account, f"payroll:{batch.batch_no}") for r in rows[1:]]]
    event = AuditEvent.objects.get(action="payroll_stored", object_id=str(batch.pk))
    assert event.detail == {"rows": 3, "new_employees": 2}
