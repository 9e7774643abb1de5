"""manage.py reconcile [--date YYYY-MM-DD]: print every difference; exit 1 if there is one."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.ledger.reconciliation import reconciliation_run


class Command(BaseCommand):
    help = "Compare each batch's totals, its ledger postings and its return file (对账)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=date.fromisoformat, default=None,
                            help="only batches with this pay date (YYYY-MM-DD); default: every paid batch")

    def handle(self, *args, **options) -> None:
        differences = reconciliation_run(pay_date=options["date"])
        for difference in differences:
            self.stdout.write(str(difference))
        if differences:
            raise CommandError(f"{len(differences)} difference(s) found", returncode=1)
        self.stdout.write(self.style.SUCCESS("reconciled: no difference"))
