from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.audit import ACTION_LABELS, action_label, actor_admin_link, object_admin_link
from apps.core.models import AuditEvent

# The staff see whose back office this is, in their language (locale/en: "Payroll back office").
admin.site.site_header = _("代发工资 后台")
admin.site.site_title = _("代发工资 后台")
admin.site.index_title = _("后台管理")


class AuditActionFilter(admin.SimpleListFilter):
    """The actions by name; the choices are the known table, not a DISTINCT over the whole log."""

    title = _("动作")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return sorted(((code, str(label)) for code, label in ACTION_LABELS.items()), key=lambda item: item[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        return queryset.filter(action=self.value()) if self.value() else queryset


def _linked(text: str, url: str | None) -> str:
    return format_html('<a href="{}">{}</a>', url, text) if url else text


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "business_at", "actor_kind", "actor_display", "action_display", "object_display",
                    "company_display")
    list_filter = ("actor_kind", AuditActionFilter)
    search_fields = ("actor", "object_id", "action")
    date_hierarchy = "at"
    fields = ("at", "business_at", "actor_kind", "actor_display", "action_display", "object_display",
              "company_display", "detail")
    readonly_fields = fields

    @admin.display(description=_("动作"), ordering="action")
    def action_display(self, obj: AuditEvent) -> str:
        return action_label(obj.action)

    @admin.display(description=_("操作者"), ordering="actor")
    def actor_display(self, obj: AuditEvent) -> str:
        return _linked(*actor_admin_link(obj.actor))

    @admin.display(description=_("对象"))
    def object_display(self, obj: AuditEvent) -> str:
        return _linked(*object_admin_link(obj.object_type, obj.object_id)) or "-"

    @admin.display(description=_("企业"))
    def company_display(self, obj: AuditEvent) -> str:
        if obj.company_id is None:
            return "-"
        return _linked(*object_admin_link("agreements.company", str(obj.company_id)))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
