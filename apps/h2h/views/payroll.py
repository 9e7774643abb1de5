"""Payroll batches through the API: list by upload date, status with progress, the pre-validation
result (paginated errors), 确认入库, 撤消 and the report as CSV: each a call to the kiosk's services."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils.dateparse import parse_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core import clock
from apps.core.downloads import private_download
from apps.h2h.errors import ApiError
from apps.h2h.idempotency import idempotent, request_digest
from apps.h2h.schema import COMMON_ERRORS, IDEMPOTENCY_KEY, POST_ERRORS
from apps.h2h.serializers import ActedSerializer, BatchResultSerializer, BatchSerializer
from apps.h2h.views.base import H2HView, page_number
from apps.payroll.changes import DuplicateNotAcknowledged, payroll_batch_changes
from apps.payroll.models import FREEING_STATUSES, PayrollBatch
from apps.payroll.selectors import payroll_batch_get, payroll_batches_for_company
from apps.payroll.services import intake
from apps.payroll.services.reports import payroll_report, payroll_report_download

PAGE_SIZE = 100
LIST_LIMIT = 500

DATE_PARAM = OpenApiParameter("upload_date", OpenApiTypes.DATE, required=False,
                              description="Upload date (default: today, business date).")
PAGE_PARAM = OpenApiParameter("page", int, required=False, description="Page of errors, 100 a page (from 1).")


def upload_date_param(request: Request):
    raw = request.query_params.get("upload_date")
    if not raw:
        return clock.today()
    try:
        day = parse_date(raw)
    except ValueError:
        day = None
    if day is None:
        raise ApiError(400, "invalid_parameter", "upload_date 须为 YYYY-MM-DD 格式的日期。",
                       "upload_date must be a date as YYYY-MM-DD.", field="upload_date")
    return day


class BatchScoped(H2HView):
    def batch(self, pk: int) -> PayrollBatch:
        return self.owned(payroll_batch_get(company=self.principal.company, pk=pk))


class BatchListView(H2HView):
    @extend_schema(operation_id="batches_list", parameters=[DATE_PARAM],
                   responses={200: BatchSerializer(many=True), **COMMON_ERRORS},
                   summary="查询工资文件: the batches uploaded on a day")
    def get(self, request: Request) -> Response:
        batches = payroll_batches_for_company(company=self.principal.company, upload_date=upload_date_param(request))
        batches = batches.filter(agreement_id__in=self.agreement_ids())[:LIST_LIMIT]
        return Response(BatchSerializer(batches, many=True).data)


class BatchView(BatchScoped):
    @extend_schema(operation_id="batches_status", responses={200: BatchSerializer, **COMMON_ERRORS},
                   summary="Status with progress (rows_done / rows_total) and the actions the state allows")
    def get(self, request: Request, pk: int) -> Response:
        return Response(BatchSerializer(self.batch(pk)).data)


class BatchResultView(BatchScoped):
    @extend_schema(operation_id="batches_result", parameters=[PAGE_PARAM],
                   responses={200: BatchResultSerializer, **COMMON_ERRORS},
                   summary="Pre-validation result: count, amount, expected fee, digest, new employees, errors")
    def get(self, request: Request, pk: int) -> Response:
        batch = self.batch(pk)
        page = page_number(request.query_params.get("page"))
        report = payroll_report(batch=batch)
        start = (page - 1) * PAGE_SIZE
        return Response(BatchResultSerializer({
            "batch": batch, "digest": report.digest, "fee_per_payment": report.fee_per_payment,
            "new_employees": [] if batch.status in FREEING_STATUSES else batch.new_employees or [],
            "error_total": report.errors_found, "error_codes": report.error_codes or {},
            "errors_kept": len(report.errors), "page": page, "page_size": PAGE_SIZE,
            "errors": report.errors[start:start + PAGE_SIZE],
        }).data)


ACKNOWLEDGE_DUPLICATE = OpenApiParameter(
    "acknowledge_duplicate", bool, OpenApiParameter.QUERY, required=False,
    description="疑似重复发放: true confirms a file whose rows and amounts equal the agreement's last paid batch "
                "under a new batch number (refused with suspected_duplicate_unacknowledged otherwise); audited.")


def duplicate_unacknowledged_error(*, batch: PayrollBatch, code: str) -> ApiError:
    """疑似重复发放 in the API's words: the kiosk's sentence speaks of a checkbox, an ERP sends a parameter.
    Same code as the kiosk's refusal; the paid batch is named from the (cached) comparison."""
    changes = payroll_batch_changes(batch=batch)
    previous = (changes.previous_batch_no if changes is not None else "") or "—"
    return ApiError(409, code,
                    f"疑似重复发放：此文件的明细和金额与已发放批次 {previous} 完全相同。请核实确需再次发放后，"
                    "以 acknowledge_duplicate=true 重新请求确认入库（使用新的 Idempotency-Key）；否则请撤消此批次。",
                    f"Suspected duplicate payment: this file's rows and amounts equal the paid batch {previous}. "
                    "If it really must be paid again, repeat the confirm request with acknowledge_duplicate=true "
                    "(and a new Idempotency-Key); otherwise revoke the batch.",
                    field="acknowledge_duplicate")


class BatchConfirmView(BatchScoped):
    @extend_schema(operation_id="batches_confirm", parameters=[IDEMPOTENCY_KEY, ACKNOWLEDGE_DUPLICATE], request=None,
                   responses={200: ActedSerializer, **POST_ERRORS},
                   summary="确认入库 (also 补充入库): the pay-date window is checked again; no paper checklist")
    def post(self, request: Request, pk: int) -> Response:
        batch = self.batch(pk)
        # 疑似重复发放: the same rows and amounts as a paid batch are confirmed only when acknowledged.
        acknowledged = request.query_params.get("acknowledge_duplicate", "").lower() in ("1", "true")

        def effect() -> Response:
            try:
                queued = intake.payroll_batch_confirm(batch=batch, actor=self.principal.actor,
                                                      duplicate_acknowledged=acknowledged)
            except DuplicateNotAcknowledged as exc:
                raise duplicate_unacknowledged_error(batch=batch, code=exc.code) from exc
            batch.refresh_from_db(fields=["status"])
            return Response({"id": batch.pk, "status": batch.status, "queued": queued is not False})

        # The acknowledgement is part of the request: the same key with and without it is another request.
        parts = (b"acknowledge_duplicate",) if acknowledged else ()
        return idempotent(request, digest=request_digest(request, *parts), effect=effect)


class BatchRevokeView(BatchScoped):
    @extend_schema(operation_id="batches_revoke", parameters=[IDEMPOTENCY_KEY], request=None,
                   responses={200: ActedSerializer, **POST_ERRORS}, summary="撤消 (before storing)")
    def post(self, request: Request, pk: int) -> Response:
        batch = self.batch(pk)

        def effect() -> Response:
            intake.payroll_batch_revoke(batch=batch, actor=self.principal.actor)
            batch.refresh_from_db(fields=["status"])
            return Response({"id": batch.pk, "status": batch.status, "queued": None})

        return idempotent(request, digest=request_digest(request), effect=effect)


class BatchReportView(BatchScoped):
    @extend_schema(operation_id="batches_report_csv", responses={
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="报告文件 as CSV, formula cells "
                                                                            "neutralized"), **COMMON_ERRORS},
        summary="报告文件 as CSV (the JSON form is the result operation)")
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        chunks, name = payroll_report_download(batch=self.batch(pk), actor=self.principal.actor, fmt="csv",
                                               language="zh-hans")
        return private_download(chunks, name=name, content_type="text/csv; charset=utf-8")
