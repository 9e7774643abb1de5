"""The bank side's beat entries, for config/settings/base.py to merge into CELERY_BEAT_SCHEDULE.

No Django import here: the settings module imports this while settings are still being built.
django-celery-beat copies the entries into its tables at start, where staff may edit them.
"""

from __future__ import annotations

from celery.schedules import crontab

PAYDAY_INTERVAL_MINUTES_DEFAULT = 30


def bank_beat_schedule(*, payday_interval_minutes: int = PAYDAY_INTERVAL_MINUTES_DEFAULT) -> dict[str, dict]:
    if not 1 <= payday_interval_minutes <= 60 or 60 % payday_interval_minutes:
        # crontab minute steps restart each hour, so only divisors of 60 give an even interval.
        raise ValueError(f"PAYDAY_INTERVAL_MINUTES must divide 60, not {payday_interval_minutes}")
    return {
        # 发放: every stored batch whose pay date has come, on any calendar day.
        "ledger-payday": {
            "task": "apps.ledger.tasks.payday_run",
            "schedule": crontab(minute=f"*/{payday_interval_minutes}"),
        },
        # 回盘: early each morning (CELERY_TIMEZONE is Asia/Shanghai), after the last pay-day run of
        # the previous day; the job takes every paid or failed batch whose pay date is before today.
        "returns-files": {
            "task": "apps.returns.tasks.return_files_run",
            "schedule": crontab(hour=2, minute=30),
        },
    }


BANK_BEAT_SCHEDULE = bank_beat_schedule()
