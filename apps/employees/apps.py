from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmployeesConfig(AppConfig):
    name = "apps.employees"
    label = "employees"
    verbose_name = _("员工信息")

    def ready(self) -> None:
        from apps.employees.services import EMPLOYEE_FILE_KIND
        from apps.intake.kinds import file_kind_register

        file_kind_register(EMPLOYEE_FILE_KIND)
