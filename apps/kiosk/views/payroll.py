"""提交代发工资, the result screen (入库中 → result → 确认入库 / 撤消), 查询工资文件, reports."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.core import clock
from apps.core.errors import ServiceError
from apps.intake.actors import actor_of
from apps.intake.reports import more_errors_text
from apps.kiosk.forms import UploadDateForm, UploadForm
from apps.kiosk.presenters import (
    BUSY_STATUSES,
    batch_kiosk_actions,
    batch_kiosk_actions_of,
    pay_date_passed_message,
    query_pages,
    refusal_message,
    revoked_message,
    system_error_message,
)
from apps.kiosk.session import kiosk_card_required
from apps.kiosk.views.common import kiosk_act, kiosk_download, kiosk_render, received_later_message
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.selectors import payroll_batch_get, payroll_batches_for_company
from apps.payroll.services import intake
from apps.payroll.services.checklist import checklist_required, no_code_message, payroll_checklist_check
from apps.payroll.services.intake import payroll_batch_submit
from apps.payroll.services.reports import payroll_report_download, payroll_report_text


def _batch(request: HttpRequest, pk: int) -> PayrollBatch:
    try:
        return payroll_batch_get(company=request.kiosk_card.company, pk=pk)
    except PayrollBatch.DoesNotExist as exc:
        # Another company's batch and a batch that never existed look the same.
        raise Http404 from exc


@kiosk_card_required
@require_http_methods(["GET", "POST"])
def payroll_upload_view(request: HttpRequest) -> HttpResponse:
    card = request.kiosk_card
    form = UploadForm(request.POST or None, request.FILES or None, company=card.company)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            batch = payroll_batch_submit(
                card=card, agreement=form.cleaned_data["agreement"], upload=form.cleaned_data["upload"]
            )
        except ServiceError as exc:  # refusals the agent can act on; anything else is a bug
            error = refusal_message(exc)
        else:
            if batch.queued is False:
                messages.info(request, received_later_message())
            return redirect("kiosk:payroll_batch", pk=batch.pk)
    return kiosk_render(request, "kiosk/payroll_upload.html", {"form": form, "error": error},
                        status=400 if request.method == "POST" else 200)


@kiosk_card_required
def payroll_batch_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    busy = batch.status in BUSY_STATUSES
    errors = [] if busy else (batch.errors or [])
    more = max(batch.error_count - len(errors), 0)
    today = clock.today()
    actions, no_code = batch_kiosk_actions_of(batch=batch, today=today)
    pay_date_passed = (batch.status == BatchStatus.AWAITING_CONFIRMATION and "confirm" not in actions
                       and not no_code)
    needs_checklist = "confirm" in actions
    checked = request.session.get(_checklist_key(batch.pk)) if needs_checklist else None
    return kiosk_render(
        request,
        "kiosk/payroll_batch.html",
        {
            "batch": batch,
            "busy": busy,
            "actions": actions,
            "pay_date_note": pay_date_passed_message(pay_date=batch.pay_date, today=today) if pay_date_passed else "",
            "revoked_note": revoked_message(),
            "row_errors": errors,
            "more_errors": more,
            "more_errors_text": more_errors_text(more=more, language=get_language() or "zh-hans") if more else "",
            "system_error": system_error_message() if batch.status == BatchStatus.ERROR else "",
            "more_new_employees": max(batch.new_employee_count - len(batch.new_employees or []), 0),
            "status_url": reverse("kiosk:batch_status", kwargs={"pk": batch.pk}),
            "needs_checklist": needs_checklist,
            "checklist_scan_only": needs_checklist and not checklist_required(batch=batch),  # a pain.001: QR only
            "no_code_note": no_code_message(language=get_language() or "zh-hans") if no_code else "",
            "checklist_checked": checked and {k: v for k, v in checked.items() if k != "text"},
            "language": get_language(),
        },
    )


@kiosk_card_required
@require_POST
def payroll_confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    # 确认入库 on the result screen and 补充入库 on the query screen are the same service.
    batch = _batch(request, pk)
    # 疑似重复发放: the acknowledgement checkbox (templates/kiosk/_duplicate_ack.html); the service enforces it.
    acknowledged = request.POST.get("acknowledge_duplicate") == "1"
    # The checklist text the agent checked before (kept in the server-side session, never rendered);
    # the service checks it again and refuses without a match.
    checklist = request.session.get(_checklist_key(batch.pk), {}).get("text", "")
    return kiosk_act(request, service=lambda: intake.payroll_batch_confirm(batch=batch, card=request.kiosk_card,
                                                                           duplicate_acknowledged=acknowledged,
                                                                           checklist=checklist),
                     done=_("已确认入库，正在入库，请稍候。状态变为“成功”即提交完成。"),
                     target="kiosk:payroll_batch", pk=batch.pk, statuses=BatchStatus)


def _checklist_key(pk: int) -> str:
    return f"kiosk_checklist_{pk}"


@kiosk_card_required
@require_POST
def payroll_checklist_view(request: HttpRequest, pk: int) -> HttpResponse:
    """核对清单核对: the scanner (keyboard mode) or the agent typed into the focused field."""
    batch = _batch(request, pk)
    text = request.POST.get("checklist", "")[:4000]
    try:
        result = payroll_checklist_check(batch=batch, actor=actor_of(card=request.kiosk_card), text=text)
    except ServiceError as exc:
        messages.error(request, refusal_message(exc))
        return redirect("kiosk:payroll_batch", pk=batch.pk)
    language = get_language() or "zh-hans"
    request.session[_checklist_key(batch.pk)] = {
        "text": text if result.matched else "", "how": result.how, "matched": result.matched,
        "figures": result.figures, "message": result.message(language)}
    return redirect("kiosk:payroll_batch", pk=batch.pk)


@kiosk_card_required
@require_POST
def payroll_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    return kiosk_act(request, service=lambda: intake.payroll_batch_revoke(batch=batch, card=request.kiosk_card),
                     done=revoked_message(),
                     target="kiosk:payroll_batch", pk=batch.pk, statuses=BatchStatus)


@kiosk_card_required
def payroll_report_view(request: HttpRequest, pk: int, fmt: str) -> StreamingHttpResponse:
    """报告文件下载: the validation report as text or CSV, only ever to the batch's own company."""
    batch = _batch(request, pk)
    chunks, name = payroll_report_download(batch=batch, card=request.kiosk_card, fmt=fmt,
                                           language=get_language() or "zh-hans")
    return kiosk_download(chunks, name=name,
                          content_type="text/csv; charset=utf-8" if fmt == "csv" else "text/plain; charset=utf-8")


