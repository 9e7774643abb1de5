"""Back office: the employee registry and the employee info files, read-only.

The registry changes only through confirmed employee files and payroll storing (the agent's
确认入库); staff look, search and filter.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin_pages import ReadOnlyAdmin
from apps.employees.models import Employee, EmployeeFile, EmployeeFileRow
from apps.intake.admin import IntakeErrorAdminMixin


class CurrentFilter(admin.SimpleListFilter):
    title = _("登记状态")
    parameter_name = "current"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", _("在册")), ("no", _("已删除"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Employee]) -> QuerySet[Employee]:
        if self.value() == "yes":
            return queryset.filter(removed_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(removed_at__isnull=False)
        return queryset


@admin.register(Employee)
class EmployeeAdmin(ReadOnlyAdmin):
    list_display = ("name", "account", "id_type", "company", "added_at", "removed_at", "source")
    list_filter = ("company", CurrentFilter, "id_type")
    search_fields = ("name", "account")
    list_select_related = ("company",)
    raw_id_fields = ("company",)
    list_per_page = 100


@admin.register(EmployeeFile)
class EmployeeFileAdmin(IntakeErrorAdminMixin, ReadOnlyAdmin):
    intake_kind = "employees"
    actions = ("retry_selected",)
    list_display = ("original_name", "company", "operation", "status", "record_count", "error_count", "uploaded_at",
                    "system_error_display")
    list_filter = ("status", "operation", ("upload_date", admin.DateFieldListFilter), "company")
    search_fields = ("original_name", "company__name", "=file_id")
    list_select_related = ("company",)
    raw_id_fields = ("company", "agreement", "card")
    exclude = ("stored_name",)
    readonly_fields = ("rows_link",)
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[EmployeeFile]:
        url_name = getattr(request.resolver_match, "url_name", "") or ""
        queryset = super().get_queryset(request)
        return queryset.defer("errors") if url_name.endswith("changelist") else queryset

    @admin.display(description=_("明细"))
    def rows_link(self, obj: EmployeeFile) -> str:
        url = reverse("admin:employees_employeefilerow_changelist")
        return format_html('<a href="{}?file__id__exact={}">{}</a>', url, obj.pk,
                           gettext("查看 %(count)s 行明细") % {"count": obj.record_count})


@admin.register(EmployeeFileRow)
class EmployeeFileRowAdmin(ReadOnlyAdmin):
    list_display = ("file_id_display", "seq", "name", "account", "id_type", "id_number")
    search_fields = ("name", "account")
    raw_id_fields = ("file",)
    ordering = ("file", "seq")
    list_per_page = 100

    @admin.display(description=_("文件"), ordering="file")
    def file_id_display(self, obj: EmployeeFileRow) -> str:
        url = reverse("admin:employees_employeefile_change", args=[obj.file_id])
        return format_html('<a href="{}">#{}</a>', url, obj.file_id)
