from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from apps.workdays.models import Holiday
from apps.workdays.services import holiday_seed

OFF, WORKDAY = Holiday.Kind.OFF, Holiday.Kind.WORKDAY

# chinesecalendar 1.11, 2026: every weekday off and every weekend working day.
EXPECTED_2026 = [
    (date(2026, 1, 1), OFF, "元旦"),
    (date(2026, 1, 2), OFF, "元旦"),
    (date(2026, 1, 4), WORKDAY, "元旦"),
    (date(2026, 2, 14), WORKDAY, "春节"),
    (date(2026, 2, 16), OFF, "春节"),
    (date(2026, 2, 17), OFF, "春节"),
    (date(2026, 2, 18), OFF, "春节"),
    (date(2026, 2, 19), OFF, "春节"),
    (date(2026, 2, 20), OFF, "春节"),
    (date(2026, 2, 23), OFF, "春节"),
    (date(2026, 2, 28), WORKDAY, "春节"),
    (date(2026, 4, 6), OFF, "清明节"),
    (date(2026, 5, 1), OFF, "劳动节"),
    (date(2026, 5, 4), OFF, "劳动节"),
    (date(2026, 5, 5), OFF, "劳动节"),
    (date(2026, 5, 9), WORKDAY, "劳动节"),
    (date(2026, 6, 19), OFF, "端午节"),
    (date(2026, 9, 20), WORKDAY, "国庆节"),
    (date(2026, 9, 25), OFF, "中秋节"),
    (date(2026, 10, 1), OFF, "国庆节"),
    (date(2026, 10, 2), OFF, "国庆节"),
    (date(2026, 10, 5), OFF, "国庆节"),
    (date(2026, 10, 6), OFF, "国庆节"),
    (date(2026, 10, 7), OFF, "国庆节"),
    (date(2026, 10, 10), WORKDAY, "国庆节"),
]
# holidays 0.109, 2027: statutory days and days in lieu that fall on weekdays; no make-up days.
EXPECTED_2027 = [
    (date(2027, 1, 1), OFF, "元旦"),
    (date(2027, 2, 5), OFF, "农历除夕"),
    (date(2027, 2, 8), OFF, "春节"),
    (date(2027, 2, 9), OFF, "春节"),
    (date(2027, 2, 10), OFF, "春节"),
    (date(2027, 4, 5), OFF, "清明节"),
    (date(2027, 5, 3), OFF, "劳动节"),
    (date(2027, 5, 4), OFF, "劳动节"),
    (date(2027, 6, 9), OFF, "端午节"),
    (date(2027, 9, 15), OFF, "中秋节"),
    (date(2027, 10, 1), OFF, "国庆节"),
    (date(2027, 10, 4), OFF, "国庆节"),
    (date(2027, 10, 5), OFF, "国庆节"),
]


def table(year: int) -> list[tuple]:
    return list(
        Holiday.objects.filter(date__year=year)
        .order_by("date")
        .values_list("date", "kind", "name", "provisional", "source")
    )


def snapshot() -> list[tuple]:
    return list(
        Holiday.objects.order_by("date").values_list(
            "pk", "date", "kind", "name", "provisional", "source", "updated_at"
        )
    )


@pytest.mark.django_db
def test_seed_takes_known_years_from_chinesecalendar_and_later_years_from_holidays():
    changed = holiday_seed(years=[2026, 2027])

    assert changed == 25 + 13
    assert table(2026) == [(day, kind, name, False, "chinesecalendar") for day, kind, name in EXPECTED_2026]
    assert table(2027) == [(day, kind, name, True, "holidays") for day, kind, name in EXPECTED_2027]


@pytest.mark.django_db
def test_seed_twice_changes_nothing():
    holiday_seed(years=[2026, 2027])
    before = snapshot()

    assert holiday_seed(years=[2027, 2026]) == 0
    assert snapshot() == before


@pytest.mark.django_db
def test_seed_writes_in_bulk(django_assert_max_num_queries):
    # Three years, 61 rows (2025: 23, 2026: 25, 2027: 13): a handful of statements, not one per row.
    with django_assert_max_num_queries(6):
        assert holiday_seed(years=[2025, 2026, 2027]) == 61


@pytest.mark.django_db
def test_a_staff_edited_row_survives_a_reseed():
    holiday_seed(years=[2026, 2027])
    # Given: staff decided the bank works on 1 October 2026 and confirmed 4 October 2027 by hand.
    Holiday.objects.filter(date=date(2026, 10, 1)).update(kind=WORKDAY, name="国庆节值班", source="staff")
    Holiday.objects.filter(date=date(2027, 10, 4)).update(provisional=False, source="staff")
    before = snapshot()

    assert holiday_seed(years=[2026, 2027]) == 0
    assert snapshot() == before


@pytest.mark.django_db
def test_seed_repairs_library_rows_and_drops_days_the_library_no_longer_lists():
    holiday_seed(years=[2026])
    # Given: a library row altered outside the seed, and a provisional day left over from an
    # older computation that the published 2026 arrangement does not have.
    Holiday.objects.filter(date=date(2026, 10, 2)).update(name="错误名称")
    Holiday.objects.create(date=date(2026, 3, 2), kind=OFF, name="旧推算", provisional=True, source="holidays")
    Holiday.objects.create(date=date(2026, 3, 3), kind=OFF, name="本行休息", source="staff")

    assert holiday_seed(years=[2026]) == 2

    assert Holiday.objects.get(date=date(2026, 10, 2)).name == "国庆节"
    assert not Holiday.objects.filter(date=date(2026, 3, 2)).exists()
    assert Holiday.objects.get(date=date(2026, 3, 3)).name == "本行休息"


@pytest.mark.django_db
def test_seed_leaves_other_years_alone():
    Holiday.objects.create(date=date(2028, 3, 1), kind=OFF, name="旧推算", provisional=True, source="holidays")

    holiday_seed(years=[2026])

    assert Holiday.objects.filter(date=date(2028, 3, 1)).exists()


@pytest.mark.django_db
def test_command_seeds_the_years_given():
    out = StringIO()

    call_command("holidays_seed", "--years", "2027", "2026", stdout=out)

    assert out.getvalue().splitlines()[0] == "holidays_seed 2026 2027: 38 rows created, changed or removed"
    assert Holiday.objects.count() == 38


@pytest.mark.django_db
def test_command_defaults_to_this_business_year_and_the_next(business_clock):
    # The default business clock stands at Tuesday 1 December 2026: Q4, so 2027 is near at hand.
    out = StringIO()

    call_command("holidays_seed", stdout=out)

    assert out.getvalue().splitlines() == [
        "holidays_seed 2026 2027: 38 rows created, changed or removed",
        "2027: 13 provisional of 13 days, to confirm in admin",
    ]
    call_command("holidays_seed", stdout=out)
    assert out.getvalue().splitlines()[2] == "holidays_seed 2026 2027: 0 rows created, changed or removed"
