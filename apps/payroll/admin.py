"""Back office: payroll batches under review (hold, release, reject) and their rows, read-only.

A batch can hold 100,000 rows: the rows are a separate changelist reached by a link (an inline
would load every row into one page), counted by the estimating paginator, never edited.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import CharField, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin_pages import ReadOnlyAdmin, ReasonForm, staff_form_response
from apps.core.errors import ServiceError
from apps.core.models import AuditEvent
from apps.intake.admin import IntakeErrorAdminMixin
from apps.intake.errors import StateError
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.payroll.services.intake import pay_date_window_require
from apps.payroll.services.review import (
    HOLD_PERMISSION,
    RELEASE_PERMISSION,
    payroll_batch_hold,
    payroll_batch_reject,
    payroll_batch_release,
)
from apps.payroll.services.staff_confirm import payroll_batch_staff_confirm


def hold_reason_subquery() -> Subquery:
    """The reason of the batch's latest hold, one subquery per page (audit_object_idx serves it)."""
    holds = AuditEvent.objects.filter(action="payroll_hold", object_type="payroll.payrollbatch",
                                      object_id=Cast(OuterRef("pk"), CharField()))
    return Subquery(holds.order_by("-id").values(reason=KT("detail__reason"))[:1])


# The findings JSON can be large; the list never shows it.
HEAVY_FIELDS = ("errors", "new_employees")


def _retry_checks(batch: PayrollBatch) -> None:
    if batch.pay_date is not None:  # a batch that failed before its file was read has none yet
        pay_date_window_require(batch=batch)


