from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountOpeningConfig(AppConfig):
    name = "apps.account_opening"
    label = "account_opening"
    verbose_name = _("批量开户")
