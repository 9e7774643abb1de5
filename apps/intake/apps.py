from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "apps.intake"
    label = "intake"
    verbose_name = _("文件受理")

    def ready(self) -> None:
        from apps.intake import signals  # noqa: F401 — connects the sweep on worker start
