"""Issue 13 at the kiosk: 变动提示 on the pre-validation result (against the ledger's last paid batch),
疑似重复发放 and its acknowledgement, and the settlement account's funding before pay day."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.test import Client

from apps.core.models import AuditEvent
from apps.ledger.models import LedgerAccount
from apps.ledger.services import ledger_deposit
from apps.ledger.staff import staff_posting_request
from apps.payroll.changes import payroll_batch_changes
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.payroll.services.intake import payroll_batch_prevalidate
from apps.payroll.services.storing import payroll_batch_store
from payroll_client.review import review_changes
from payroll_client.store import file_made_record, payroll_rows_record, store_open
from payroll_exchange.changes import mask_name
from payroll_exchange.clock import BUSINESS_TZ
from payroll_exchange.records import PayrollFile, PayrollHeader
from payroll_exchange.records import PayrollRow as FileRow
from tests.factories import payroll_file_bytes, resident_id, unionpay_account, upload
from tests.kiosk.conftest import checklist_typed

NOVEMBER = [  # (person, name, amount): last month's paid batch, real-looking names and amounts
    (1, "张伟", "8650.00"), (2, "王芳", "12300.50"), (3, "李娜", "7420.00"), (4, "刘洋", "9800.00"),
    (5, "陈静", "15000.00"),
]


def file_row(seq: int, person: int, name: str, amount: str, *, account: int | None = None,
             id_type: str = "0") -> FileRow:
    return FileRow(seq=seq, account=unionpay_account(account or person), name=name, amount=Decimal(amount),
                   id_type=id_type, id_number=resident_id(person, birth="19880512") if id_type == "0"
                   else f"E{person:08d}", remark="工资")


def november_rows() -> list[FileRow]:
    return [file_row(seq, person, name, amount) for seq, (person, name, amount) in enumerate(NOVEMBER, start=1)]


def december_rows() -> list[FileRow]:
    return [
        file_row(1, 1, "张伟", "8650.00"),
        file_row(2, 2, "王芳", "16500.00"),                 # +34.1 %
        file_row(3, 3, "李娜", "7420.00", account=703),     # same ID, another account
        file_row(4, 5, "陈静", "10400.00"),                 # −30.7 %
        file_row(5, 6, "杨磊", "6200.00"),                  # new this month; 刘洋 is gone
    ]


def paid_batch(party, rows: list[FileRow], *, batch_no: str = "GZ202611", pay_date: date = date(2026, 11, 5),
               status: str = BatchStatus.RETURNED) -> PayrollBatch:
    """Last month's batch as the ledger holds it after pay day: stored rows, 已回盘."""
    uploaded = datetime(2026, 11, 2, 10, 0, tzinfo=BUSINESS_TZ)
    total = sum((r.amount for r in rows), Decimal("0.00"))
    batch = PayrollBatch.objects.create(
        company=party.company, agreement=party.agreement, card=party.card, status=status, uploaded_at=uploaded,
        upload_date=uploaded.date(), original_name="11月工资.p7m", stored_name=f"paid-{batch_no}", size=1,
        file_id=f"F-{batch_no}", digest=f"{abs(hash(batch_no)):064d}"[:64], batch_no=batch_no, pay_date=pay_date,
        purpose="工资", record_count=len(rows), total_amount=total, expected_fee=Decimal("0.50") * len(rows),
        rows_total=len(rows), rows_done=len(rows), success_count=len(rows), success_amount=total,
        paid_at=datetime(2026, 11, 5, 0, 30, tzinfo=BUSINESS_TZ),
    )
    PayrollRow.objects.bulk_create([PayrollRow(batch=batch, seq=r.seq, account=r.account, name=r.name, amount=r.amount,
                                               id_type=r.id_type, id_number=r.id_number, result_code="0000")
                                    for r in rows])
    return batch


@pytest.fixture
def bank(platform_keys):
    return platform_keys["bank"]


def awaiting(client, party, bank, rows, *, batch_no: str = "GZ202612", pay_date: date = date(2026, 12, 5)):
    data = payroll_file_bytes(party=party, rows=rows, bank=bank, batch_no=batch_no, pay_date=pay_date)
    response = client.post("/payroll/upload/", {"agreement": party.agreement.pk, "upload": upload(data)})
    batch = PayrollBatch.objects.get(pk=int(response["Location"].strip("/").split("/")[-1]))
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION, batch.errors
    return batch


