"""Bank working days and the kiosk's service hours (服务时间).

A day is a working day when the holiday table says so; without a row, Monday to Friday work and
weekends rest. The table is seeded from ``chinesecalendar`` (the State Council's published
arrangement, 国务院办公厅关于部分节假日安排的通知) and, for years it does not know yet, from the
statutory days the ``holidays`` package computes, marked provisional until staff confirm them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import chinese_calendar
import holidays as holidays_package
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Now

from apps.core.models import AuditEvent
from apps.core.services import audit_record
from apps.workdays.models import Holiday
from payroll_exchange.clock import BUSINESS_TZ

# How far service_hours_status looks for the next opening. The longest closure the calendar has
# seen is nine days (Spring Festival 2026); 60 days only guards against an empty or broken table.
NEXT_OPEN_SCAN_DAYS = 60

# chinesecalendar names holidays in English (get_holiday_detail returns the enum's value, a str);
# the table and the kiosk speak Chinese first.
_HOLIDAY_NAMES_ZH: dict[str, str] = {
    chinese_calendar.Holiday.new_years_day.value: "元旦",
    chinese_calendar.Holiday.spring_festival.value: "春节",
    chinese_calendar.Holiday.tomb_sweeping_day.value: "清明节",
    chinese_calendar.Holiday.labour_day.value: "劳动节",
    chinese_calendar.Holiday.dragon_boat_festival.value: "端午节",
    chinese_calendar.Holiday.national_day.value: "国庆节",
    chinese_calendar.Holiday.mid_autumn_festival.value: "中秋节",
    chinese_calendar.Holiday.anti_fascist_70th_day.value: "抗战胜利70周年纪念日",
}
# The English reason names the holiday too; a name staff typed that is not here is shown as typed.
_HOLIDAY_NAMES_EN: dict[str, str] = {
    "元旦": "New Year's Day",
    "农历除夕": "Spring Festival Eve",
    "春节": "Spring Festival",
    "清明节": "Tomb-sweeping Day",
    "劳动节": "Labour Day",
    "端午节": "Dragon Boat Festival",
    "中秋节": "Mid-autumn Festival",
    "国庆节": "National Day",
    "抗战胜利70周年纪念日": "Anti-Fascist War Victory 70th Anniversary",
}
# The holidays package marks a weekday given in lieu of a weekend holiday as "国庆节（补假）";
# chinesecalendar names such days plainly, so the table does too.
_IN_LIEU_SUFFIX = "（补假）"
_SEED_FIELDS = ("kind", "name", "provisional", "source")


@dataclass(frozen=True)
class ServiceHours:
    open: bool
    reason_zh: str
    reason_en: str
    # The next instant the kiosk opens (None while it is open, or if nothing opens within the scan).
    next_open: datetime | None
    # Today's closing instant while open, so the kiosk can warn before it closes.
    closes_at: datetime | None = None


def _setting_time(name: str, default: str) -> time:
    raw = getattr(settings, name, default)
    try:
        return time.fromisoformat(raw)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"{name} must be a time like {default!r}, not {raw!r}") from exc


def kiosk_hours() -> tuple[time, time]:
    opens = _setting_time("KIOSK_OPEN_TIME", "09:00")
    closes = _setting_time("KIOSK_CLOSE_TIME", "16:30")
    if opens >= closes:
        raise ImproperlyConfigured("KIOSK_OPEN_TIME must be earlier than KIOSK_CLOSE_TIME")
    return opens, closes


def _is_workday(day: date, kind: str | None) -> bool:
    if kind is not None:
        return kind == Holiday.Kind.WORKDAY
    return day.weekday() < 5


def workday_is(*, day: date) -> bool:
    kind = Holiday.objects.filter(date=day).values_list("kind", flat=True).first()
    return _is_workday(day, kind)


def holiday_is_statutory(holiday: Holiday) -> bool:
    """A day off the State Council's arrangement or the statutory rules name (法定节假日), as opposed
    to an ad-hoc closure staff entered (临时停业: a typhoon, a system change). A seeded row, or a row
    staff confirmed or edited that still carries a statutory holiday's name, is statutory."""
    if holiday.kind != Holiday.Kind.OFF:
        return False
    if holiday.source != Holiday.Source.STAFF:
        return True
    return holiday.name in _HOLIDAY_NAMES_EN


