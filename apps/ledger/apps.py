from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "apps.ledger"
    label = "ledger"
    verbose_name = _("核心账务")

    def ready(self) -> None:
        from apps.ledger import signals  # noqa: F401 — connects the pay-day recovery on worker start
