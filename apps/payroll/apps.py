from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PayrollConfig(AppConfig):
    name = "apps.payroll"
    label = "payroll"
    verbose_name = _("代发工资")

    def ready(self) -> None:
        from apps.intake.kinds import file_kind_register
        from apps.payroll.kind import PAYROLL_FILE_KIND
        from apps.payroll.pain001_kind import pain001_kind_register

        file_kind_register(PAYROLL_FILE_KIND)
        pain001_kind_register()
