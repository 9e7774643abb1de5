"""Service hours: working days 09:00–16:30 Shanghai on the business clock; nothing served outside."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.test import Client

from apps.cards.models import ServiceCard
from apps.core.models import AuditEvent
from apps.payroll.models import PayrollBatch
from apps.workdays.models import Holiday
from apps.workdays.services import holiday_seed
from payroll_exchange.clock import BUSINESS_TZ
from tests.factories import CARD_PIN
from tests.kiosk.conftest import login, track2


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BUSINESS_TZ)


def html(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("instant", [at(2026, 12, 1, 9, 0), at(2026, 12, 1, 12, 0), at(2026, 12, 1, 16, 29)])
def test_weekday_inside_hours_shows_the_login(business_clock, our_agent, instant):
    business_clock.set(instant)
    response = Client().get("/")
    assert "点击此处后请刷卡" in html(response)
    assert login(Client(), our_agent).status_code == 302


@pytest.mark.parametrize(
    ("instant", "next_open"),
    [
        (at(2026, 12, 1, 8, 59), "2026-12-01 09:00"),
        (at(2026, 12, 1, 16, 30), "2026-12-02 09:00"),
        (at(2026, 12, 4, 18, 0), "2026-12-07 09:00"),  # Friday evening → Monday
        (at(2026, 12, 5, 10, 0), "2026-12-07 09:00"),  # Saturday
    ],
)
def test_outside_hours_the_kiosk_says_so_and_when_it_opens(business_clock, our_agent, instant, next_open):
    business_clock.set(instant)
    page = html(Client().get("/"))
    assert "自助平台暂停服务" in page
    assert next_open in page
    assert "点击此处后请刷卡" not in page


def test_weekend_reason(business_clock, db):
    business_clock.set(at(2026, 12, 5, 10, 0))
    assert "今天是周末" in html(Client().get("/"))


def test_outside_hours_a_login_is_refused_and_changes_nothing(business_clock, our_agent):
    business_clock.set(at(2026, 12, 1, 17, 0))
    client = Client()
    response = client.post("/", {"card": track2(our_agent.card_number), "pin": "000000"})
    assert response.status_code == 403
    assert "自助平台暂停服务" in html(response)
    card = ServiceCard.objects.get(pk=our_agent.card.pk)
    assert (card.failed_attempts, card.last_login_at) == (0, None)
    assert not AuditEvent.objects.filter(action__startswith="card_login").exists()
    assert "kiosk_card_id" not in client.session


def test_a_public_holiday_on_a_weekday_is_closed(business_clock, our_agent):
    holiday_seed(years=[2026])
    day = Holiday.objects.filter(kind=Holiday.Kind.OFF, date__week_day__in=[2, 3, 4, 5, 6]).first()
    business_clock.set(at(day.date.year, day.date.month, day.date.day, 10, 0))
    page = html(Client().get("/"))
    assert "法定节假日" in page
    assert login(Client(), our_agent).status_code == 403


def test_a_make_up_working_day_on_a_weekend_is_open(business_clock, our_agent):
    holiday_seed(years=[2026])
    day = Holiday.objects.filter(kind=Holiday.Kind.WORKDAY).order_by("date").first()
    assert day.date.weekday() >= 5
    business_clock.set(at(day.date.year, day.date.month, day.date.day, 10, 0))
    assert "点击此处后请刷卡" in html(Client().get("/"))
    assert login(Client(), our_agent).status_code == 302


def test_closing_time_ends_a_session_and_refuses_pages_and_posts(business_clock, our_client, our_agent):
    business_clock.set(at(2026, 12, 1, 16, 31))
    home = our_client.get("/home/")
    assert "自助平台暂停服务" in html(home)
    business_clock.set(at(2026, 12, 1, 10, 0))
    assert our_client.get("/home/")["Location"] == "/"  # the session was ended at closing

    client = Client()
    login(client, our_agent)
    business_clock.set(at(2026, 12, 1, 16, 31))
    response = client.post("/payroll/upload/", {"agreement": our_agent.agreement.pk})
    assert response.status_code == 403
    assert PayrollBatch.objects.count() == 0


def test_the_status_endpoint_is_closed_too(business_clock, our_client):
    business_clock.set(at(2026, 12, 1, 16, 31))
    assert our_client.get("/api/batches/1/status/").status_code == 403


def test_english_reason(business_clock, db):
    business_clock.set(at(2026, 12, 5, 10, 0))
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "weekend" in html(client.get("/"))
    assert date(2026, 12, 5).weekday() == 5
    assert CARD_PIN
