"""The admin index leads bank staff to 资金不足预警 (issue 13): the link is there for staff who may
see the ledger and absent for staff who may not (the page itself answers them 403)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from tests.backoffice.conftest import client_for

pytestmark = pytest.mark.django_db

FUNDING = "/admin/ledger/ledgeraccount/funding/"
LINK = f'<a href="{FUNDING}" id="funding-shortfalls-link">资金不足预警（按发薪日期和结算账户）</a>'


def staff_with(django_user_model, username: str, *codenames: str):
    user = django_user_model.objects.create_user(username, password=f"{username}-pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_staff_who_may_see_the_ledger_find_the_funding_page_on_the_index(django_user_model):
    client = client_for(staff_with(django_user_model, "ledger-chen", "view_ledgeraccount"))
    index = client.get("/admin/").content.decode()
    assert LINK in index
    assert client.get(FUNDING).status_code == 200  # the link leads somewhere they may go


def test_staff_without_the_ledger_permission_see_no_link(django_user_model):
    client = client_for(staff_with(django_user_model, "batch-liu", "view_payrollbatch"))
    index = client.get("/admin/").content.decode()
    assert "payrollbatch" in index  # the index itself is there, with what they may see
    assert FUNDING not in index
    assert 'id="daily-checks"' not in index
    assert client.get(FUNDING).status_code == 403


def test_the_link_in_english(django_user_model):
    client = client_for(staff_with(django_user_model, "ledger-en", "view_ledgeraccount"))
    index = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="funding-shortfalls-link">Funding shortfalls (by pay date and settlement account)</a>' in index
    assert "Daily checks" in index
