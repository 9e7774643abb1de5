"""批量开户 at the counter: the request opens exactly its valid rows' accounts, once; a file
signed by another company opens nothing; the result decrypts with the company's key."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from apps.account_opening import services
from apps.account_opening.models import AccountOpeningRequest, AccountOpeningRow
from apps.account_opening.services import ACCOUNT_BIN, account_opening_process
from apps.core.models import AuditEvent
from apps.ledger.models import AccountKind, LedgerAccount
from payroll_exchange import account_opening as ao
from payroll_exchange import pki
from payroll_exchange.checks import luhn_valid
from payroll_exchange.envelope import envelope_open, envelope_seal
from tests.conftest import DEFAULT_BUSINESS_NOW
from tests.factories import Party, resident_id, upload

NOW = DEFAULT_BUSINESS_NOW
S = AccountOpeningRequest.Status


def request_rows() -> list[ao.AccountOpeningRow]:
    return [
        ao.AccountOpeningRow(2, "0", resident_id(1), "张三", "13800138001", ""),
        ao.AccountOpeningRow(3, "0", resident_id(2), "李四", "13800138002", "新入职"),
        ao.AccountOpeningRow(4, "1", "E12345678", "王五", "13800138003", ""),
        ao.AccountOpeningRow(5, "0", resident_id(3), "赵六", "2380013800", ""),  # not a mobile number
        ao.AccountOpeningRow(6, "0", resident_id(1), "张三", "13800138001", ""),  # the person of row 2 again
    ]


def request_bytes(*, party: Party, bank: pki.Identity, signer: pki.Identity | None = None,
                  rows: list[ao.AccountOpeningRow] | None = None) -> bytes:
    rows = request_rows() if rows is None else rows
    header = ao.AccountOpeningHeader("1", party.agreement.number, party.agreement.payer_unit_no, len(rows))
    payload = ao.account_opening_dump(ao.AccountOpeningFile(header=header, rows=rows))
    return envelope_seal(payload=payload, kind=ao.ENVELOPE_KIND_REQUEST, signer=signer or party.identity,
                         recipient_cert=bank.cert)


def process(party: Party, data: bytes, user) -> AccountOpeningRequest:
    return account_opening_process(agreement=party.agreement, upload=upload(data, "开户.p7m"), user=user, now=NOW)


@pytest.mark.django_db
def test_opens_one_account_per_valid_row_with_luhn_numbers(our_agent, bank_staff, platform_keys):
    before = LedgerAccount.objects.count()

    done = process(our_agent, request_bytes(party=our_agent, bank=platform_keys["bank"]), bank_staff)

    assert (done.status, done.record_count, done.opened_count, done.refused_count) == (S.OPENED, 5, 3, 2)
    assert LedgerAccount.objects.count() == before + 3
    rows = list(AccountOpeningRow.objects.filter(request=done).select_related("account").order_by("seq"))
    assert [(r.seq, r.result_code) for r in rows] == [(2, "0000"), (3, "0000"), (4, "0000"), (5, "MB01"), (6, "DUPL")]
    opened = [r.account for r in rows if r.account is not None]
    assert [a.holder_name for a in opened] == ["张三", "李四", "王五"]
    assert all(a.kind == AccountKind.EMPLOYEE for a in opened)
    numbers = [a.number for a in opened]
    assert all(len(n) == 19 and n.startswith(ACCOUNT_BIN) and luhn_valid(n) for n in numbers)
    assert [int(n[6:18]) for n in numbers] == [1, 2, 3]  # sequential under the BIN
    assert done.staff == bank_staff
    audit = AuditEvent.objects.filter(object_type="account_opening.accountopeningrequest", object_id=str(done.pk))
    assert list(audit.order_by("id").values_list("action", "actor")) == [
        ("account_opening_received", "clerk01"), ("account_opening_opened", "clerk01")]


@pytest.mark.django_db
def test_the_same_file_twice_opens_nothing_twice(our_agent, bank_staff, platform_keys):
    data = request_bytes(party=our_agent, bank=platform_keys["bank"])
    first = process(our_agent, data, bank_staff)
    accounts, rows = LedgerAccount.objects.count(), AccountOpeningRow.objects.count()

    again = process(our_agent, data, bank_staff)
    resealed = process(our_agent, request_bytes(party=our_agent, bank=platform_keys["bank"]), bank_staff)

    assert first.status == S.OPENED
    for refused in (again, resealed):  # the same file; the same content sealed again (new file id)
        assert (refused.status, refused.refusal_code, refused.opened_count) == (S.REFUSED, "already_processed", 0)
        assert refused.result_stored_name == ""
    assert again.file_id == first.file_id
    assert LedgerAccount.objects.count() == accounts
    assert AccountOpeningRow.objects.count() == rows
    assert AuditEvent.objects.filter(action="account_opening_refused").count() == 2


@pytest.mark.django_db
def test_a_file_signed_by_another_company_opens_nothing(our_agent, other_agent, bank_staff, platform_keys):
    before = LedgerAccount.objects.count()
    data = request_bytes(party=our_agent, bank=platform_keys["bank"], signer=other_agent.identity)

    done = process(our_agent, data, bank_staff)

    assert (done.status, done.refusal_code) == (S.REFUSED, "envelope_signer_not_bound")
    assert done.errors[0]["zh"].startswith("文件签名证书不是该代发协议绑定的证书")
    assert LedgerAccount.objects.count() == before
    assert not AccountOpeningRow.objects.exists()


@pytest.mark.django_db
def test_a_file_of_another_agreement_or_with_a_wrong_count_opens_nothing(our_agent, other_agent, bank_staff,
                                                                         platform_keys):
    # other_agent's own, properly signed file, brought under our agreement: the signer is not bound.
    theirs = process(our_agent, request_bytes(party=other_agent, bank=platform_keys["bank"]), bank_staff)
    rows = request_rows()[:2]
    header = ao.AccountOpeningHeader("1", our_agent.agreement.number, our_agent.agreement.payer_unit_no, 3)
    miscounted = envelope_seal(payload=ao.account_opening_dump(ao.AccountOpeningFile(header=header, rows=rows)),
                               kind=ao.ENVELOPE_KIND_REQUEST, signer=our_agent.identity,
                               recipient_cert=platform_keys["bank"].cert)

    counted = process(our_agent, miscounted, bank_staff)

    assert theirs.refusal_code == "envelope_signer_not_bound"
    assert (counted.status, counted.refusal_code) == (S.REFUSED, "record_count_mismatch")
    assert not LedgerAccount.objects.filter(kind=AccountKind.EMPLOYEE).exists()


@pytest.mark.django_db
def test_the_result_decrypts_with_the_company_key_to_the_new_numbers(our_agent, bank_staff, platform_keys):
    done = process(our_agent, request_bytes(party=our_agent, bank=platform_keys["bank"]), bank_staff)

    data, filename = services.account_opening_result_download(request=done, user=bank_staff)

    client_trust = pki.TrustStore(roots=[platform_keys["root"].cert], crls=[])
    opened = envelope_open(data=data, recipient=our_agent.identity, trust=client_trust, now=NOW,
                           expected_kind=ao.ENVELOPE_KIND_RESULT,
                           expected_signer=pki.cert_fingerprint(platform_keys["bank"].cert))
    result, errors = ao.account_opening_result_load(opened.payload)
    assert errors == []
    assert ao.account_opening_result_check(result=result) == []
    assert filename == f"AOR_{our_agent.agreement.number}_{done.result_file_id}.p7m"
    assert (result.header.agreement_no, result.header.request_file_id) == (our_agent.agreement.number, done.file_id)
    assert (result.header.opened_count, result.header.refused_count) == (3, 2)
    expected = {r.seq: (r.result_code, r.account.number if r.account else "")
                for r in AccountOpeningRow.objects.filter(request=done).select_related("account")}
    assert {r.seq: (r.result_code, r.account) for r in result.rows} == expected
    assert opened.digest == done.result_digest
    assert AuditEvent.objects.filter(action="account_opening_result_download").count() == 1


@pytest.mark.django_db
def test_numbers_continue_after_the_highest_and_retry_on_a_collision(our_agent, bank_staff, platform_keys,
                                                                     monkeypatch):
    taken = ao.luhn_complete(f"{ACCOUNT_BIN}{41:012d}")
    LedgerAccount.objects.create(number=taken, holder_name="已有客户", kind=AccountKind.EMPLOYEE)
    real_next = services._next_serial
    serials = iter([41])  # first attempt: as if another writer took 41 between our read and our insert

    monkeypatch.setattr(services, "_next_serial", lambda: next(serials, None) or real_next())
    done = process(our_agent, request_bytes(party=our_agent, bank=platform_keys["bank"]), bank_staff)

    numbers = list(AccountOpeningRow.objects.filter(request=done, account__isnull=False)
                   .order_by("seq").values_list("account__number", flat=True))
    assert [int(n[6:18]) for n in numbers] == [42, 43, 44]


# -- the back office -------------------------------------------------------------------------

CHANGELIST = "/admin/account_opening/accountopeningrequest/"


@pytest.fixture
def counter_staff(bank_staff):
    bank_staff.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="account_opening",
        codename__in=["add_accountopeningrequest", "view_accountopeningrequest", "view_accountopeningrow"]))
    return bank_staff


@pytest.mark.django_db
def test_staff_upload_opens_and_the_result_downloads(client, counter_staff, our_agent, platform_keys):
    client.force_login(counter_staff)
    assert "受理批量开户" in client.get(CHANGELIST).content.decode()
    data = request_bytes(party=our_agent, bank=platform_keys["bank"])

    response = client.post(f"{CHANGELIST}upload/", {"agreement": our_agent.agreement.pk, "file": upload(data)},
                           follow=True)

    assert response.status_code == 200
    done = AccountOpeningRequest.objects.get()
    assert (done.status, done.opened_count, done.refused_count) == (S.OPENED, 3, 2)
    assert "已开户 3 人，未开户 2 人" in response.content.decode()
    download = client.get(f"{CHANGELIST}{done.pk}/result/")
    assert download.status_code == 200
    assert "no-store" in download["Cache-Control"]
    assert done.result_file_id in download["Content-Disposition"]
    opened = envelope_open(data=download.content, recipient=our_agent.identity,
                           trust=pki.TrustStore(roots=[platform_keys["root"].cert], crls=[]), now=NOW,
                           expected_kind=ao.ENVELOPE_KIND_RESULT)
    assert opened.file_id == done.result_file_id


@pytest.mark.django_db
def test_staff_upload_of_a_refused_file_says_why(client, counter_staff, our_agent, other_agent, platform_keys):
    client.force_login(counter_staff)
    data = request_bytes(party=our_agent, bank=platform_keys["bank"], signer=other_agent.identity)

    response = client.post(f"{CHANGELIST}upload/", {"agreement": our_agent.agreement.pk, "file": upload(data)},
                           follow=True)

    assert "文件已拒绝，未开立任何账户" in response.content.decode()
    assert AccountOpeningRequest.objects.get().status == S.REFUSED
    assert client.get(f"{CHANGELIST}{AccountOpeningRequest.objects.get().pk}/result/", follow=True).redirect_chain
    assert not LedgerAccount.objects.filter(kind=AccountKind.EMPLOYEE).exists()


@pytest.mark.django_db
def test_staff_without_the_permission_cannot_upload(client, bank_staff, our_agent, platform_keys):
    client.force_login(bank_staff)
    data = request_bytes(party=our_agent, bank=platform_keys["bank"])

    response = client.post(f"{CHANGELIST}upload/", {"agreement": our_agent.agreement.pk, "file": upload(data)})

    assert response.status_code == 403
    assert not AccountOpeningRequest.objects.exists()
