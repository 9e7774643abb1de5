"""What reviewing staff read: the clerk's hold reason for the supervisor, the audit log in words with
links instead of codes, ad-hoc closures named 临时停业, and whose back office this is."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from apps.cards.services import card_actor
from apps.core.models import AuditEvent
from apps.core.services import audit_record
from apps.workdays.models import Holiday
from apps.workdays.services import holiday_is_statutory, holiday_seed
from tests.backoffice.conftest import BATCHES, client_for, stored_batch
from tests.conftest import DEFAULT_BUSINESS_NOW

pytestmark = pytest.mark.django_db

AUDIT = "/admin/core/auditevent/"
HOLIDAYS = "/admin/workdays/holiday/"


@pytest.fixture
def batch(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    return stored_batch(our_agent, bank, django_capture_on_commit_callbacks)


def hold(client: Client, batch, reason: str) -> None:
    client.post(BATCHES, {"action": "hold_selected", "_selected_action": [batch.pk], "post": "yes",
                          "reason": reason})


def test_the_supervisor_reads_the_clerks_hold_reason_on_the_list_and_the_batch_page(batch, clerk, supervisor):
    hold(client_for(clerk), batch, "收款人账户待核实")
    reviewer = client_for(supervisor)

    listing = reviewer.get(BATCHES).content.decode()
    page = reviewer.get(f"{BATCHES}{batch.pk}/change/").content.decode()

    for text in (listing, page):
        assert "暂停原因" in text
        assert "收款人账户待核实" in text
    reviewer.post(BATCHES, {"action": "release_selected", "_selected_action": [batch.pk]})
    assert "收款人账户待核实" not in reviewer.get(BATCHES).content.decode()  # released: no longer a hold


def test_a_hold_without_a_reason_says_so(batch, clerk, supervisor):
    hold(client_for(clerk), batch, "")
    assert "（未填写）" in client_for(supervisor).get(f"{BATCHES}{batch.pk}/change/").content.decode()


def test_the_audit_log_names_actions_and_links_objects_instead_of_codes(batch, clerk, superuser, our_agent):
    hold(client_for(clerk), batch, "核对金额")
    audit_record(actor_kind="card", actor=card_actor(our_agent.card), action="card_login", obj=our_agent.card,
                 company_id=our_agent.company.pk)
    staff = client_for(superuser)

    listing = staff.get(AUDIT, {"action": "payroll_hold"})
    page = listing.content.decode()

    assert [e.action for e in listing.context["cl"].result_list] == ["payroll_hold"]
    assert "代发批次已暂停" in page
    assert f'href="/admin/payroll/payrollbatch/{batch.pk}/change/"' in page
    assert "payroll_hold</td>" not in page
    assert f'href="/admin/agreements/company/{our_agent.company.pk}/change/"' in page
    cards = staff.get(AUDIT, {"action": "card_login"}).content.decode()
    assert "服务卡登录" in cards
    assert f'href="/admin/cards/servicecard/{our_agent.card.pk}/change/"' in cards
    assert f">card#{our_agent.card.pk}<" not in cards
    detail = staff.get(f"{AUDIT}{AuditEvent.objects.get(action='payroll_hold').pk}/change/").content.decode()
    assert "代发批次已暂停" in detail
    assert f'href="/admin/payroll/payrollbatch/{batch.pk}/change/"' in detail
    filters = staff.get(AUDIT).content.decode()
    assert "?action=payroll_hold" in filters  # the filter offers names
    assert "代发批次已暂停" in filters


def test_the_audit_log_and_its_names_in_english(batch, clerk, superuser):
    hold(client_for(clerk), batch, "check")
    staff = client_for(superuser)
    staff.post("/i18n/setlang/", {"language": "en", "next": AUDIT})
    page = staff.get(AUDIT, {"action": "payroll_hold"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Payroll batch held" in page
    assert "Payroll back office" in page


def test_the_site_header_names_the_payroll_back_office(superuser):
    page = client_for(superuser).get("/admin/").content.decode()
    assert "代发工资 后台" in page
    assert "Django" not in page.split("<body")[1].split("</header>")[0]


def test_an_ad_hoc_closure_is_named_temporary_closure_not_a_public_holiday(business_clock, superuser):
    holiday_seed(years=[2026])
    day = DEFAULT_BUSINESS_NOW.date()
    assert not Holiday.objects.filter(date=day).exists()  # Tuesday 1 December 2026: a working day
    staff = client_for(superuser)
    added = staff.post(f"{HOLIDAYS}add/", {"date": day.isoformat(), "kind": "off", "name": "台风停业"})
    assert added.status_code == 302

    kiosk = Client().get("/").content.decode()
    listing = staff.get(HOLIDAYS, {"year": "2026"}).content.decode()

    assert "今天临时停业（台风停业），自助平台暂停服务。" in kiosk
    assert "法定节假日" not in kiosk
    assert "临时停业" in listing
    assert "法定节假日" in listing  # the seeded days stay statutory


def test_a_confirmed_statutory_day_stays_a_public_holiday(business_clock, superuser):
    holiday_seed(years=[2026])
    national_day = Holiday.objects.get(date=date(2026, 10, 1))
    staff = client_for(superuser)
    staff.post(HOLIDAYS, {"action": "confirm_selected_days", "_selected_action": [national_day.pk]})
    national_day.refresh_from_db()
    assert national_day.source == Holiday.Source.STAFF
    assert holiday_is_statutory(national_day)


def test_staff_without_permission_see_no_audit_log_and_add_no_closure(business_clock, bank_staff):
    staff = client_for(bank_staff)
    assert staff.get(AUDIT).status_code == 403
    assert staff.post(f"{HOLIDAYS}add/", {"date": "2026-12-01", "kind": "off", "name": "台风停业"}).status_code == 403
    assert not Holiday.objects.exists()
    assert not AuditEvent.objects.exists()
