from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest

from apps.workdays.models import Holiday
from apps.workdays.services import NEXT_OPEN_SCAN_DAYS, ServiceHours, service_hours_status, workday_is
from payroll_exchange.clock import BUSINESS_TZ

OPEN_REASON_ZH = "服务时间为工作日 09:00—16:30。"
OPEN_REASON_EN = "Service hours: 09:00–16:30 on working days."
OUTSIDE_ZH = "现在不在服务时间内。服务时间为工作日 09:00—16:30。"
OUTSIDE_EN = "The kiosk is closed now. Service hours: 09:00–16:30 on working days."
WEEKEND_ZH = "今天是周末，自助平台暂停服务。"
WEEKEND_EN = "Today is a weekend day; the kiosk is closed."
NATIONAL_DAY_ZH = "今天是法定节假日（国庆节），自助平台暂停服务。"
NATIONAL_DAY_EN = "Today is a public holiday (National Day); the kiosk is closed."


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=BUSINESS_TZ)


def test_the_make_up_days_used_below_are_what_chinesecalendar_says():
    # Given the library's own answer, not a guess: Saturday 14 February 2026 (春节) and Sunday
    # 20 September 2026 (国庆节) are make-up working days; Thursday 1 October 2026 is a day off.
    assert date(2026, 2, 14).weekday() == 5
    assert chinese_calendar.get_holiday_detail(date(2026, 2, 14)) == (
        False,
        chinese_calendar.Holiday.spring_festival.value,
    )
    assert date(2026, 9, 20).weekday() == 6
    assert chinese_calendar.get_holiday_detail(date(2026, 9, 20)) == (
        False,
        chinese_calendar.Holiday.national_day.value,
    )
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 1)) == (True, chinese_calendar.Holiday.national_day.value)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 1), True),  # Tuesday, no row
        (date(2026, 12, 5), False),  # Saturday, no row
        (date(2026, 12, 6), False),  # Sunday, no row
        (date(2026, 10, 1), False),  # Thursday, 国庆节
        (date(2026, 2, 14), True),  # Saturday, 春节 make-up working day
        (date(2026, 9, 20), True),  # Sunday, 国庆节 make-up working day
        (date(2027, 10, 4), False),  # Monday, 国庆节 day in lieu, provisional
        (date(2027, 2, 6), False),  # Saturday, 春节: a weekend holiday needs no row
    ],
)
def test_workday_is_follows_the_table_then_the_week(seeded_calendar, day, expected):
    assert workday_is(day=day) is expected


@pytest.mark.django_db
def test_workday_is_without_rows_is_monday_to_friday():
    assert workday_is(day=date(2026, 10, 1)) is True
    assert workday_is(day=date(2026, 2, 14)) is False


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(
            shanghai(2026, 12, 1, 8, 59),
            ServiceHours(False, OUTSIDE_ZH, OUTSIDE_EN, next_open=shanghai(2026, 12, 1, 9, 0)),
            id="weekday-08:59",
        ),
        pytest.param(
            shanghai(2026, 12, 1, 9, 0),
            ServiceHours(True, OPEN_REASON_ZH, OPEN_REASON_EN, None, closes_at=shanghai(2026, 12, 1, 16, 30)),
            id="weekday-09:00",
        ),
        pytest.param(
            shanghai(2026, 12, 1, 16, 29, 59),
            ServiceHours(True, OPEN_REASON_ZH, OPEN_REASON_EN, None, closes_at=shanghai(2026, 12, 1, 16, 30)),
            id="weekday-16:29:59",
        ),
        pytest.param(
            shanghai(2026, 12, 1, 16, 30),
            ServiceHours(False, OUTSIDE_ZH, OUTSIDE_EN, next_open=shanghai(2026, 12, 2, 9, 0)),
            id="weekday-16:30",
        ),
        pytest.param(
            shanghai(2026, 12, 4, 18, 0),
            ServiceHours(False, OUTSIDE_ZH, OUTSIDE_EN, next_open=shanghai(2026, 12, 7, 9, 0)),
            id="friday-evening",
        ),
        pytest.param(
            shanghai(2026, 12, 5, 10, 0),
            ServiceHours(False, WEEKEND_ZH, WEEKEND_EN, next_open=shanghai(2026, 12, 7, 9, 0)),
            id="saturday",
        ),
        pytest.param(
            shanghai(2026, 12, 6, 10, 0),
            ServiceHours(False, WEEKEND_ZH, WEEKEND_EN, next_open=shanghai(2026, 12, 7, 9, 0)),
            id="sunday",
        ),
        pytest.param(
            # 国庆节 2026: 1–7 October off; the kiosk reopens on Thursday 8 October.
            shanghai(2026, 10, 1, 10, 0),
            ServiceHours(False, NATIONAL_DAY_ZH, NATIONAL_DAY_EN, next_open=shanghai(2026, 10, 8, 9, 0)),
            id="public-holiday-weekday",
        ),
        pytest.param(
            shanghai(2026, 2, 14, 10, 0),
            ServiceHours(
                True,
                "今天调休上班（春节），服务时间为 09:00—16:30。",
                "Today is a make-up working day (Spring Festival); service hours 09:00–16:30.",
                None,
                closes_at=shanghai(2026, 2, 14, 16, 30),
            ),
            id="make-up-saturday",
        ),
        pytest.param(
            shanghai(2026, 9, 20, 8, 0),
            ServiceHours(False, OUTSIDE_ZH, OUTSIDE_EN, next_open=shanghai(2026, 9, 20, 9, 0)),
            id="make-up-sunday-before-opening",
        ),
        pytest.param(
            # Computed 2027: 1 October (Friday) off, the weekend, 4–5 October in lieu; open on the 6th.
            shanghai(2027, 10, 1, 10, 0),
            ServiceHours(False, NATIONAL_DAY_ZH, NATIONAL_DAY_EN, next_open=shanghai(2027, 10, 6, 9, 0)),
            id="provisional-2027-holiday",
        ),
        pytest.param(
            shanghai(2027, 2, 5, 10, 0),
            ServiceHours(
                False,
                "今天是法定节假日（农历除夕），自助平台暂停服务。",
                "Today is a public holiday (Spring Festival Eve); the kiosk is closed.",
                next_open=shanghai(2027, 2, 11, 9, 0),
            ),
            id="provisional-2027-spring-festival-eve",
        ),
    ],
)
def test_service_hours_status(seeded_calendar, at, expected):
    assert service_hours_status(at=at) == expected


