"""The back office's view of the pipeline: files in error counted on the admin index, and the
retry action shared by the payroll and employee file admins."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ServiceError
from apps.intake.kinds import file_kind
from apps.intake.staff import intake_error_counts, intake_error_retry

RETRY_PERMISSION = "payroll.release_payrollbatch"  # 代发主管: the supervisor decides a retry


class IntakeErrorAdminMixin:
    """For a file kind's admin: the reason kept for staff and the audited retry action."""

    intake_kind: str
    retry_checks: Callable | None = None

    @admin.display(description=_("系统错误"))
    def system_error_display(self, obj) -> str:
        return obj.system_error or "—"

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RETRY_PERMISSION)

    @admin.action(description=_("重试所选系统处理失败的文件（代发主管）"), permissions=["retry"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        kind = file_kind(self.intake_kind)
        language = get_language() or "zh-hans"
        retried = 0
        for pk in queryset.filter(status=kind.error_status).values_list("pk", flat=True):
            try:
                intake_error_retry(kind=kind, pk=pk, user=request.user, checks=type(self).retry_checks)
            except ServiceError as exc:
                self.message_user(request, f"#{pk}: {exc.message(language)}", messages.ERROR)
            else:
                retried += 1
        skipped = queryset.exclude(status=kind.error_status).count()
        if skipped:
            self.message_user(request, gettext("%(count)d 个文件不是“系统处理失败”状态，未重试。") % {"count": skipped},
                              messages.WARNING)
        if retried:
            self.message_user(request, gettext("已重试 %(count)d 个文件，系统正在重新处理。") % {"count": retried},
                              messages.SUCCESS)


_index = admin.site.index


def _index_with_intake_errors(request: HttpRequest, extra_context: dict | None = None):
    """The admin index names the files in error first: staff must resolve them."""
    errors = []
    for kind, count in intake_error_counts():
        if count:
            opts = kind.model._meta
            changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            url = f"{changelist}?status__exact={kind.error_status}"
            errors.append({"label": kind.label_zh if (get_language() or "").startswith("zh") else kind.label_en,
                           "count": count, "url": url})
    return _index(request, {"intake_errors": errors, **(extra_context or {})})


admin.site.index = _index_with_intake_errors