def service_hours_status(*, at: datetime) -> ServiceHours:
    """Whether the kiosk serves at ``at``: working days, from opening (inclusive) to closing (exclusive)."""
    if at.tzinfo is None:
        raise ValueError("service_hours_status needs an aware datetime")
    local = at.astimezone(BUSINESS_TZ)
    today = local.date()
    opens, closes = kiosk_hours()
    hours = f"{opens:%H:%M}—{closes:%H:%M}"
    hours_en = f"{opens:%H:%M}–{closes:%H:%M}"
    # One query for today and the whole scan window instead of one per day.
    rows = {
        row.date: row
        for row in Holiday.objects.filter(date__range=(today, today + timedelta(days=NEXT_OPEN_SCAN_DAYS)))
    }

    def opening(day: date) -> datetime:
        return datetime.combine(day, opens, tzinfo=BUSINESS_TZ)

    def next_open_after(day: date) -> datetime | None:
        for offset in range(1, NEXT_OPEN_SCAN_DAYS + 1):
            candidate = day + timedelta(days=offset)
            row = rows.get(candidate)
            if _is_workday(candidate, row.kind if row else None):
                return opening(candidate)
        return None

    row = rows.get(today)
    if not _is_workday(today, row.kind if row else None):
        if row is not None and holiday_is_statutory(row):
            name_en = _HOLIDAY_NAMES_EN.get(row.name, row.name)
            zh = f"今天是法定节假日（{row.name}），自助平台暂停服务。"
            en = f"Today is a public holiday ({name_en}); the kiosk is closed."
        elif row is not None and row.name:
            zh = f"今天临时停业（{row.name}），自助平台暂停服务。"
            en = f"The branch is closed today ({row.name}); the kiosk is closed."
        elif row is not None:
            zh, en = "今天是银行休息日，自助平台暂停服务。", "Today is a bank holiday; the kiosk is closed."
        else:
            zh, en = "今天是周末，自助平台暂停服务。", "Today is a weekend day; the kiosk is closed."
        return ServiceHours(open=False, reason_zh=zh, reason_en=en, next_open=next_open_after(today))

    open_at = opening(today)
    close_at = datetime.combine(today, closes, tzinfo=BUSINESS_TZ)
    if open_at <= local < close_at:
        if row is not None:
            name_en = _HOLIDAY_NAMES_EN.get(row.name, row.name)
            zh = f"今天调休上班（{row.name}），服务时间为 {hours}。" if row.name else f"服务时间为工作日 {hours}。"
            en = (
                f"Today is a make-up working day ({name_en}); service hours {hours_en}."
                if row.name
                else f"Service hours: {hours_en} on working days."
            )
        else:
            zh, en = f"服务时间为工作日 {hours}。", f"Service hours: {hours_en} on working days."
        return ServiceHours(open=True, reason_zh=zh, reason_en=en, next_open=None, closes_at=close_at)

    return ServiceHours(
        open=False,
        reason_zh=f"现在不在服务时间内。服务时间为工作日 {hours}。",
        reason_en=f"The kiosk is closed now. Service hours: {hours_en} on working days.",
        next_open=open_at if local < open_at else next_open_after(today),
    )


