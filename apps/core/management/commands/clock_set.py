from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.core import clock
from payroll_exchange.clock import BUSINESS_TZ, ENV_VAR, clock_file, clock_write


class Command(BaseCommand):
    help = (
        "Move the pinned business clock of a demo or test (BUSINESS_CLOCK=file:...). "
        "Examples: clock_set 2026-12-02T03:00+08:00 · clock_set --days 1 --at 03:00"
    )

    def add_arguments(self, parser):
        parser.add_argument("instant", nargs="?", help="ISO 8601 instant with offset")
        parser.add_argument("--days", type=int, default=0, help="move forward this many days")
        parser.add_argument("--at", help="time of day HH:MM (Asia/Shanghai) after moving")

    def handle(self, *args, instant=None, days=0, at=None, **options):
        path = clock_file()
        if path is None or not settings.BUSINESS_CLOCK_ALLOWED:
            raise CommandError(f"{ENV_VAR} must name a clock file (file:/path) in demo or test settings")
        if instant:
            try:
                target = datetime.fromisoformat(instant)
            except ValueError as exc:
                raise CommandError(f"not an ISO 8601 instant: {instant}") from exc
            if target.tzinfo is None:
                target = target.replace(tzinfo=BUSINESS_TZ)
        else:
            target = clock.now() + timedelta(days=days)
        if at:
            try:
                hh, mm = (int(part) for part in at.split(":"))
                target = datetime.combine(target.astimezone(BUSINESS_TZ).date(), time(hh, mm), BUSINESS_TZ)
            except ValueError as exc:
                raise CommandError(f"--at takes HH:MM, not {at}") from exc
        clock_write(path, target)
        self.stdout.write(f"business clock: {clock.now().isoformat()}")
