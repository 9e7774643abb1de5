from django.apps import AppConfig


class H2hConfig(AppConfig):
    name = "apps.h2h"
    verbose_name = "银企直连 Host-to-host"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.h2h import schema  # noqa: F401  (registers the mTLS security scheme)