@kiosk_card_required
def payroll_batches_view(request: HttpRequest) -> HttpResponse:
    """查询工资文件: by upload date (today by default), each with the actions its state allows."""
    form = UploadDateForm(request.GET or None, initial={"upload_date": clock.today()})
    day = form.cleaned_data.get("upload_date") if form.is_valid() else None
    day = day or clock.today()
    pages = query_pages(queryset=payroll_batches_for_company(company=request.kiosk_card.company, upload_date=day),
                        failed_statuses=[BatchStatus.INVALID], page=request.GET.get("page"),
                        failed_page=request.GET.get("failed_page"))
    today = clock.today()
    batches = [(batch, batch_kiosk_actions(batch.status, pay_date=batch.pay_date, today=today))
               for batch in pages.records]
    return kiosk_render(request, "kiosk/payroll_batches.html", {"form": form, "day": day, "batches": batches,
                                                                "page": pages.records, "failed": pages.failed})


@kiosk_card_required
def payroll_report_screen_view(request: HttpRequest, pk: int) -> HttpResponse:
    """报告文件 查看: the report on screen, as the download has it (new employees to check included)."""
    batch = _batch(request, pk)
    if "report" not in batch_kiosk_actions(batch.status):
        raise Http404
    return kiosk_render(request, "kiosk/payroll_report.html", {
        "batch": batch, "report_text": payroll_report_text(batch=batch, language=get_language() or "zh-hans")})
