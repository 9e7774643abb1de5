"""提交代发工资 through the services: upload, pre-validation, 确认入库 / 撤消, storing.

Tasks are run by calling the service the task calls (the worker is exercised in
test_e2e_worker.py); the on_commit hooks are captured to prove what gets enqueued.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from apps.core.errors import KioskClosed, UploadRefused
from apps.core.models import AuditEvent
from apps.employees.models import Employee
from apps.intake.errors import NotYourAgreement, StateError
from apps.payroll.errors import PayDateOutOfWindow
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.payroll.services.intake import (
    payroll_batch_confirm,
    payroll_batch_prevalidate,
    payroll_batch_revoke,
    payroll_batch_submit,
)
from apps.payroll.services.reports import payroll_report_csv, payroll_report_text
from apps.payroll.services.storing import payroll_batch_store
from payroll_exchange.formats import file_digest
from tests.factories import CHECK_CODE, at, payroll_file_bytes, payroll_rows, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(platform_keys):
    return platform_keys["bank"]


def submit(party, data, django_capture_on_commit_callbacks, name="payroll.p7m"):
    with django_capture_on_commit_callbacks() as callbacks:
        batch = payroll_batch_submit(card=party.card, agreement=party.agreement, upload=upload(data, name))
    return batch, callbacks


def register(party, rows):
    Employee.objects.bulk_create([Employee(company=party.company, account=r.account, name=r.name, id_type=r.id_type,
                                           id_number=r.id_number) for r in rows])


def validated(party, bank, rows, django_capture_on_commit_callbacks, **kwargs) -> PayrollBatch:
    batch, _ = submit(party, payroll_file_bytes(party=party, rows=rows, bank=bank, **kwargs),
                      django_capture_on_commit_callbacks)
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch


def test_upload_records_the_batch_and_enqueues_prevalidation_on_commit(
    business_clock, our_agent, bank, django_capture_on_commit_callbacks
):
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(3), bank=bank)
    batch, callbacks = submit(our_agent, data, django_capture_on_commit_callbacks, name="11月工资.p7m")

    assert batch.status == BatchStatus.VALIDATING
    assert batch.original_name == "11月工资.p7m"
    assert batch.size == len(data)
    assert batch.upload_date == date(2026, 12, 1)
    assert len(callbacks) == 1  # the pre-validation task, published only after commit
    assert AuditEvent.objects.filter(
        action="payroll_submit", object_id=str(batch.pk), actor=f"card#{our_agent.card.pk}"
    ).exists()


def test_prevalidation_shows_totals_fee_digest_and_new_employees(
    business_clock, our_agent, bank, django_capture_on_commit_callbacks
):
    rows = payroll_rows(3)
    register(our_agent, rows[:2])  # the third employee is new
    batch, _ = submit(our_agent, payroll_file_bytes(party=our_agent, rows=rows, bank=bank),
                      django_capture_on_commit_callbacks)
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()

    assert batch.status == BatchStatus.AWAITING_CONFIRMATION
    assert (batch.batch_no, batch.pay_date, batch.record_count) == ("B20261201", date(2026, 12, 5), 3)
    assert batch.total_amount == Decimal("24000.00")
    assert batch.expected_fee == Decimal("1.50")
    assert (batch.rows_done, batch.rows_total) == (3, 3)
    assert batch.new_employee_count == 1
    assert [e["account"] for e in batch.new_employees] == [rows[2].account]
    text = payroll_report_text(batch=batch, language="zh-hans")
    assert "24,000.00" in text
    assert "1.50" in text
    assert batch.digest in text
    assert payroll_report_csv(batch=batch).startswith(b"\xef\xbb\xbf")


def test_confirm_then_store_writes_every_row_once_and_registers_new_employees(
    business_clock, our_agent, bank, django_capture_on_commit_callbacks
):
    rows = payroll_rows(4)
    register(our_agent, rows[:3])
    batch = validated(our_agent, bank, rows, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks() as callbacks:
        payroll_batch_confirm(batch=batch, card=our_agent.card, checklist=CHECK_CODE)
    assert len(callbacks) == 1
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.STORING

    assert payroll_batch_store(batch_id=batch.pk) is True
    assert payroll_batch_store(batch_id=batch.pk) is False  # a redelivered task stores nothing twice
    batch.refresh_from_db()
    assert batch.status == BatchStatus.STORED
    stored = list(PayrollRow.objects.filter(batch=batch).order_by("seq").values_list("seq", "account", "amount"))
    assert stored == [(r.seq, r.account, r.amount) for r in rows]
    assert Employee.objects.filter(company=our_agent.company, account=rows[3].account, name=rows[3].name).count() == 1


def test_file_with_row_errors_is_invalid_and_stores_nothing(
    business_clock, our_agent, bank, django_capture_on_commit_callbacks
):
    rows = payroll_rows(3)
    rows[1].account = rows[1].account[:-1] + str((int(rows[1].account[-1]) + 1) % 10)  # Luhn broken
    rows[2].amount = Decimal("60000.00")  # above the single payment limit of 50,000
    batch = validated(our_agent, bank, rows, django_capture_on_commit_callbacks)

    assert batch.status == BatchStatus.INVALID
    by_row = {(e["row"], e["field"]) for e in batch.errors}
    assert (2, "account") in by_row
    assert (3, "amount") in by_row
    with pytest.raises(StateError):
        payroll_batch_confirm(batch=batch, card=our_agent.card, checklist=CHECK_CODE)
    assert PayrollRow.objects.count() == 0
    assert Employee.objects.count() == 0
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.INVALID


def test_account_registered_under_another_name_is_an_error(
    business_clock, our_agent, bank, django_capture_on_commit_callbacks
):
    rows = payroll_rows(2)
    register(our_agent, rows)
    Employee.objects.filter(account=rows[0].account).update(name="王五")
    batch = validated(our_agent, bank, rows, django_capture_on_commit_callbacks)

    assert batch.status == BatchStatus.INVALID
    [error] = batch.errors
    assert (error["code"], error["row"], error["field"]) == ("registry_name_mismatch", 1, "name")
    assert "王五" in error["zh"]


def test_signer_of_another_agreement_is_refused(
    business_clock, our_agent, other_agent, bank, django_capture_on_commit_callbacks
):
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=bank, signer=other_agent.identity)
    batch, _ = submit(our_agent, data, django_capture_on_commit_callbacks)
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.INVALID
    assert batch.refusal_code == "envelope_signer_not_bound"
    assert batch.digest is None
    assert batch.record_count == 0


def test_batch_number_is_used_once_until_revoked(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    first = validated(our_agent, bank, payroll_rows(2), django_capture_on_commit_callbacks, batch_no="B001")
    second = validated(our_agent, bank, payroll_rows(3, start=50), django_capture_on_commit_callbacks, batch_no="B001")
    assert first.status == BatchStatus.AWAITING_CONFIRMATION
    assert second.status == BatchStatus.INVALID
    assert [e["code"] for e in second.errors] == ["batch_no_used"]

    payroll_batch_revoke(batch=first, card=our_agent.card)
    third = validated(our_agent, bank, payroll_rows(3, start=50), django_capture_on_commit_callbacks, batch_no="B001")
    assert third.status == BatchStatus.AWAITING_CONFIRMATION


def test_same_file_twice_is_refused(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=bank)
    first, _ = submit(our_agent, data, django_capture_on_commit_callbacks)
    second, _ = submit(our_agent, data, django_capture_on_commit_callbacks)
    payroll_batch_prevalidate(batch_id=first.pk)
    payroll_batch_prevalidate(batch_id=second.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == BatchStatus.AWAITING_CONFIRMATION
    assert second.status == BatchStatus.INVALID
    assert "file_already_submitted" in [e["code"] for e in second.errors]


def test_confirmation_rechecks_the_pay_date_window(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    batch = validated(our_agent, bank, payroll_rows(2), django_capture_on_commit_callbacks, pay_date=date(2026, 12, 2))
    business_clock.set(at(date(2026, 12, 3)))  # the pay date has passed while the file waited

    with pytest.raises(PayDateOutOfWindow) as refused:
        payroll_batch_confirm(batch=batch, card=our_agent.card, checklist=CHECK_CODE)
    assert "撤消" in refused.value.zh
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.AWAITING_CONFIRMATION
    assert PayrollRow.objects.count() == 0


def test_pay_date_beyond_fifteen_days_is_refused_at_upload(
    business_clock, our_agent, bank, django_capture_on_commit_callbacks
):
    batch = validated(our_agent, bank, payroll_rows(1), django_capture_on_commit_callbacks,
                      pay_date=date(2026, 12, 1) + timedelta(days=16))
    assert batch.status == BatchStatus.INVALID
    assert [e["code"] for e in batch.errors] == ["pay_date_too_far"]


def test_another_companys_agent_can_neither_confirm_nor_revoke(
    business_clock, our_agent, other_agent, bank, django_capture_on_commit_callbacks
):
    batch = validated(our_agent, bank, payroll_rows(2), django_capture_on_commit_callbacks)
    with pytest.raises(PayrollBatch.DoesNotExist):
        payroll_batch_confirm(batch=batch, card=other_agent.card, checklist=CHECK_CODE)
    with pytest.raises(PayrollBatch.DoesNotExist):
        payroll_batch_revoke(batch=batch, card=other_agent.card)
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.AWAITING_CONFIRMATION


def test_uploading_under_another_companys_agreement_is_refused(
    business_clock, our_agent, other_agent, bank, tmp_path
):
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(1), bank=bank)
    with pytest.raises(NotYourAgreement):
        payroll_batch_submit(card=our_agent.card, agreement=other_agent.agreement, upload=upload(data))
    assert PayrollBatch.objects.count() == 0


def test_no_submission_outside_service_hours(business_clock, our_agent, bank):
    business_clock.set(at(date(2026, 12, 1), 16, 30))
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(1), bank=bank)
    with pytest.raises(KioskClosed):
        payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
    assert PayrollBatch.objects.count() == 0


@override_settings(UPLOAD_MAX_BYTES=1000)
def test_oversized_upload_is_refused_and_nothing_is_kept(business_clock, our_agent, bank, settings):
    from pathlib import Path

    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(20), bank=bank)
    assert len(data) > 1000
    # The private folder is shared by the whole test run: compare what is in it before and after,
    # not whether some earlier test's file happens to have the same size.
    uploads = Path(settings.PRIVATE_FILES_DIR) / "uploads"
    before = {p.name for p in uploads.glob("*")}
    with pytest.raises(UploadRefused) as refused:
        payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
    assert refused.value.code == "upload_too_large"
    assert PayrollBatch.objects.count() == 0
    assert {p.name for p in uploads.glob("*")} == before


def test_revoke_only_before_storing(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    batch = validated(our_agent, bank, payroll_rows(2), django_capture_on_commit_callbacks)
    payroll_batch_confirm(batch=batch, card=our_agent.card, checklist=CHECK_CODE)
    with pytest.raises(StateError):
        payroll_batch_revoke(batch=batch, card=our_agent.card)
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.STORING


def test_prevalidation_run_twice_changes_nothing_the_second_time(
    business_clock, our_agent, bank, django_capture_on_commit_callbacks
):
    batch = validated(our_agent, bank, payroll_rows(2), django_capture_on_commit_callbacks)
    before = PayrollBatch.objects.filter(pk=batch.pk).values().get()
    payroll_batch_prevalidate(batch_id=batch.pk)
    assert PayrollBatch.objects.filter(pk=batch.pk).values().get() == before


def test_digest_shown_is_the_plain_files_digest(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    from payroll_exchange.envelope import envelope_open

    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=bank)
    batch, _ = submit(our_agent, data, django_capture_on_commit_callbacks)
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    from apps.agreements.services import trust_store

    opened = envelope_open(data=data, recipient=bank, trust=trust_store(now=at(date(2026, 12, 1))),
                           now=at(date(2026, 12, 1)), expected_kind="payroll")
    assert batch.digest == file_digest(opened.payload)
