from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q

from apps.workdays.models import Holiday

# From October the next year's arrangement matters: pay dates and the kiosk's next opening reach
# into it, and the State Council usually publishes it in October or November.
NEXT_YEAR_FROM_MONTH = 10


@dataclass(frozen=True)
class YearToReview:
    year: int
    rows: int
    provisional: int


def holiday_years_near(*, today: date) -> list[int]:
    years = [today.year]
    if today.month >= NEXT_YEAR_FROM_MONTH:
        years.append(today.year + 1)
    return years


def holiday_years_to_review(*, today: date) -> list[YearToReview]:
    """Years near at hand whose calendar is missing or still has provisional (computed) days."""
    years = holiday_years_near(today=today)
    counts = {
        row["date__year"]: row
        for row in Holiday.objects.filter(date__year__in=years)
        .values("date__year")
        .annotate(rows=Count("pk"), provisional=Count("pk", filter=Q(provisional=True)))
    }
    review = []
    for year in years:
        row = counts.get(year, {"rows": 0, "provisional": 0})
        if row["rows"] == 0 or row["provisional"] > 0:
            review.append(YearToReview(year=year, rows=row["rows"], provisional=row["provisional"]))
    return review