def _days_of(year: int) -> Iterable[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


def _from_chinesecalendar(year: int) -> list[Holiday] | None:
    """The State Council's arrangement for ``year``, or None if chinesecalendar does not know it."""
    rows: list[Holiday] = []
    try:
        for day in _days_of(year):
            on_holiday, holiday = chinese_calendar.get_holiday_detail(day)
            weekday = day.weekday() < 5
            if on_holiday == weekday:  # a weekday off, or a weekend working day
                rows.append(
                    Holiday(
                        date=day,
                        kind=Holiday.Kind.OFF if on_holiday else Holiday.Kind.WORKDAY,
                        name=_HOLIDAY_NAMES_ZH.get(holiday, holiday)[:64] if holiday else "",
                        provisional=False,
                        source=Holiday.Source.CHINESECALENDAR,
                    )
                )
    except NotImplementedError:
        return None
    return rows


def _from_holidays_package(year: int) -> list[Holiday]:
    """The statutory days (and the weekdays given in lieu) computed by rule: no make-up days known."""
    computed = holidays_package.country_holidays("CN", years=year, language="zh_CN")
    return [
        Holiday(
            date=day,
            kind=Holiday.Kind.OFF,
            name=name.removesuffix(_IN_LIEU_SUFFIX)[:64],
            provisional=True,
            source=Holiday.Source.HOLIDAYS,
        )
        for day, name in sorted(computed.items())
        if day.weekday() < 5
    ]


def holiday_seed(*, years: Iterable[int]) -> int:
    """Bring the table in line with the libraries for ``years``; returns the rows created, changed or removed.

    Rows staff edited (source=staff) are never touched. Rows the libraries no longer list (a
    provisional day that the published arrangement dropped) are removed. A rerun changes nothing.
    """
    years = sorted(set(years))
    desired: dict[date, Holiday] = {}
    for year in years:
        rows = _from_chinesecalendar(year)
        for row in rows if rows is not None else _from_holidays_package(year):
            desired[row.date] = row

    with transaction.atomic():
        # Lock the years' rows so an admin edit cannot slip in between this read and the writes.
        existing = {row.date: row for row in Holiday.objects.select_for_update().filter(date__year__in=years)}
        to_create = [row for day, row in desired.items() if day not in existing]
        to_update = [
            row
            for day, row in desired.items()
            if day in existing
            and existing[day].source != Holiday.Source.STAFF
            and any(getattr(existing[day], f) != getattr(row, f) for f in _SEED_FIELDS)
        ]
        stale = [day for day, row in existing.items() if day not in desired and row.source != Holiday.Source.STAFF]
        # ignore_conflicts: a row staff added meanwhile for the same date wins.
        Holiday.objects.bulk_create(to_create, ignore_conflicts=True)
        Holiday.objects.bulk_create(
            to_update,
            update_conflicts=True,
            unique_fields=["date"],
            update_fields=[*_SEED_FIELDS, "updated_at"],
        )
        Holiday.objects.filter(date__in=stale).exclude(source=Holiday.Source.STAFF).delete()
    return len(to_create) + len(to_update) + len(stale)


def holiday_confirm(*, days: QuerySet[Holiday], user: AbstractBaseUser) -> int:
    """Staff checked these days against the State Council's notice: they are no longer provisional."""
    with transaction.atomic():
        dates = sorted(days.select_for_update().values_list("date", flat=True))
        confirmed = Holiday.objects.filter(date__in=dates).update(
            provisional=False, source=Holiday.Source.STAFF, updated_at=Now()
        )
        audit_record(
            actor_kind=AuditEvent.ActorKind.STAFF,
            actor=user.get_username(),
            action="holiday.confirm",
            detail={"dates": [day.isoformat() for day in dates]},
        )
    return confirmed


def holiday_staff_save(*, holiday: Holiday, user: AbstractBaseUser) -> Holiday:
    """A row staff added or edited in admin: from now on the seed leaves it alone."""
    with transaction.atomic():
        holiday.source = Holiday.Source.STAFF
        holiday.save()
        audit_record(
            actor_kind=AuditEvent.ActorKind.STAFF,
            actor=user.get_username(),
            action="holiday.save",
            obj=holiday,
            detail={"date": holiday.date.isoformat(), "kind": holiday.kind, "provisional": holiday.provisional},
        )
    return holiday
