from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmployeesConfig(AppConfig):
    name = "apps.employees"
    label = "employees"
    verbose_name = _("员工信息")