def client_changes(*, agreement, data_dir, december: list[FileRow]):
    """The enterprise client's review of ``december`` against what its store keeps of November: the
    file it made (GZ202611, november_rows) and the return file it decrypted for it."""
    conn = store_open(data_dir=data_dir)
    made = file_made_record(conn=conn, kind="payroll", agreement_no=agreement.number,
                            batch_no="GZ202611", pay_date="2026-11-05", record_count=5, total_amount="53170.50",
                            digest="d" * 64, operator="0001", path="PAY_GZ202611.p7m")
    payroll_rows_record(conn=conn, file_id=made, rows=november_rows())
    file_made_record(conn=conn, kind="return", agreement_no=agreement.number, batch_no="GZ202611",
                     pay_date="2026-11-05", record_count=5, total_amount="53170.50", digest="r" * 64,
                     operator="0001", path="RET_GZ202611.csv")
    header = PayrollHeader(format_version="1", agreement_no=agreement.number,
                           payer_unit_no=agreement.payer_unit_no, batch_no="GZ202612",
                           pay_date=date(2026, 12, 5), currency="CNY", record_count=len(december),
                           total_amount=sum((r.amount for r in december), Decimal("0.00")), purpose="工资")
    return review_changes(conn=conn, payroll=PayrollFile(header=header, rows=december))


def html(response) -> str:
    return response.content.decode()


def listed(page: str, kind: str) -> list[tuple[str, str, str]]:
    """(seq, masked name, masked account) of one kind's table rows."""
    table = re.search(rf'<table id="changes-{kind}".*?</table>', page, re.S)
    if table is None:
        return []
    return re.findall(r'<tr data-kind="\w+" data-seq="(\d+)"><td class="num">\d+</td><td>([^<]*)</td><td>([^<]*)</td>',
                      table.group(0))


def masked(account: str) -> str:
    return f"{account[:4]} **** **** {account[-4:]}"


def test_changes_against_the_last_paid_batch_masked(our_client, our_agent, bank):
    paid_batch(our_agent, november_rows(), batch_no="GZ202610", pay_date=date(2026, 10, 5))
    paid_batch(our_agent, november_rows())  # the latest paid one: GZ202611
    batch = awaiting(our_client, our_agent, bank, december_rows())
    page = html(our_client.get(f"/payroll/{batch.pk}/"))

    assert "变动提示" in page
    assert "与上次已发放批次 GZ202611 比较" in page
    assert listed(page, "added") == [("5", "杨*", masked(unionpay_account(6)))]
    assert listed(page, "removed") == [("4", "刘*", masked(unionpay_account(4)))]
    assert listed(page, "amount") == [("2", "王*", masked(unionpay_account(2))),
                                      ("4", "陈*", masked(unionpay_account(5)))]
    assert listed(page, "account") == [("3", "李*", masked(unionpay_account(703)))]
    assert listed(page, "id") == []
    assert "(+34.1%)" in page
    assert "(-30.7%)" in page
    # 53,170.50 → 49,170.00
    assert "本次 5 笔 49,170.00 元；上次 5 笔 53,170.50 元；总额变动 -7.5%" in page
    # Never a whole name or account in the comparison (the 新增员工 table above has its own rules).
    section = re.search(r'<section id="changes".*?</section>', page, re.S).group(0)
    for name in ("杨磊", "刘洋", "王芳", "陈静", "李娜"):
        assert name not in section
    assert unionpay_account(703) not in section
    assert "刘洋" not in page  # not paid now: only ever shown masked
    # It never blocks: 确认入库 is there, with no acknowledgement to tick.
    assert 'id="confirm-button"' in page
    assert "acknowledge_duplicate" not in page


def test_no_paid_batch_yet_shows_no_changes(our_client, our_agent, bank):
    failed = paid_batch(our_agent, november_rows(), status=BatchStatus.RETURNED)  # failed as a whole, returned
    PayrollBatch.objects.filter(pk=failed.pk).update(paid_at=None, success_count=0, success_amount=0)
    batch = awaiting(our_client, our_agent, bank, december_rows())
    page = html(our_client.get(f"/payroll/{batch.pk}/"))
    assert 'id="changes"' not in page


def test_same_account_under_another_id(our_client, our_agent, bank):
    paid_batch(our_agent, november_rows())
    rows = november_rows()
    rows[4] = file_row(5, 5, "陈静", "15000.00", id_type="1")  # now paid under her passport
    batch = awaiting(our_client, our_agent, bank, rows)
    page = html(our_client.get(f"/payroll/{batch.pk}/"))
    assert listed(page, "id") == [("5", "陈*", masked(unionpay_account(5)))]
    assert "E00**0005" in page  # the new ID, masked


def test_suspected_duplicate_needs_the_acknowledgement(our_client, our_agent, bank):
    paid_batch(our_agent, november_rows())
    batch = awaiting(our_client, our_agent, bank, november_rows(), batch_no="GZ202611B")
    page = html(our_client.get(f"/payroll/{batch.pk}/"))
    assert 'id="suspected-duplicate"' in page
    assert "疑似重复发放" in page
    assert 'name="acknowledge_duplicate" value="1"' in page
    checklist_typed(our_client, batch)
    audits = AuditEvent.objects.count()

    # Without the tick: refused, nothing changed.
    response = our_client.post(f"/payroll/{batch.pk}/confirm/", follow=True)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION
    assert AuditEvent.objects.count() == audits
    assert "请核实确需再次发放后，勾选“我已核实，确认再次发放”" in html(response)

    # With it: confirmed, and the audit says it was acknowledged.
    our_client.post(f"/payroll/{batch.pk}/confirm/", {"acknowledge_duplicate": "1"})
    batch.refresh_from_db()
    assert batch.status == BatchStatus.STORING
    event = AuditEvent.objects.get(action="payroll_confirm", object_id=str(batch.pk))
    assert event.detail["suspected_duplicate_acknowledged"] is True


