"""Return files: made the day after the pay date, signed by the bank, encrypted for the company,
decrypted by the enterprise key to the right totals; once per batch."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from apps.agreements.models import Certificate
from apps.core.models import AuditEvent
from apps.ledger.models import AccountStatus
from apps.ledger.payday import payday_run
from apps.payroll.models import BatchStatus
from apps.returns.models import ReturnFile
from apps.returns.selectors import return_file_get, return_file_read, return_files_for_company
from apps.returns.services import return_files_run
from apps.returns.tasks import return_files_run_task
from payroll_exchange.clock import BUSINESS_TZ
from payroll_exchange.envelope import envelope_open
from payroll_exchange.errors import ExchangeError
from payroll_exchange.formats import file_digest, return_load
from payroll_exchange.pki import cert_fingerprint
from tests.fixtures.pki import PKI_NOW
from tests.ledger.factories import (
    agreement_make,
    batch_make,
    company_make,
    funded_batch_make,
    settlement_account_make,
)

PAY_DATE = date(2026, 12, 1)
NEXT_DAY = date(2026, 12, 2)
D = Decimal

ROWS = [
    ("6222000000000001", "张三", D("5000.00")),
    ("6222000000000002", "李四", D("6000.50")),
    ("6222000000009999", "周八", D("3000.00")),  # AC01
    ("6222000000000003", "王五", D("2000.00")),  # AC04
]


@pytest.fixture
def paid_and_failed(db, business_clock, private_files, bank_signer, enterprise_a, enterprise_b):
    """Company A's batch paid (2 of 4 rows), company B's batch failed (its account cannot cover it)."""
    accounts = [("6222000000000001", "张三", AccountStatus.NORMAL), ("6222000000000002", "李四", AccountStatus.NORMAL),
                ("6222000000000003", "王五", AccountStatus.CLOSED)]
    paid = funded_batch_make(identity=enterprise_a, rows=ROWS, accounts=accounts, balance=D("20000.00"),
                             pay_date=PAY_DATE, fee_per_payment=D("3.00"), batch_no="202612A").batch
    b = agreement_make(company=company_make(name="北京样例贸易有限公司"), identity=enterprise_b,
                       number="DF2026000002")
    settlement_account_make(agreement=b, balance=D("100.00"))
    failed = batch_make(agreement=b, rows=ROWS[:2], pay_date=PAY_DATE, batch_no="202612B")
    result = payday_run(today=PAY_DATE)
    assert (result.paid, result.failed) == ([paid.pk], [failed.pk])
    return paid, failed


def _open(data: bytes, identity, bank_identity, trust):
    return envelope_open(data=data, recipient=identity, trust=trust, now=PKI_NOW, expected_kind="return",
                         expected_signer=cert_fingerprint(bank_identity.cert))


def test_the_enterprise_decrypts_its_return_file_to_the_right_totals(
    paid_and_failed, enterprise_a, bank_identity, client_trust, private_files
) -> None:
    paid, _failed = paid_and_failed
    assert return_files_run(today=NEXT_DAY) == 2

    paid.refresh_from_db()
    assert paid.status == BatchStatus.RETURNED
    record = ReturnFile.objects.get(batch=paid)
    sealed = return_file_read(return_file=record)
    assert (private_files / "returns" / record.stored_name).exists()
    assert (record.size, record.digest) == (len(sealed), file_digest(sealed))

    opened = _open(sealed, enterprise_a, bank_identity, client_trust)
    assert opened.signer == bank_identity.cert
    assert opened.file_id == record.file_id
    assert file_digest(opened.payload) == record.plain_digest
    content, errors = return_load(opened.payload)
    assert errors == []
    h = content.header
    assert (h.agreement_no, h.batch_no, h.pay_date) == ("DF2026000001", "202612A", PAY_DATE)
    assert (h.success_count, h.success_amount) == (2, D("11000.50"))
    assert (h.failure_count, h.failure_amount) == (2, D("5000.00"))
    assert h.fee_charged == D("6.00")
    # format version 2: the digest of the payroll file it answers (the checklist's and the kiosk's)
    assert (h.format_version, record.format_version) == ("2", "2")
    assert h.payroll_digest == paid.digest
    assert len(paid.digest) == 64
    assert [(r.seq, r.account, r.amount, r.result_code, r.message) for r in content.rows] == [
        (1, "6222000000000001", D("5000.00"), "0000", "成功"),
        (2, "6222000000000002", D("6000.50"), "0000", "成功"),
        (3, "6222000000009999", D("3000.00"), "AC01", "账户不存在"),
        (4, "6222000000000003", D("2000.00"), "AC04", "账户已销户"),
    ]
    assert (record.record_count, record.success_count, record.success_amount, record.failure_count,
            record.failure_amount, record.fee_charged) == (4, 2, D("11000.50"), 2, D("5000.00"), D("6.00"))
    assert AuditEvent.objects.filter(action="return_file_made", object_id=str(paid.pk)).count() == 1


def test_a_failed_batch_returns_every_row_with_the_reason(
    paid_and_failed, enterprise_b, bank_identity, client_trust
) -> None:
    _paid, failed = paid_and_failed
    return_files_run(today=NEXT_DAY)
    failed.refresh_from_db()
    assert failed.status == BatchStatus.RETURNED
    content, _errors = return_load(_open(return_file_read(return_file=failed.return_file), enterprise_b,
                                         bank_identity, client_trust).payload)
    assert (content.header.success_count, content.header.success_amount) == (0, D("0.00"))
    assert (content.header.failure_count, content.header.failure_amount) == (2, D("11000.50"))
    assert content.header.fee_charged == D("0.00")
    assert {r.result_code for r in content.rows} == {"AM04"}


def test_only_the_bound_enterprise_can_open_it(paid_and_failed, enterprise_b, bank_identity, client_trust) -> None:
    paid, _failed = paid_and_failed
    return_files_run(today=NEXT_DAY)
    with pytest.raises(ExchangeError):
        _open(return_file_read(return_file=ReturnFile.objects.get(batch=paid)), enterprise_b, bank_identity,
              client_trust)


def test_no_return_file_on_the_pay_date_itself(paid_and_failed, private_files) -> None:
    paid, failed = paid_and_failed
    assert return_files_run(today=PAY_DATE) == 0
    assert not ReturnFile.objects.exists()
    assert set(type(paid).objects.filter(pk__in=[paid.pk, failed.pk]).values_list("status", flat=True)) == {
        BatchStatus.PAID, BatchStatus.FAILED}
    assert not (private_files / "returns").exists() or not any((private_files / "returns").iterdir())


def test_the_job_run_twice_makes_one_file_per_batch(paid_and_failed, private_files) -> None:
    assert return_files_run(today=NEXT_DAY) == 2
    first = list(ReturnFile.objects.order_by("id").values_list("id", "digest"))
    assert return_files_run(today=NEXT_DAY) == 0
    assert return_files_run(today=date(2026, 12, 3)) == 0
    assert list(ReturnFile.objects.order_by("id").values_list("id", "digest")) == first
    assert len(list((private_files / "returns").iterdir())) == 2


def test_one_broken_batch_does_not_hold_up_the_others(paid_and_failed) -> None:
    paid, failed = paid_and_failed
    Certificate.objects.filter(pk=failed.agreement.certificate_id).update(pem="not a certificate")
    assert return_files_run(today=NEXT_DAY) == 1
    failed.refresh_from_db()
    assert failed.status == BatchStatus.FAILED  # tried again tomorrow
    assert not ReturnFile.objects.filter(batch=failed).exists()
    assert ReturnFile.objects.filter(batch=paid).exists()


def test_kiosk_lists_only_the_companys_files_from_the_day_after(paid_and_failed, business_clock) -> None:
    paid, failed = paid_and_failed
    return_files_run(today=NEXT_DAY)
    company_a, company_b = paid.company, failed.company

    business_clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=BUSINESS_TZ))
    assert list(return_files_for_company(company=company_a)) == []
    with pytest.raises(ReturnFile.DoesNotExist):
        return_file_get(company=company_a, batch_pk=paid.pk)

    business_clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=BUSINESS_TZ))
    assert [f.batch_id for f in return_files_for_company(company=company_a)] == [paid.pk]
    assert [f.batch_id for f in return_files_for_company(company=company_b)] == [failed.pk]
    assert return_file_get(company=company_a, batch_pk=paid.pk).batch_id == paid.pk
    with pytest.raises(ReturnFile.DoesNotExist):
        return_file_get(company=company_b, batch_pk=paid.pk)  # another company's file: not found


def test_the_task_uses_the_business_day(paid_and_failed, business_clock) -> None:
    business_clock.set(datetime(2026, 12, 2, 2, 30, tzinfo=BUSINESS_TZ))
    assert return_files_run_task.apply().get() == 2
    assert ReturnFile.objects.filter(business_date=NEXT_DAY).count() == 2


def test_a_kiosk_download_is_audited_and_another_companys_card_gets_nothing(paid_and_failed) -> None:
    from apps.cards.services import card_actor, card_issue
    from apps.core.models import AuditEvent
    from apps.returns.selectors import return_file_read
    from apps.returns.services import return_file_download
    from tests.factories import unionpay_account

    paid, failed = paid_and_failed
    return_files_run(today=NEXT_DAY)
    return_file = ReturnFile.objects.get(batch=paid)
    ours = card_issue(company=paid.company, number=unionpay_account(700001), pin="246810")
    theirs = card_issue(company=failed.company, number=unionpay_account(700002), pin="246810")

    assert return_file_download(return_file=return_file, card=ours) == return_file_read(return_file=return_file)
    downloads = AuditEvent.objects.filter(action="return_file_download", object_id=str(return_file.pk))
    assert list(downloads.values_list("actor", "company_id")) == [(card_actor(ours), paid.company_id)]

    with pytest.raises(ReturnFile.DoesNotExist):
        return_file_download(return_file=return_file, card=theirs)
    assert downloads.count() == 1
