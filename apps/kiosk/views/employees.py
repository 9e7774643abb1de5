"""提交员工信息 (浏览 → 下一步 → status; 查看, 确认入库, 取消) and 查询员工文件."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.core import clock
from apps.core.errors import ServiceError
from apps.employees import services
from apps.employees.models import EmployeeFile
from apps.employees.selectors import employee_file_get, employee_files_for_company
from apps.intake.reports import more_errors_text
from apps.kiosk.forms import UploadDateForm, UploadForm
from apps.kiosk.presenters import query_pages, refusal_message, system_error_message
from apps.kiosk.session import kiosk_card_required
from apps.kiosk.views.common import kiosk_act, kiosk_render, received_later_message

ROWS_PER_PAGE = 50  # one screen of rows at kiosk font size; 下一页 for the rest
BUSY = {EmployeeFile.Status.VALIDATING, EmployeeFile.Status.STORING}


def _file(request: HttpRequest, pk: int) -> EmployeeFile:
    try:
        return employee_file_get(company=request.kiosk_card.company, pk=pk)
    except EmployeeFile.DoesNotExist as exc:
        raise Http404 from exc


@kiosk_card_required
@require_http_methods(["GET", "POST"])
def employee_upload_view(request: HttpRequest) -> HttpResponse:
    card = request.kiosk_card
    form = UploadForm(request.POST or None, request.FILES or None, company=card.company)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            employee_file = services.employee_file_submit(
                card=card, agreement=form.cleaned_data["agreement"], upload=form.cleaned_data["upload"]
            )
        except ServiceError as exc:
            error = refusal_message(exc, statuses=EmployeeFile.Status)
        else:
            if employee_file.queued is False:
                messages.info(request, received_later_message())
            return redirect("kiosk:employee_file", pk=employee_file.pk)
    return kiosk_render(request, "kiosk/employee_upload.html", {"form": form, "error": error},
                        status=400 if request.method == "POST" else 200)


@kiosk_card_required
def employee_file_view(request: HttpRequest, pk: int) -> HttpResponse:
    employee_file = _file(request, pk)
    errors = employee_file.errors or []
    more = max(employee_file.error_count - len(errors), 0)
    return kiosk_render(request, "kiosk/employee_file.html", {
        "file": employee_file,
        "more_errors_text": more_errors_text(more=more, language=get_language() or "zh-hans") if more else "",
        "system_error": system_error_message() if employee_file.status == EmployeeFile.Status.ERROR else "",
        "busy": employee_file.status in BUSY,
        "awaiting": employee_file.status == EmployeeFile.Status.AWAITING_CONFIRMATION,
        "row_errors": errors,
        "language": get_language(),
    })


@kiosk_card_required
def employee_file_rows_view(request: HttpRequest, pk: int) -> HttpResponse:
    """查看: the file's rows, masked, before 确认入库."""
    employee_file = _file(request, pk)
    page = Paginator(employee_file.rows.order_by("seq"), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return kiosk_render(request, "kiosk/employee_rows.html", {"file": employee_file, "page": page})


@kiosk_card_required
@require_POST
def employee_confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    employee_file = _file(request, pk)
    return kiosk_act(request, service=lambda: services.employee_file_confirm(employee_file=employee_file,
                                                                             card=request.kiosk_card),
                     done=_("已确认入库。状态变为“成功”后，员工信息即保存在银行系统中。"),
                     target="kiosk:employee_file", pk=employee_file.pk, statuses=EmployeeFile.Status)


@kiosk_card_required
@require_POST
def employee_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    employee_file = _file(request, pk)
    return kiosk_act(request, service=lambda: services.employee_file_cancel(employee_file=employee_file,
                                                                            card=request.kiosk_card),
                     done=_("已取消，此文件不会入库。如需重新提交，请点击“返回”重新选择文件。"),
                     target="kiosk:employee_file", pk=employee_file.pk, statuses=EmployeeFile.Status)


@kiosk_card_required
def employee_files_view(request: HttpRequest) -> HttpResponse:
    """查询员工文件: by upload date (the manual's only criterion), today by default."""
    form = UploadDateForm(request.GET or None, initial={"upload_date": clock.today()})
    day = (form.cleaned_data.get("upload_date") if form.is_valid() else None) or clock.today()
    pages = query_pages(queryset=employee_files_for_company(company=request.kiosk_card.company, upload_date=day),
                        failed_statuses=[EmployeeFile.Status.INVALID], page=request.GET.get("page"),
                        failed_page=request.GET.get("failed_page"))
    return kiosk_render(request, "kiosk/employee_files.html", {"form": form, "day": day, "files": pages.records,
                                                                 "failed": pages.failed})