@admin.register(PayrollBatch)
class PayrollBatchAdmin(IntakeErrorAdminMixin, ReadOnlyAdmin):
    intake_kind = "payroll"
    retry_checks = staticmethod(_retry_checks)
    list_display = ("id", "batch_no", "company", "agreement_number", "status", "pay_date", "record_count",
                    "total_amount", "expected_fee", "uploaded_at", "confirmed_how", "held_by", "hold_reason")
    list_display_links = ("id", "batch_no")
    list_filter = ("status", ("pay_date", admin.DateFieldListFilter), "company")
    search_fields = ("batch_no", "company__name")
    list_select_related = ("company", "agreement")
    raw_id_fields = ("company", "agreement", "card")
    ordering = ("-uploaded_at", "-id")
    list_per_page = 50
    actions = ("hold_selected", "release_selected", "reject_selected", "confirm_selected", "retry_selected")
    fieldsets = (
        (None, {"fields": ("company", "agreement", "card", "status", "rows_link", "correction_links")}),
        (_("文件"), {"fields": ("original_name", "size", "uploaded_at", "file_id", "digest", "batch_no", "pay_date",
                               "purpose")}),
        (_("金额"), {"fields": ("record_count", "total_amount", "expected_fee", "new_employee_count")}),
        # How 确认入库 was proven (issue 13); the 核对码's keyed hash is never shown.
        (_("确认入库"), {"fields": ("confirmed_how", "confirm_reason")}),
        (_("复核"), {"fields": ("held_by", "hold_reason", "rejected_reason")}),
        (_("发放结果"), {"fields": ("success_count", "success_amount", "failure_count", "failure_amount",
                                   "fee_charged", "failure_reason", "paid_at")}),
        (_("预校验"), {"classes": ("collapse",), "fields": ("rows_total", "rows_done", "error_count", "refusal_code",
                                                           "error_codes", "errors", "new_employees")}),
        (_("系统处理"), {"fields": ("attempts", "error_from", "system_error", "heartbeat_at", "files_deleted_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[PayrollBatch]:
        queryset = super().get_queryset(request)
        # The detail page reads them (one extra query each); the list never pays for them.
        url_name = getattr(request.resolver_match, "url_name", "") or ""
        queryset = queryset.annotate(hold_reason_text=hold_reason_subquery())
        return queryset.defer(*HEAVY_FIELDS) if url_name.endswith("changelist") else queryset

    @admin.display(description=_("暂停原因"))
    def hold_reason(self, obj: PayrollBatch) -> str:
        # The clerk's words from the hold's audit record, for the supervisor who releases or rejects.
        if obj.status != BatchStatus.HELD:
            return "-"
        return getattr(obj, "hold_reason_text", None) or gettext("（未填写）")

    @admin.display(description=_("协议"), ordering="agreement__number")
    def agreement_number(self, obj: PayrollBatch) -> str:
        return obj.agreement.number

    @admin.display(description=_("代发明细"))
    def rows_link(self, obj: PayrollBatch) -> str:
        # record_count, not a COUNT(*) over the rows table.
        url = reverse("admin:payroll_payrollrow_changelist")
        return format_html('<a href="{}?batch__id__exact={}">{}</a>', url, obj.pk,
                           gettext("查看 %(count)s 笔明细") % {"count": obj.record_count})

    @admin.display(description=_("更正"))
    def correction_links(self, obj: PayrollBatch) -> str:
        """更正 (issue 13): the original batch a correction pays again, and a batch's corrections."""
        links = []
        if obj.corrects_id:
            original = PayrollBatch.objects.only("batch_no").get(pk=obj.corrects_id)
            links.append(format_html('{} <a href="{}">{}</a>', gettext("更正原批次"),
                                     reverse("admin:payroll_payrollbatch_change", args=[original.pk]),
                                     original.batch_no))
        for c in PayrollBatch.objects.filter(corrects_id=obj.pk).only("batch_no", "status").order_by("id"):
            links.append(format_html('{} <a href="{}">{}</a>（{}）', gettext("更正文件"),
                                     reverse("admin:payroll_payrollbatch_change", args=[c.pk]), c.batch_no,
                                     c.get_status_display()))
        return format_html_join("\n", "<div>{}</div>", ((link,) for link in links)) if links else "-"

    # -- review actions: each a service call; the services check the roles again --------------

    def has_hold_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(HOLD_PERMISSION)

    def has_release_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RELEASE_PERMISSION)

    def _review(self, request: HttpRequest, queryset: QuerySet[PayrollBatch], *, call: Callable[[PayrollBatch], None],
                done: str) -> None:
        language = get_language() or "zh-hans"
        succeeded = 0
        for batch in queryset.select_related("company").defer(*HEAVY_FIELDS).order_by("pk"):
            try:
                call(batch)
            except StateError as exc:  # before ServiceError, of which it is one: named with its label
                self.message_user(
                    request,
                    gettext("批次 %(batch)s 当前状态为“%(status)s”，不能办理此操作。")
                    % {"batch": batch.batch_no or batch.pk, "status": BatchStatus(exc.actual).label if exc.actual
                       else "-"},
                    messages.ERROR,
                )
            except ServiceError as exc:
                self.message_user(request, f"{batch.batch_no or batch.pk}: {exc.message(language)}", messages.ERROR)
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, done % {"count": succeeded}, messages.SUCCESS)

    def _with_reason(self, request: HttpRequest, queryset: QuerySet[PayrollBatch], *, action: str, required: bool,
                     call, done: str, title: str, intro: str, submit_label: str) -> HttpResponse | None:
        """The reason page of hold, reject and staff confirmation; once answered, ``call(batch,
        reason)`` on each selected batch through ``_review``."""
        form = ReasonForm(request.POST if "post" in request.POST else None, required=required)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._review(request, queryset, call=lambda b: call(b, reason), done=done)
            return None
        return staff_form_response(
            request, model_admin=self, title=title, form=form, objects=queryset, intro=intro,
            submit_label=submit_label, action=action, cancel_url=reverse("admin:payroll_payrollbatch_changelist"),
        )

    @admin.action(description=_("暂停所选批次（代发复核员）"), permissions=["hold"])
    def hold_selected(self, request: HttpRequest, queryset: QuerySet[PayrollBatch]) -> HttpResponse | None:
        return self._with_reason(
            request, queryset, action="hold_selected", required=False,
            call=lambda b, reason: payroll_batch_hold(batch=b, user=request.user, reason=reason),
            done=gettext("已暂停 %(count)d 个批次。"), title=gettext("暂停代发批次"),
            intro=gettext("暂停后批次不会在发薪日发放，直至代发主管放行或拒绝。可填写暂停原因供主管参考。"),
            submit_label=gettext("暂停"))

    @admin.action(description=_("放行所选批次（代发主管）"), permissions=["release"])
    def release_selected(self, request: HttpRequest, queryset: QuerySet[PayrollBatch]) -> None:
        self._review(request, queryset, call=lambda b: payroll_batch_release(batch=b, user=request.user),
                     done=gettext("已放行 %(count)d 个批次，将在下一次发薪任务中发放。"))

    @admin.action(description=_("代企业确认入库（代发主管，须填写原因）"), permissions=["release"])
    def confirm_selected(self, request: HttpRequest, queryset: QuerySet[PayrollBatch]) -> HttpResponse | None:
        # The agent came without the stamped checklist: the supervisor confirms, with the reason, audited.
        return self._with_reason(
            request, queryset, action="confirm_selected", required=True,
            call=lambda b, reason: payroll_batch_staff_confirm(batch=b, user=request.user, reason=reason),
            done=gettext("已代企业确认入库 %(count)d 个批次，正在入库。"), title=gettext("代企业确认入库"),
            intro=gettext("企业经办人未带盖章的核对清单、无法在自助终端确认时使用。请先电话或当面核实笔数、金额和文件摘要，"
                          "并填写原因；原因记入审计日志并在批次上显示。"),
            submit_label=gettext("确认入库"))

    @admin.action(description=_("拒绝所选批次（代发主管，须填写原因）"), permissions=["release"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[PayrollBatch]) -> HttpResponse | None:
        return self._with_reason(
            request, queryset, action="reject_selected", required=True,
            call=lambda b, reason: payroll_batch_reject(batch=b, user=request.user, reason=reason),
            done=gettext("已拒绝 %(count)d 个批次。"), title=gettext("拒绝代发批次"),
            intro=gettext("拒绝后批次不再发放，企业在自助终端可看到拒绝原因。此操作不可撤回。"),
            submit_label=gettext("拒绝"))


@admin.register(PayrollRow)
class PayrollRowAdmin(ReadOnlyAdmin):
    list_display = ("batch_id_display", "seq", "account", "name", "amount", "id_type", "result_code",
                    "result_message")
    search_fields = ("account", "name")
    raw_id_fields = ("batch",)
    # No list_filter: a choice filter would run SELECT DISTINCT over every row of the table.
    ordering = ("batch", "seq")  # the (batch, seq) unique index serves it
    list_per_page = 100

    @admin.display(description=_("批次"), ordering="batch")
    def batch_id_display(self, obj: PayrollRow) -> str:
        # The batch's id, not str(batch): no join per row on a 100,000-row list.
        url = reverse("admin:payroll_payrollbatch_change", args=[obj.batch_id])
        return format_html('<a href="{}">#{}</a>', url, obj.batch_id)
