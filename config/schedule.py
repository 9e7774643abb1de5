"""Every scheduled job of the platform, in one place; config/settings/base.py sets
CELERY_BEAT_SCHEDULE from it. django-celery-beat copies the entries into its tables at start,
where staff may edit them.

No Django import here: the settings module imports this while settings are still being built.
"""

from __future__ import annotations

from celery.schedules import crontab


def beat_schedule(*, payday_interval_minutes: int, sweep_seconds: int) -> dict[str, dict]:
    if not 1 <= payday_interval_minutes <= 60 or 60 % payday_interval_minutes:
        # crontab minute steps restart each hour, so only divisors of 60 give an even interval.
        raise ValueError(f"PAYDAY_INTERVAL_MINUTES must divide 60, not {payday_interval_minutes}")
    return {
        # The intake sweeper: requeues files whose worker stopped (stale heartbeat) or whose task
        # never reached the broker; gives up after the attempts cap (docs/platform-contract.md).
        "intake-sweep": {
            "task": "apps.intake.tasks.intake_sweep",
            "schedule": sweep_seconds,
        },
        # A pay-day run whose worker died (its advisory lock is free, the run unfinished) is started
        # again at once, not at the next pay-day run (apps/ledger/payday_recovery.py).
        "ledger-payday-recover": {
            "task": "apps.ledger.tasks.payday_recover",
            "schedule": sweep_seconds,
        },
        # Refused uploads and their reports older than REFUSED_FILE_DAYS (the audit keeps the digest).
        "intake-retention": {
            "task": "apps.intake.tasks.intake_retention",
            "schedule": crontab(hour=3, minute=15),
        },
        # 银企直连: Idempotency-Keys older than their 24 h answer nothing; dropped nightly (apps/h2h).
        "h2h-idempotency-purge": {
            "task": "apps.h2h.tasks.idempotency_keys_purge",
            "schedule": crontab(hour=3, minute=45),
        },
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
