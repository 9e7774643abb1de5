"""manage.py funding_report [--date YYYY-MM-DD]: the morning report of 资金不足预警, one line per pay
date and settlement account whose stored and held, unpaid batches up to that date exceed the balance."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandParser

from apps.ledger.funding import funding_shortfalls


class Command(BaseCommand):
    help = "Print every settlement account whose balance does not cover its unpaid batches (资金不足预警)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=date.fromisoformat, default=None,
                            help="only this pay date (YYYY-MM-DD; earlier batches still count); default: every date")

    def handle(self, *args, **options) -> None:
        day = options["date"]
        shortfalls = funding_shortfalls(pay_date=day)
        scope = day.isoformat() if day else "all pay dates"
        self.stdout.write(f"资金不足预警 funding report ({scope}): {len(shortfalls)} shortfall(s)")
        for f in shortfalls:
            self.stdout.write(
                f"{f.pay_date.isoformat()}  {f.settlement_account}  {f.holder_name}  "
                f"批次 batches {f.batch_count}  需 required {f.required:,.2f}  余额 balance {f.balance:,.2f}  "
                f"缺口 shortfall {f.shortfall:,.2f}")
        if not shortfalls:
            self.stdout.write(self.style.SUCCESS("无资金不足 no shortfall"))