def test_service_hours_across_the_long_spring_festival_holiday(seeded_calendar):
    # 春节 2026: Sunday 15 February to Monday 23 February closed (weekdays 16–20 and 23 off).
    status = service_hours_status(at=shanghai(2026, 2, 15, 12, 0))

    assert status.open is False
    assert status.reason_zh == WEEKEND_ZH
    assert status.next_open == shanghai(2026, 2, 24, 9, 0)
    assert service_hours_status(at=shanghai(2026, 2, 23, 9, 30)).next_open == shanghai(2026, 2, 24, 9, 0)
    # Friday 13 February after closing: the make-up Saturday opens next.
    assert service_hours_status(at=shanghai(2026, 2, 13, 17, 0)).next_open == shanghai(2026, 2, 14, 9, 0)


def test_service_hours_converts_the_instant_to_shanghai(seeded_calendar):
    # 01:00 UTC is 09:00 in Shanghai; 08:30 UTC is 16:30.
    assert service_hours_status(at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC)).open is True
    assert service_hours_status(at=datetime(2026, 12, 1, 0, 59, tzinfo=UTC)).open is False
    assert service_hours_status(at=datetime(2026, 12, 1, 8, 30, tzinfo=UTC)).open is False
    # 20:00 UTC on Saturday 3 October 2026 is already Sunday 4 October in Shanghai, still the holiday.
    status = service_hours_status(at=datetime(2026, 10, 3, 20, 0, tzinfo=UTC))
    assert status.next_open == shanghai(2026, 10, 8, 9, 0)


@pytest.mark.django_db
def test_service_hours_follow_the_settings(settings):
    settings.KIOSK_OPEN_TIME = "08:30"
    settings.KIOSK_CLOSE_TIME = "17:00"

    assert service_hours_status(at=shanghai(2026, 12, 1, 8, 30)).open is True
    status = service_hours_status(at=shanghai(2026, 12, 1, 17, 0))
    assert status.open is False
    assert status.reason_zh == "现在不在服务时间内。服务时间为工作日 08:30—17:00。"
    assert status.next_open == shanghai(2026, 12, 2, 8, 30)


@pytest.mark.django_db
def test_no_next_open_within_sixty_days_when_every_day_is_off():
    # Given: every weekday from 1 December 2026 to the end of the 60-day scan is a day off.
    days = (date(2026, 12, 1) + timedelta(days=n) for n in range(NEXT_OPEN_SCAN_DAYS + 1))
    Holiday.objects.bulk_create(Holiday(date=day, kind=Holiday.Kind.OFF) for day in days if day.weekday() < 5)

    status = service_hours_status(at=shanghai(2026, 12, 1, 10, 0))

    assert status == ServiceHours(
        False, "今天是银行休息日，自助平台暂停服务。", "Today is a bank holiday; the kiosk is closed.", None
    )


def test_service_hours_refuses_a_naive_instant():
    with pytest.raises(ValueError, match="aware"):
        service_hours_status(at=datetime(2026, 12, 1, 10, 0))
