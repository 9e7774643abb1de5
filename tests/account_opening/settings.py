"""The test settings with apps.account_opening installed, until config/settings adds it:
pytest --ds tests.account_opening.settings tests/account_opening"""

from config.settings.test import *  # noqa: F403

if "apps.account_opening" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS = [*INSTALLED_APPS, "apps.account_opening"]  # noqa: F405