def test_funding_shortfall_on_the_second_confirmation_and_a_deposit_clears_it(
        our_client, our_agent, bank, django_user_model):
    account = LedgerAccount.objects.get(number=our_agent.agreement.settlement_account)
    ledger_deposit(account=account, amount=Decimal("30000.00"), memo="期初存入")
    first_rows = [file_row(1, 11, "周杰", "8000.00"), file_row(2, 12, "吴婷", "8000.00")]
    first = awaiting(our_client, our_agent, bank, first_rows, batch_no="GZ202612A")
    page = html(our_client.get(f"/payroll/{first.pk}/"))
    assert 'id="funding-covered"' in page
    assert "16,001.00" in page  # 16,000 + 2 × 0.50
    checklist_typed(our_client, first)
    our_client.post(f"/payroll/{first.pk}/confirm/")
    payroll_batch_store(batch_id=first.pk)

    second_rows = [file_row(1, 13, "郑浩", "9000.00"), file_row(2, 14, "孙悦", "7000.00")]
    second = awaiting(our_client, our_agent, bank, second_rows, batch_no="GZ202612B")
    page = html(our_client.get(f"/payroll/{second.pk}/"))
    assert 'id="funding-shortfall"' in page
    assert "共需 32,002.00 元，尚缺 2,002.00 元" in page
    assert 'id="confirm-button"' in page  # a warning, not a refusal
    checklist_typed(our_client, second)
    our_client.post(f"/payroll/{second.pk}/confirm/")
    payroll_batch_store(batch_id=second.pk)
    second.refresh_from_db()
    assert second.status == BatchStatus.STORED
    assert "尚缺 2,002.00 元" in html(our_client.get(f"/payroll/{second.pk}/"))

    staff = django_user_model.objects.create_superuser("clerk09", password="clerk-password-9")
    admin = Client()
    admin.force_login(staff)
    listing = html(admin.get("/admin/ledger/ledgeraccount/funding/"))
    assert "310066001800001" in listing
    assert "2026-12-05" in listing
    assert "2,002.00" in listing

    staff_posting_request(account=account, direction="deposit", amount=Decimal("2500.00"), memo="补足代发资金",
                          user=staff)
    assert 'id="funding-covered"' in html(our_client.get(f"/payroll/{second.pk}/"))
    assert "310066001800001" not in html(admin.get("/admin/ledger/ledgeraccount/funding/"))


def test_kiosk_and_client_show_the_same_list_for_the_same_pair(our_client, our_agent, bank, tmp_path):
    """The kiosk compares with the ledger's paid batch, the client with the rows it kept of the file it
    made and the return file it decrypted: for the same pair of batches, item by item the same."""
    paid_batch(our_agent, november_rows())
    batch = awaiting(our_client, our_agent, bank, december_rows())
    kiosk = payroll_batch_changes(batch=batch)

    client = client_changes(agreement=our_agent.agreement, data_dir=tmp_path / "client", december=december_rows())

    assert kiosk is not None
    assert client is not None
    assert [g.count for g in kiosk.groups] == [1, 1, 2, 1, 0]
    for kiosk_group, client_group in zip(kiosk.groups, client.groups, strict=True):
        assert [i.as_dict() for i in kiosk_group.items] == [i.as_dict() for i in client_group.items]
    assert kiosk.as_dict() == client.as_dict()
    # And what the kiosk screen lists is that list, masked.
    page = html(our_client.get(f"/payroll/{batch.pk}/"))
    for group in client.groups:
        assert listed(page, group.kind) == [(str(i.seq), mask_name(i.name), masked(i.account)) for i in group.items]


def test_the_checks_in_english(our_client, our_agent, bank):
    paid_batch(our_agent, november_rows())
    batch = awaiting(our_client, our_agent, bank, december_rows())
    our_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = html(our_client.get(f"/payroll/{batch.pk}/"))
    assert "Changes since the last paid batch" in page
    assert "compared with the last paid batch GZ202611" in page
    assert "Now 5 rows, 49,170.00 yuan; last time 5 rows, 53,170.50 yuan; total changed by -7.5 %" in page
    assert "Paid now, not last time · 1 person" in page
    assert "Amount changed by more than 30 %" in page
    assert "Funding warning: settlement account 3100 **** **** 0001 holds 0.00 yuan" in page
