from __future__ import annotations

from datetime import date, datetime

import pytest
from django.contrib.messages import get_messages

from apps.core.models import AuditEvent
from apps.workdays.models import Holiday
from apps.workdays.services import holiday_seed
from payroll_exchange.clock import BUSINESS_TZ

CHANGELIST = "/admin/workdays/holiday/"
PROVISIONAL_2027 = "2027 年的节假日为推算值，请按国务院通知核对并确认"


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("clerk", "clerk@bank.example", "pw-for-tests")
    client.force_login(user)
    return client


def warnings_on(response) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]


@pytest.mark.django_db
def test_changelist_warns_while_next_year_is_provisional_in_q4(staff_client, business_clock):
    # Given: Tuesday 1 December 2026 (Q4); 2026 published, 2027 computed.
    holiday_seed(years=[2026, 2027])

    response = staff_client.get(CHANGELIST)

    assert response.status_code == 200
    assert warnings_on(response) == [PROVISIONAL_2027]
    assert PROVISIONAL_2027 in response.content.decode()
    assert response.context["cl"].result_count == 38


@pytest.mark.django_db
def test_changelist_warns_when_a_near_year_has_no_rows(staff_client, business_clock):
    holiday_seed(years=[2026])

    response = staff_client.get(CHANGELIST)

    assert warnings_on(response) == ["2027 年尚无节假日数据，请运行 holidays_seed 并按国务院通知核对并确认"]


@pytest.mark.django_db
def test_no_warning_before_q4_when_this_year_is_published(staff_client, business_clock):
    business_clock.set(datetime(2026, 9, 30, 10, 0, tzinfo=BUSINESS_TZ))
    holiday_seed(years=[2026, 2027])

    response = staff_client.get(CHANGELIST)

    assert warnings_on(response) == []


@pytest.mark.django_db
def test_year_and_provisional_filters_and_name_search(staff_client, business_clock):
    holiday_seed(years=[2026, 2027])

    assert staff_client.get(CHANGELIST, {"year": "2027"}).context["cl"].result_count == 13
    assert staff_client.get(CHANGELIST, {"provisional__exact": "1"}).context["cl"].result_count == 13
    assert staff_client.get(CHANGELIST, {"kind__exact": "workday"}).context["cl"].result_count == 6
    response = staff_client.get(CHANGELIST, {"q": "国庆节", "year": "2026"})
    assert [h.date for h in response.context["cl"].result_list] == [
        date(2026, 9, 20),
        date(2026, 10, 1),
        date(2026, 10, 2),
        date(2026, 10, 5),
        date(2026, 10, 6),
        date(2026, 10, 7),
        date(2026, 10, 10),
    ]


@pytest.mark.django_db
def test_confirm_action_confirms_the_selected_days_and_the_warning_goes(staff_client, business_clock):
    holiday_seed(years=[2026, 2027])
    selected = list(Holiday.objects.filter(date__year=2027).values_list("pk", flat=True))

    response = staff_client.post(
        CHANGELIST, {"action": "confirm_selected_days", "_selected_action": selected}, follow=True
    )

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["已确认 13 天。"]
    assert list(Holiday.objects.filter(date__year=2027).values_list("provisional", "source").order_by().distinct()) == [
        (False, "staff")
    ]
    event = AuditEvent.objects.get(action="holiday.confirm")
    assert event.actor_kind == "staff"
    assert event.actor == "clerk"
    assert event.detail["dates"][:2] == ["2027-01-01", "2027-02-05"]
    assert len(event.detail["dates"]) == 13
    # 2026 untouched.
    assert Holiday.objects.filter(date__year=2026, source="chinesecalendar").count() == 25
    assert warnings_on(staff_client.get(CHANGELIST)) == []
    # The confirmed days are staff rows now: a reseed keeps them.
    assert holiday_seed(years=[2027]) == 0


@pytest.mark.django_db
def test_confirming_part_of_a_year_keeps_the_warning(staff_client, business_clock):
    holiday_seed(years=[2026, 2027])
    first = Holiday.objects.get(date=date(2027, 1, 1))

    staff_client.post(CHANGELIST, {"action": "confirm_selected_days", "_selected_action": [first.pk]})

    first.refresh_from_db()
    assert (first.provisional, first.source) == (False, "staff")
    assert Holiday.objects.filter(date__year=2027, provisional=True).count() == 12
    assert warnings_on(staff_client.get(CHANGELIST)) == [PROVISIONAL_2027]


@pytest.mark.django_db
def test_editing_a_row_in_admin_makes_it_a_staff_row(staff_client, business_clock):
    holiday_seed(years=[2027])
    holiday = Holiday.objects.get(date=date(2027, 10, 5))

    # When: the State Council's notice makes Tuesday 5 October 2027 a working day after all.
    response = staff_client.post(
        f"{CHANGELIST}{holiday.pk}/change/",
        {"date": "2027-10-05", "kind": "workday", "name": "国庆节", "provisional": ""},
    )

    assert response.status_code == 302
    holiday.refresh_from_db()
    assert (holiday.kind, holiday.provisional, holiday.source) == ("workday", False, "staff")
    event = AuditEvent.objects.get(action="holiday.save")
    assert (event.actor, event.object_type, event.object_id) == ("clerk", "workdays.holiday", str(holiday.pk))
    assert holiday_seed(years=[2027]) == 0
    assert Holiday.objects.get(date=date(2027, 10, 5)).kind == "workday"


@pytest.mark.django_db
def test_adding_a_row_in_admin_makes_a_staff_row(staff_client, business_clock):
    response = staff_client.post(
        f"{CHANGELIST}add/", {"date": "2027-12-31", "kind": "off", "name": "年终决算", "provisional": ""}
    )

    assert response.status_code == 302
    assert list(Holiday.objects.values_list("date", "kind", "name", "provisional", "source")) == [
        (date(2027, 12, 31), "off", "年终决算", False, "staff")
    ]
