"""Counter work in the back office: staff open accounts, deposit and withdraw through a confirmation
page as balanced journal entries against the cash clearing account; above the threshold a second
staff member approves (never the one who asked). Every refusal leaves the ledger as it was."""

from __future__ import annotations

import re
import threading
import time
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db.models import Sum
from django.test import Client

from apps.core.models import AuditEvent
from apps.ledger.models import AccountKind, AccountStatus, JournalEntry, LedgerAccount, StaffPosting
from apps.ledger.services import ledger_account_open, ledger_account_status_set
from apps.ledger.staff import (
    CASH_CLEARING_NUMBER,
    StaffPostingRefused,
    staff_posting_approve,
    staff_posting_request,
)

pytestmark = pytest.mark.django_db

ACCOUNTS = "/admin/ledger/ledgeraccount/"
POSTINGS = "/admin/ledger/staffposting/"
EMPLOYEE_NUMBER = "6222020000000000174"  # a UnionPay number with a valid Luhn digit
TELLER_PERMS = ["view_ledgeraccount", "add_ledgeraccount", "view_staffposting", "add_staffposting"]
APPROVER_PERMS = [*TELLER_PERMS, "approve_staffposting"]


def staff(django_user_model, username: str, codenames: list[str]):
    user = django_user_model.objects.create_user(username, password=f"{username}-pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="ledger", codename__in=codenames))
    return user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def teller(django_user_model):
    return staff(django_user_model, "teller-qian", TELLER_PERMS)


@pytest.fixture
def approver(django_user_model):
    return staff(django_user_model, "approver-sun", APPROVER_PERMS)


@pytest.fixture
def other_approver(django_user_model):
    return staff(django_user_model, "approver-li", APPROVER_PERMS)


@pytest.fixture
def outsider(django_user_model):
    """Staff, logged in to admin, but without any ledger permission."""
    return staff(django_user_model, "staff-zhou", [])


@pytest.fixture
def account(db):
    return ledger_account_open(number=EMPLOYEE_NUMBER, holder_name="张伟", kind=AccountKind.EMPLOYEE)


def ledger_state() -> tuple:
    """Everything a refused call must leave as it was."""
    return (
        tuple(LedgerAccount.objects.order_by("number").values_list("number", "balance", "status")),
        JournalEntry.objects.count(),
        tuple(StaffPosting.objects.order_by("pk").values_list("pk", "status", "decided_by", "txn_id")),
        AuditEvent.objects.count(),
    )


def balance(account: LedgerAccount) -> Decimal:
    return LedgerAccount.objects.get(pk=account.pk).balance


def post_form(client: Client, *, number: str, direction: str, amount: str, memo: str = "", confirm: bool,
              token: str | None = None):
    """The posting form (confirm=False) or its confirmation page (confirm=True), each with the form
    page's one-time token (a fresh one unless given)."""
    data = {"account_number": number, "direction": direction, "amount": amount, "memo": memo,
            "request_token": token or uuid.uuid4().hex}
    if confirm:
        data["confirm"] = "yes"
    return client.post(f"{POSTINGS}add/", data)


# -- opening accounts --------------------------------------------------------------------------


def test_staff_open_an_employee_account_and_it_is_audited(business_clock, teller):
    client = logged_in(teller)
    response = client.post(f"{ACCOUNTS}add/", {"kind": "employee", "number": "６２２２０２００００００００００１７４",
                                               "holder_name": "张伟"})

    account = LedgerAccount.objects.get(number=EMPLOYEE_NUMBER)  # full-width digits normalised
    assert response.status_code == 302
    assert response["Location"] == f"{ACCOUNTS}{account.pk}/change/"
    assert (account.holder_name, account.kind, account.company_id, account.balance) == (
        "张伟", AccountKind.EMPLOYEE, None, Decimal("0.00"))
    event = AuditEvent.objects.get(action="ledger_account_open")
    assert (event.actor, event.object_id) == ("teller-qian", str(account.pk))


def test_a_settlement_account_is_opened_for_its_company(business_clock, teller, our_agent):
    client = logged_in(teller)
    before = ledger_state()
    refused = client.post(f"{ACCOUNTS}add/", {"kind": "settlement", "number": "310066001800077",
                                              "holder_name": "上海示例科技有限公司"})
    assert refused.status_code == 200
    assert "企业结算账户须选择所属企业" in refused.content.decode()
    assert ledger_state() == before

    client.post(f"{ACCOUNTS}add/", {"kind": "settlement", "number": "310066001800077",
                                    "holder_name": "上海示例科技有限公司", "company": our_agent.company.pk})

    account = LedgerAccount.objects.get(number="310066001800077")
    assert (account.kind, account.company_id) == (AccountKind.SETTLEMENT, our_agent.company.pk)


@pytest.mark.parametrize(("number", "message"), [
    ("6222020000000000175", "账号 6222020000000000175：6222020000000000175 是银联卡号（62 开头），但校验位不对"),
    ("12AB5678901", "账号 12AB5678901："),
    (EMPLOYEE_NUMBER, f"账号 {EMPLOYEE_NUMBER} 已存在"),
])
def test_a_bad_or_taken_account_number_is_refused_and_nothing_is_opened(business_clock, teller, account, number,
                                                                         message):
    before = ledger_state()
    response = logged_in(teller).post(f"{ACCOUNTS}add/", {"kind": "employee", "number": number,
                                                          "holder_name": "王芳"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ledger_state() == before


def test_staff_without_the_permission_cannot_open_accounts_or_post(business_clock, outsider, account):
    client = logged_in(outsider)
    before = ledger_state()
    assert client.get(f"{ACCOUNTS}add/").status_code == 403
    assert client.post(f"{ACCOUNTS}add/", {"kind": "employee", "number": "6222020000000000257",
                                           "holder_name": "李娜"}).status_code == 403
    assert client.get(f"{POSTINGS}add/").status_code == 403
    assert post_form(client, number=EMPLOYEE_NUMBER, direction="deposit", amount="100.00",
                     confirm=True).status_code == 403
    assert ledger_state() == before


# -- deposits and withdrawals -----------------------------------------------------------------


def test_a_deposit_shows_a_confirmation_page_then_posts_a_balanced_entry_against_cash_clearing(
    business_clock, teller, account
):
    client = logged_in(teller)
    before = ledger_state()

    confirm = post_form(client, number=EMPLOYEE_NUMBER, direction="deposit", amount="2500.00", memo="现金存入",
                        confirm=False)

    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "确认柜面存取" in page
    assert "张伟" in page
    assert "2500.00" in page
    assert 'name="confirm" value="yes"' in page
    assert ledger_state() == before  # the confirmation page writes nothing

    done = post_form(client, number=EMPLOYEE_NUMBER, direction="deposit", amount="2500.00", memo="现金存入",
                     confirm=True)

    posting = StaffPosting.objects.get()
    assert done.status_code == 302
    assert done["Location"] == f"{POSTINGS}{posting.pk}/change/"
    assert (posting.status, posting.requested_by, posting.amount) == (
        StaffPosting.Status.POSTED, "teller-qian", Decimal("2500.00"))
    legs = list(JournalEntry.objects.filter(txn_id=posting.txn_id).values_list("account__number", "side", "amount"))
    assert sorted(legs) == [(EMPLOYEE_NUMBER, "C", Decimal("2500.00")), (CASH_CLEARING_NUMBER, "D", Decimal("2500.00"))]
    assert balance(account) == Decimal("2500.00")
    assert LedgerAccount.objects.get(number=CASH_CLEARING_NUMBER).balance == Decimal("-2500.00")
    event = AuditEvent.objects.get(action="staff_posting_post")
    assert (event.actor, event.object_id, event.detail["amount"]) == ("teller-qian", str(posting.pk), "2500.00")
    assert logged_in(teller).get(f"{POSTINGS}{posting.pk}/change/").status_code == 200


def test_the_confirmation_posted_twice_books_once(business_clock, teller, account):
    client = logged_in(teller)
    form = client.get(f"{POSTINGS}add/?account={EMPLOYEE_NUMBER}").content.decode()
    token = re.search(r'name="request_token" value="([^"]+)"', form).group(1)
    assert f'value="{EMPLOYEE_NUMBER}"' in form  # the account page's 存入 / 支取 link fills it in
    confirm = post_form(client, number=EMPLOYEE_NUMBER, direction="deposit", amount="80.00", confirm=False,
                        token=token).content.decode()
    assert f'name="request_token" value="{token}"' in confirm  # carried through the confirmation page

    first = post_form(client, number=EMPLOYEE_NUMBER, direction="deposit", amount="80.00", confirm=True, token=token)
    second = post_form(client, number=EMPLOYEE_NUMBER, direction="deposit", amount="80.00", confirm=True, token=token)

    posting = StaffPosting.objects.get()
    assert first["Location"] == second["Location"] == f"{POSTINGS}{posting.pk}/change/"
    assert balance(account) == Decimal("80.00")
    assert JournalEntry.objects.count() == 2
    assert AuditEvent.objects.filter(action="staff_posting_post").count() == 1


def test_a_withdrawal_below_zero_is_refused_on_the_form_and_by_the_service(business_clock, teller, account):
    client = logged_in(teller)
    post_form(client, number=EMPLOYEE_NUMBER, direction="deposit", amount="300.00", confirm=True)
    before = ledger_state()

    for confirm in (False, True):
        refused = post_form(client, number=EMPLOYEE_NUMBER, direction="withdrawal", amount="300.01", confirm=confirm)
        assert refused.status_code == 200
        assert f"账户 {EMPLOYEE_NUMBER} 余额 300.00 元，不足支取 300.01 元" in refused.content.decode()
    with pytest.raises(StaffPostingRefused) as service_refused:
        staff_posting_request(account=account, direction="withdrawal", amount=Decimal("300.01"), memo="",
                              user=teller)
    assert service_refused.value.code == "balance_insufficient"
    assert ledger_state() == before

    post_form(client, number=EMPLOYEE_NUMBER, direction="withdrawal", amount="300.00", confirm=True)
    assert balance(account) == Decimal("0.00")


def test_no_withdrawal_from_a_frozen_account_and_no_posting_to_a_closed_one(business_clock, teller, account):
    client = logged_in(teller)
    post_form(client, number=EMPLOYEE_NUMBER, direction="deposit", amount="50.00", confirm=True)
    ledger_account_status_set(account=account, status=AccountStatus.FROZEN, actor="clerk")
    before = ledger_state()
    frozen = post_form(client, number=EMPLOYEE_NUMBER, direction="withdrawal", amount="10.00", confirm=True)
    assert "已冻结，不能支取" in frozen.content.decode()
    unknown = post_form(client, number="6222020000000000257", direction="deposit", amount="10.00", confirm=True)
    assert "账号 6222020000000000257 不存在" in unknown.content.decode()
    cash = post_form(client, number=CASH_CLEARING_NUMBER, direction="deposit", amount="10.00", confirm=True)
    assert "银行内部账户" in cash.content.decode()
    assert ledger_state() == before


# -- four eyes above the threshold -------------------------------------------------------------


def test_a_posting_above_the_threshold_waits_and_only_another_staff_member_approves_it(
    business_clock, approver, other_approver, teller, account
):
    requester = logged_in(approver)
    post_form(requester, number=EMPLOYEE_NUMBER, direction="deposit", amount="100000.01", confirm=True)
    posting = StaffPosting.objects.get()
    assert posting.status == StaffPosting.Status.PENDING
    assert JournalEntry.objects.count() == 0
    assert balance(account) == Decimal("0.00")
    before = ledger_state()

    # The one who asked cannot approve, nor can a teller without the approval permission.
    own = requester.post(POSTINGS, {"action": "approve_selected", "_selected_action": [posting.pk], "post": "yes"},
                         follow=True)
    assert any("由您本人经办，须由另一位员工复核" in str(m) for m in own.context["messages"])
    logged_in(teller).post(POSTINGS, {"action": "approve_selected", "_selected_action": [posting.pk],
                                      "post": "yes"})
    with pytest.raises(StaffPostingRefused) as not_permitted:
        staff_posting_approve(posting=posting, user=teller)
    assert not_permitted.value.code == "staff_not_permitted"
    assert ledger_state() == before

    checker = logged_in(other_approver)
    page = checker.post(POSTINGS, {"action": "approve_selected", "_selected_action": [posting.pk]})
    assert "复核柜面存取" in page.content.decode()  # a confirmation first
    assert ledger_state() == before
    checker.post(POSTINGS, {"action": "approve_selected", "_selected_action": [posting.pk], "post": "yes"})

    posting.refresh_from_db()
    assert (posting.status, posting.requested_by, posting.decided_by) == (
        StaffPosting.Status.POSTED, "approver-sun", "approver-li")
    assert balance(account) == Decimal("100000.01")
    assert JournalEntry.objects.filter(txn_id=posting.txn_id).count() == 2
    sums = {side: JournalEntry.objects.filter(side=side).aggregate(s=Sum("amount"))["s"] for side in "DC"}
    assert sums == {"D": Decimal("100000.01"), "C": Decimal("100000.01")}
    assert list(AuditEvent.objects.filter(action__startswith="staff_posting").order_by("id")
                .values_list("action", "actor")) == [("staff_posting_request", "approver-sun"),
                                                     ("staff_posting_approve", "approver-li")]
    again = checker.post(POSTINGS, {"action": "approve_selected", "_selected_action": [posting.pk], "post": "yes"},
                         follow=True)
    assert any("不能再复核" in str(m) for m in again.context["messages"])
    assert balance(account) == Decimal("100000.01")


def test_exactly_the_threshold_posts_at_once(business_clock, teller, account):
    post_form(logged_in(teller), number=EMPLOYEE_NUMBER, direction="deposit", amount="100000.00", confirm=True)
    assert StaffPosting.objects.get().status == StaffPosting.Status.POSTED
    assert balance(account) == Decimal("100000.00")


def test_the_threshold_is_a_setting(business_clock, teller, account, settings):
    settings.STAFF_POSTING_APPROVAL_THRESHOLD = "500.00"
    confirm = post_form(logged_in(teller), number=EMPLOYEE_NUMBER, direction="deposit", amount="500.01",
                        confirm=False)
    assert "金额超过 500.00 元" in confirm.content.decode()
    post_form(logged_in(teller), number=EMPLOYEE_NUMBER, direction="deposit", amount="500.01", confirm=True)
    assert StaffPosting.objects.get().status == StaffPosting.Status.PENDING
    assert balance(account) == Decimal("0.00")


def test_an_approved_withdrawal_is_checked_against_the_balance_at_approval(
    business_clock, teller, approver, other_approver, account, settings
):
    post_form(logged_in(teller), number=EMPLOYEE_NUMBER, direction="deposit", amount="1000.00", confirm=True)
    settings.STAFF_POSTING_APPROVAL_THRESHOLD = "500.00"
    post_form(logged_in(approver), number=EMPLOYEE_NUMBER, direction="withdrawal", amount="1000.00", confirm=True)
    post_form(logged_in(teller), number=EMPLOYEE_NUMBER, direction="withdrawal", amount="500.00", confirm=True)
    pending = StaffPosting.objects.get(status=StaffPosting.Status.PENDING)
    assert balance(account) == Decimal("500.00")
    before = ledger_state()

    with pytest.raises(StaffPostingRefused) as refused:
        staff_posting_approve(posting=pending, user=other_approver)

    assert refused.value.code == "balance_insufficient"
    assert ledger_state() == before


def test_a_pending_posting_is_rejected_with_a_reason_and_never_booked(
    business_clock, approver, other_approver, account
):
    post_form(logged_in(approver), number=EMPLOYEE_NUMBER, direction="deposit", amount="200000.00", confirm=True)
    posting = StaffPosting.objects.get()
    checker = logged_in(other_approver)
    before = ledger_state()
    checker.post(POSTINGS, {"action": "reject_selected", "_selected_action": [posting.pk], "post": "yes",
                            "reason": ""})
    assert ledger_state() == before

    checker.post(POSTINGS, {"action": "reject_selected", "_selected_action": [posting.pk], "post": "yes",
                            "reason": "客户未带身份证"})

    posting.refresh_from_db()
    assert (posting.status, posting.decided_by, posting.reject_reason, posting.txn_id) == (
        StaffPosting.Status.REJECTED, "approver-li", "客户未带身份证", None)
    assert JournalEntry.objects.count() == 0
    assert balance(account) == Decimal("0.00")


# -- a withdrawal racing another debit ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_that_waited_for_the_posting_lock_checks_the_balance_it_finds_then(business_clock,
                                                                                         django_user_model):
    from django.db import connection, transaction

    from apps.ledger.services import ledger_posting_lock

    teller = staff(django_user_model, "teller-qian", TELLER_PERMS)
    other = staff(django_user_model, "teller-wu", TELLER_PERMS)
    account = ledger_account_open(number=EMPLOYEE_NUMBER, holder_name="张伟", kind=AccountKind.EMPLOYEE)
    staff_posting_request(account=account, direction="deposit", amount=Decimal("1000.00"), memo="", user=teller)
    stale = LedgerAccount.objects.get(pk=account.pk)  # balance 1000.00, as the second teller's form saw it
    outcome: list[object] = []

    def second_teller() -> None:
        try:
            staff_posting_request(account=stale, direction="withdrawal", amount=Decimal("600.00"), memo="",
                                  user=other)
            outcome.append("posted")
        except StaffPostingRefused as exc:
            outcome.append(exc.code)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome.append(repr(exc))
        finally:
            connection.close()

    thread = threading.Thread(target=second_teller)
    with transaction.atomic():
        ledger_posting_lock()  # this teller posts first; the other waits on the lock
        thread.start()
        deadline = time.monotonic() + 20
        with connection.cursor() as cursor:
            while True:
                # pg_locks is read live (pg_stat_activity would be one snapshot for this transaction).
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                if cursor.fetchone()[0] >= 1:
                    break
                assert time.monotonic() < deadline, f"the second withdrawal never waited for the lock: {outcome}"
        staff_posting_request(account=stale, direction="withdrawal", amount=Decimal("600.00"), memo="", user=teller)
    thread.join(timeout=30)

    assert outcome == ["balance_insufficient"]
    assert balance(account) == Decimal("400.00")
    assert StaffPosting.objects.filter(direction="withdrawal").count() == 1
