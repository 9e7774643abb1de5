from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.core import clock
from apps.workdays.selectors import holiday_years_to_review
from apps.workdays.services import holiday_seed


class Command(BaseCommand):
    help = (
        "Seed the holiday calendar: chinesecalendar for the years it knows, the holidays package "
        "(provisional) for later years. Rows staff edited are kept; rerunning changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--years",
            nargs="+",
            type=int,
            metavar="YEAR",
            help="years to seed (default: the current business year and the next)",
        )

    def handle(self, *args, years: list[int] | None, **options) -> None:
        today = clock.today()
        years = sorted(set(years or [today.year, today.year + 1]))
        changed = holiday_seed(years=years)
        self.stdout.write(f"holidays_seed {' '.join(map(str, years))}: {changed} rows created, changed or removed")
        for year in holiday_years_to_review(today=today):
            self.stdout.write(f"{year.year}: {year.provisional} provisional of {year.rows} days, to confirm in admin")
