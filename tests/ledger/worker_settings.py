"""Settings for the worker that the kill test starts: the test settings, plus a pause inside the
pay-day posting transaction (after the employee credits are inserted, before the commit) long
enough for the test to see the posting underway and kill the worker in the middle of it."""

import os

from config.settings.test import *  # noqa: F403

LEDGER_PAYDAY_TEST_PAUSE_SECONDS = float(os.environ.get("LEDGER_PAYDAY_TEST_PAUSE_SECONDS", "0"))
