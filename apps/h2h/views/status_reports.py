"""The pain.002.001.12 status report of a batch that came as an ISO 20022 pain.001 (issue 14): after
pre-validation (ACTC or RJCT with reasons) and after pay day (ACSC, PART, RJCT per row). Offered
beside the return file in the return-file list (apps/h2h/kinds.py)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request

from apps.core.downloads import private_download
from apps.h2h.schema import COMMON_ERRORS
from apps.h2h.views.payroll import BatchScoped
from apps.returns.models import Pain001Source
from apps.returns.pain002 import pain002_download, pain002_download_name


class BatchStatusReportView(BatchScoped):
    @extend_schema(operation_id="batches_status_report", responses={
        (200, "application/xml"): OpenApiResponse(OpenApiTypes.BINARY, description="pain.002.001.12"),
        **COMMON_ERRORS}, summary="ISO 20022 pain.002 status report of a batch sent as pain.001")
    def get(self, request: Request, pk: int) -> HttpResponse:
        batch = self.batch(pk)
        try:
            data = pain002_download(batch=batch, actor=self.principal.actor)
        except Pain001Source.DoesNotExist as exc:
            raise Http404 from exc
        return private_download(data, name=pain002_download_name(batch=batch), content_type="application/xml")
