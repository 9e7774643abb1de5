from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core import clock
from apps.workdays.models import Holiday
from apps.workdays.selectors import holiday_years_to_review
from apps.workdays.services import holiday_confirm, holiday_is_statutory, holiday_staff_save

_WEEKDAYS = (_("星期一"), _("星期二"), _("星期三"), _("星期四"), _("星期五"), _("星期六"), _("星期日"))


class HolidayYearFilter(admin.SimpleListFilter):
    title = _("年份")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(str(day.year), str(day.year)) for day in Holiday.objects.dates("date", "year", order="DESC")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Holiday]) -> QuerySet[Holiday]:
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(date__year=int(value))


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "weekday", "day_type", "name", "provisional", "source", "updated_at")
    list_filter = ("kind", "provisional", HolidayYearFilter, "source")
    search_fields = ("name",)
    ordering = ("date",)
    fields = ("date", "kind", "name", "provisional", "source", "updated_at")
    readonly_fields = ("source", "updated_at")
    actions = ("confirm_selected_days",)
    list_per_page = 100

    @admin.display(description=_("类型"), ordering="kind")
    def day_type(self, obj: Holiday) -> str:
        # What the kiosk will say: a statutory holiday, an ad-hoc closure, or a make-up working day.
        if obj.kind == Holiday.Kind.WORKDAY:
            return str(Holiday.Kind.WORKDAY.label)
        return gettext("法定节假日") if holiday_is_statutory(obj) else gettext("临时停业")

    @admin.display(description=_("星期"), ordering="date")
    def weekday(self, obj: Holiday) -> str:
        return str(_WEEKDAYS[obj.date.weekday()])

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        # Only on GET: an action's POST redirects back here, and the warning would show twice.
        if request.method == "GET":
            for year in holiday_years_to_review(today=clock.today()):
                if year.rows == 0:
                    text = gettext("%(year)s 年尚无节假日数据，请运行 holidays_seed 并按国务院通知核对并确认")
                else:
                    text = gettext("%(year)s 年的节假日为推算值，请按国务院通知核对并确认")
                messages.warning(request, text % {"year": year.year})
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("确认所选日期（已按国务院通知核对）"), permissions=["change"])
    def confirm_selected_days(self, request: HttpRequest, queryset: QuerySet[Holiday]) -> None:
        confirmed = holiday_confirm(days=queryset, user=request.user)
        self.message_user(request, gettext("已确认 %(count)d 天。") % {"count": confirmed}, messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: Holiday, form, change: bool) -> None:
        holiday_staff_save(holiday=obj, user=request.user)
