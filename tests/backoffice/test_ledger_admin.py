"""Bank staff freeze, unfreeze and close ledger accounts in admin; money itself is never edited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apps.core.models import AuditEvent
from apps.ledger.models import AccountKind, AccountStatus, LedgerAccount
from apps.ledger.services import LedgerError, ledger_account_open, ledger_account_status_set, ledger_deposit

pytestmark = pytest.mark.django_db
ACCOUNTS = "/admin/ledger/ledgeraccount/"


@pytest.fixture
def account(db):
    return ledger_account_open(number="6222020200000000017", holder_name="张伟", kind=AccountKind.EMPLOYEE)


@pytest.fixture
def ledger_clerk(django_user_model):
    user = django_user_model.objects.create_user("ledger-clerk", password="ledger-clerk-pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="ledger",
                                                         codename__in=["view_ledgeraccount", "change_ledgeraccount"]))
    return user


@pytest.fixture
def viewer(django_user_model):
    user = django_user_model.objects.create_user("ledger-viewer", password="ledger-viewer-pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="ledger", codename="view_ledgeraccount"))
    return user


def act(user, action: str, account) -> Client:
    client = Client()
    client.force_login(user)
    return client.post(ACCOUNTS, {"action": action, "_selected_action": [account.pk]}, follow=True)


def test_staff_freeze_then_unfreeze_an_account_and_each_change_is_audited(business_clock, ledger_clerk, account):
    act(ledger_clerk, "account_freeze", account)
    assert LedgerAccount.objects.get(pk=account.pk).status == AccountStatus.FROZEN
    act(ledger_clerk, "account_unfreeze", account)
    assert LedgerAccount.objects.get(pk=account.pk).status == AccountStatus.NORMAL
    changes = list(AuditEvent.objects.filter(action="ledger_account_status", object_id=str(account.pk))
                   .order_by("id").values_list("actor", "detail"))
    assert changes == [("ledger-clerk", {"from": "normal", "to": "frozen"}),
                       ("ledger-clerk", {"from": "frozen", "to": "normal"})]


def test_an_account_with_money_cannot_be_closed(business_clock, ledger_clerk, account):
    ledger_deposit(account=account, amount=Decimal("12.50"))
    response = act(ledger_clerk, "account_close", account)
    assert "余额为零才能销户" in response.content.decode()
    account.refresh_from_db()
    assert (account.status, account.balance) == (AccountStatus.NORMAL, Decimal("12.50"))


def test_a_closed_account_stays_closed(business_clock, account):
    ledger_account_status_set(account=account, status=AccountStatus.CLOSED, actor="clerk")
    with pytest.raises(LedgerError) as refused:
        ledger_account_status_set(account=account, status=AccountStatus.NORMAL, actor="clerk")
    assert refused.value.code == "account_closed"
    assert LedgerAccount.objects.get(pk=account.pk).status == AccountStatus.CLOSED


def test_staff_who_may_only_view_cannot_change_a_status(business_clock, viewer, account):
    response = act(viewer, "account_freeze", account)
    assert response.status_code == 200
    assert LedgerAccount.objects.get(pk=account.pk).status == AccountStatus.NORMAL
    assert not AuditEvent.objects.filter(action="ledger_account_status").exists()
