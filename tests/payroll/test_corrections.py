"""更正 (issue 13 item 3): a correction pays only the original batch's failed rows, once.

Given an original batch paid with one row to a missing account (AC01) and one to a frozen
account (AC06), when the company corrects the missing account's row, then the ledger pays it once,
the original and the correction together equal what the ledger paid, and reconcile is clean; a
second correction of the same row is refused (at pre-validation, or by the database constraint
when two race through storing), and a row that was paid is refused, nothing stored.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import Sum

from apps.core.models import AuditEvent
from apps.ledger.models import AccountKind, AccountStatus, EntryKind, EntrySide, JournalEntry, LedgerAccount
from apps.ledger.payday import payday_run
from apps.ledger.services import ledger_deposit, ledger_fee_income_account
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollCorrection, PayrollRow
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_prevalidate, payroll_batch_submit
from apps.payroll.services.storing import payroll_batch_store
from apps.payroll.services.transitions import batch_transition
from apps.returns.services import return_files_run
from payroll_exchange.envelope import envelope_seal
from payroll_exchange.formats import payroll_dump
from payroll_exchange.records import PayrollFile, PayrollHeader
from payroll_exchange.records import PayrollRow as FileRow
from tests.factories import CHECK_CODE, payroll_file_bytes, payroll_rows, unionpay_account, upload

pytestmark = pytest.mark.django_db

PAY_DATE = date(2026, 12, 5)
CORRECTION_PAY_DATE = date(2026, 12, 7)
NEW_ACCOUNT = unionpay_account(7002)


@pytest.fixture
def bank(platform_keys):
    return platform_keys["bank"]


def _through(party, data, django_capture_on_commit_callbacks) -> PayrollBatch:
    with django_capture_on_commit_callbacks():
        batch = payroll_batch_submit(card=party.card, agreement=party.agreement, upload=upload(data))
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch


def _stored(party, batch, django_capture_on_commit_callbacks) -> PayrollBatch:
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION, batch.errors
    with django_capture_on_commit_callbacks():
        payroll_batch_confirm(batch=batch, card=party.card, checklist=CHECK_CODE)
    payroll_batch_store(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch


@pytest.fixture
def returned(business_clock, bank_signer, our_agent, bank, django_capture_on_commit_callbacks):
    """The original batch B20261201 of three rows, paid on its pay date and returned the next day:
    row 1 paid, row 2 AC01 (no such account), row 3 AC06 (frozen)."""
    rows = payroll_rows(3)
    LedgerAccount.objects.bulk_create([
        LedgerAccount(number=rows[0].account, holder_name=rows[0].name, kind=AccountKind.EMPLOYEE),
        LedgerAccount(number=rows[2].account, holder_name=rows[2].name, kind=AccountKind.EMPLOYEE,
                      status=AccountStatus.FROZEN),
        # Row 2's employee has a new account, under their name: the correction pays it there.
        LedgerAccount(number=NEW_ACCOUNT, holder_name=rows[1].name, kind=AccountKind.EMPLOYEE),
    ])
    ledger_fee_income_account()
    ledger_deposit(account=LedgerAccount.objects.get(number=our_agent.agreement.settlement_account),
                   amount=Decimal("100000.00"))
    original = _stored(our_agent, _through(our_agent, payroll_file_bytes(party=our_agent, rows=rows, bank=bank),
                                           django_capture_on_commit_callbacks), django_capture_on_commit_callbacks)
    payday_run(today=PAY_DATE)
    return_files_run(today=date(2026, 12, 6))
    original.refresh_from_db()
    assert original.status == BatchStatus.RETURNED
    assert list(original.rows.order_by("seq").values_list("result_code", flat=True)) == ["0000", "AC01", "AC06"]
    return original, rows


def correction_bytes(*, party, bank, original: PayrollBatch, rows: list[FileRow], batch_no: str) -> bytes:
    """A version-2 payroll file paying ``rows`` again (each with its original_seq)."""
    header = PayrollHeader(
        format_version="2", agreement_no=party.agreement.number, payer_unit_no=party.agreement.payer_unit_no,
        batch_no=batch_no, pay_date=CORRECTION_PAY_DATE, currency="CNY", record_count=len(rows),
        total_amount=sum((r.amount for r in rows), Decimal("0")), purpose="工资",
        original_batch_no=original.batch_no, original_digest=original.digest, check_code=CHECK_CODE)
    payload = payroll_dump(PayrollFile(header=header, rows=rows))
    return envelope_seal(payload=payload, kind="payroll", signer=party.identity, recipient_cert=bank.cert)


def corrected(rows: list[FileRow], *seqs: int, account: str = NEW_ACCOUNT) -> list[FileRow]:
    return [FileRow(seq=n, account=account, name=rows[s - 1].name, amount=rows[s - 1].amount,
                    id_type=rows[s - 1].id_type, id_number=rows[s - 1].id_number, remark="更正",
                    original_seq=s) for n, s in enumerate(seqs, start=1)]


def _credited() -> Decimal:
    return JournalEntry.objects.filter(kind=EntryKind.PAYROLL, side=EntrySide.CREDIT).aggregate(
        s=Sum("amount"))["s"] or Decimal("0.00")


def test_the_correction_pays_the_failed_row_once_and_the_books_reconcile(
    returned, our_agent, bank, django_capture_on_commit_callbacks
):
    original, rows = returned
    data = correction_bytes(party=our_agent, bank=bank, original=original, rows=corrected(rows, 2),
                            batch_no="B20261201-C1")
    correction = _stored(our_agent, _through(our_agent, data, django_capture_on_commit_callbacks),
                         django_capture_on_commit_callbacks)

    assert correction.status == BatchStatus.STORED
    assert correction.corrects_id == original.pk
    link = PayrollCorrection.objects.get(correction_batch=correction)
    assert (link.original_batch_id, link.original_seq, link.original_result_code, link.correction_seq,
            link.effective) == (original.pk, 2, "AC01", 1, True)

    payday_run(today=CORRECTION_PAY_DATE)
    return_files_run(today=date(2026, 12, 8))
    correction.refresh_from_db()
    assert (correction.status, correction.success_count, correction.success_amount) == (
        BatchStatus.RETURNED, 1, Decimal("8000.00"))
    # The original and its correction together paid exactly what the ledger credited employees.
    assert original.success_amount + correction.success_amount == _credited() == Decimal("16000.00")
    assert LedgerAccount.objects.get(number=NEW_ACCOUNT).balance == Decimal("8000.00")
    out = StringIO()
    call_command("reconcile", stdout=out)
    assert out.getvalue() == "reconciled: no difference\n"
    # 变动提示: a correction is no month's payroll; next month compares with the original.
    from apps.payroll.changes import payroll_batch_changes, payroll_batch_last_paid

    assert payroll_batch_changes(batch=correction) is None
    next_month = PayrollBatch(agreement=original.agreement, company=original.company)
    assert payroll_batch_last_paid(batch=next_month) == original


def test_a_paid_row_is_refused_at_prevalidation_and_nothing_is_stored(
    returned, our_agent, bank, django_capture_on_commit_callbacks
):
    original, rows = returned
    again = corrected(rows, 2) + [FileRow(seq=2, account=rows[0].account, name=rows[0].name, amount=rows[0].amount,
                                          id_type=rows[0].id_type, id_number=rows[0].id_number, remark="",
                                          original_seq=1)]
    data = correction_bytes(party=our_agent, bank=bank, original=original, rows=again, batch_no="B20261201-C1")
    batch = _through(our_agent, data, django_capture_on_commit_callbacks)

    assert batch.status == BatchStatus.INVALID
    assert [(e["code"], e["row"]) for e in batch.errors] == [("correction_row_paid", 2)]
    assert "原批次 B20261201 第 1 行已发放成功，不能再次发放" in batch.errors[0]["zh"]
    assert not PayrollCorrection.objects.exists()
    assert not PayrollRow.objects.filter(batch=batch).exists()


def test_an_unknown_or_unpaid_original_and_a_changed_amount_are_refused(
    returned, our_agent, bank, django_capture_on_commit_callbacks
):
    original, rows = returned
    bad = corrected(rows, 2) + corrected(rows, 3, account=unionpay_account(7003))
    bad[0].amount = Decimal("9000.00")
    bad[1].seq, bad[1].original_seq = 2, 9  # the original has no row 9
    batch = _through(our_agent, correction_bytes(party=our_agent, bank=bank, original=original, rows=bad,
                                                 batch_no="B20261201-C1"), django_capture_on_commit_callbacks)
    assert batch.status == BatchStatus.INVALID
    assert [(e["code"], e["row"]) for e in batch.errors] == [("correction_amount_changed", 1),
                                                             ("correction_row_unknown", 2)]
    assert not PayrollCorrection.objects.exists()


def test_a_second_correction_of_the_same_row_is_refused(
    returned, our_agent, bank, django_capture_on_commit_callbacks
):
    original, rows = returned
    first = _through(our_agent, correction_bytes(party=our_agent, bank=bank, original=original,
                                                 rows=corrected(rows, 2), batch_no="B20261201-C1"),
                     django_capture_on_commit_callbacks)
    # The second passes pre-validation too (the first is not stored yet): both reach 待确认入库.
    both = corrected(rows, 3, account=unionpay_account(7003)) + corrected(rows, 2)
    both[1].seq = 2
    second = _through(our_agent, correction_bytes(party=our_agent, bank=bank, original=original,
                                                  rows=both, batch_no="B20261201-C2"),
                      django_capture_on_commit_callbacks)
    assert first.status == second.status == BatchStatus.AWAITING_CONFIRMATION
    _stored(our_agent, first, django_capture_on_commit_callbacks)

    # Storing the second breaks the partial unique index: refused, naming the row, nothing stored.
    second = _stored(our_agent, second, django_capture_on_commit_callbacks)
    assert second.status == BatchStatus.INVALID
    assert [(e["code"], e["row"]) for e in second.errors] == [("correction_row_taken", 2)]
    assert "已由更正批次 B20261201-C1 重新发放" in second.errors[0]["zh"]
    assert not PayrollRow.objects.filter(batch=second).exists()
    assert list(PayrollCorrection.objects.filter(effective=True).values_list("correction_batch_id", flat=True)) == [
        first.pk]
    assert AuditEvent.objects.filter(action="payroll_correction_refused", object_id=str(second.pk)).exists()

    # A third, made after the first was stored, is refused already at pre-validation.
    third = _through(our_agent, correction_bytes(party=our_agent, bank=bank, original=original,
                                                 rows=corrected(rows, 2), batch_no="B20261201-C3"),
                     django_capture_on_commit_callbacks)
    assert third.status == BatchStatus.INVALID
    assert [(e["code"], e["row"]) for e in third.errors] == [("correction_row_taken", 1)]


def test_a_rejected_correction_frees_its_rows(returned, our_agent, bank, django_capture_on_commit_callbacks):
    original, rows = returned
    first = _stored(our_agent, _through(our_agent, correction_bytes(
        party=our_agent, bank=bank, original=original, rows=corrected(rows, 2), batch_no="B20261201-C1"),
        django_capture_on_commit_callbacks), django_capture_on_commit_callbacks)
    batch_transition(batch_id=first.pk, action="reject", rejected_reason="账号仍有误")
    assert not PayrollCorrection.objects.filter(effective=True).exists()
    again = _stored(our_agent, _through(our_agent, correction_bytes(
        party=our_agent, bank=bank, original=original, rows=corrected(rows, 2), batch_no="B20261201-C2"),
        django_capture_on_commit_callbacks), django_capture_on_commit_callbacks)
    assert again.status == BatchStatus.STORED


def test_the_database_refuses_a_second_effective_link_and_a_link_to_a_paid_row(returned) -> None:
    original, _rows = returned
    other = PayrollBatch.objects.exclude(pk=original.pk).first() or original
    failed_row = PayrollRow.objects.get(batch=original, seq=2)
    paid_row = PayrollRow.objects.get(batch=original, seq=1)
    PayrollCorrection.objects.create(original_batch=original, original_row=failed_row, original_seq=2,
                                     original_result_code="AC01", correction_batch=other, correction_seq=1,
                                     effective=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        PayrollCorrection.objects.create(original_batch=original, original_row=failed_row, original_seq=2,
                                         original_result_code="AC01", correction_batch=other, correction_seq=2,
                                         effective=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        PayrollCorrection.objects.create(original_batch=original, original_row=paid_row, original_seq=1,
                                         original_result_code="0000", correction_batch=other, correction_seq=3)
    assert PayrollCorrection.objects.count() == 1


def test_the_return_file_the_kiosk_and_the_admin_show_the_link(
    returned, our_agent, bank, bank_staff, django_capture_on_commit_callbacks
):
    from django.test import Client

    from apps.returns.services import return_content_build
    from payroll_exchange.formats import return_load
    from tests.kiosk.conftest import login

    original, rows = returned
    correction = _stored(our_agent, _through(our_agent, correction_bytes(
        party=our_agent, bank=bank, original=original, rows=corrected(rows, 2), batch_no="B20261201-C1"),
        django_capture_on_commit_callbacks), django_capture_on_commit_callbacks)
    payday_run(today=CORRECTION_PAY_DATE)
    correction.refresh_from_db()
    # The correction's return file names the original batch; an ordinary one names none.
    assert return_load(return_content_build(batch=correction).data)[0].header.original_batch_no == "B20261201"
    assert return_load(return_content_build(batch=original).data)[0].header.original_batch_no == ""

    kiosk = Client()
    assert login(kiosk, our_agent).status_code == 302
    page = kiosk.get(f"/payroll/{correction.pk}/").content.decode()
    assert "只重新发放原批次 B20261201 中发放失败的行" in page
    page = kiosk.get(f"/payroll/{original.pk}/").content.decode()
    assert 'id="corrections-list"' in page
    assert "B20261201-C1" in page

    bank_staff.is_superuser = True
    bank_staff.save()
    staff = Client()
    staff.force_login(bank_staff)
    page = staff.get(f"/admin/payroll/payrollbatch/{original.pk}/change/").content.decode()
    assert f'/admin/payroll/payrollbatch/{correction.pk}/change/">B20261201-C1</a>' in page
    page = staff.get(f"/admin/payroll/payrollbatch/{correction.pk}/change/").content.decode()
    assert f'/admin/payroll/payrollbatch/{original.pk}/change/">B20261201</a>' in page
