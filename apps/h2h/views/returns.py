"""Return files (回盘文件) through the API: list with totals, one file's totals and documents, and
the download, still encrypted for the company (only its client opens it)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.downloads import private_download
from apps.h2h.schema import COMMON_ERRORS
from apps.h2h.serializers import ReturnFileSerializer
from apps.h2h.views.base import H2HView
from apps.returns.models import ReturnFile
from apps.returns.selectors import return_download_name, return_file_get, return_files_for_company
from apps.returns.services import return_file_download

LIST_LIMIT = 200


class ReturnScoped(H2HView):
    def return_file(self, batch_pk: int) -> ReturnFile:
        return_file = return_file_get(company=self.principal.company, batch_pk=batch_pk)
        if return_file.batch.agreement_id not in self.agreement_ids():
            raise Http404
        return return_file


class ReturnFileListView(H2HView):
    @extend_schema(operation_id="returns_list", responses={200: ReturnFileSerializer(many=True), **COMMON_ERRORS},
                   summary="回盘文件查询: the return files with their totals")
    def get(self, request: Request) -> Response:
        files = return_files_for_company(company=self.principal.company).filter(
            batch__agreement_id__in=self.agreement_ids())[:LIST_LIMIT]
        return Response(ReturnFileSerializer(files, many=True).data)


class ReturnFileView(ReturnScoped):
    @extend_schema(operation_id="returns_detail", responses={200: ReturnFileSerializer, **COMMON_ERRORS},
                   summary="One return file: totals and the documents offered")
    def get(self, request: Request, batch_pk: int) -> Response:
        return Response(ReturnFileSerializer(self.return_file(batch_pk)).data)


class ReturnDownloadView(ReturnScoped):
    @extend_schema(operation_id="returns_download", responses={
        (200, "application/pkcs7-mime"): OpenApiResponse(OpenApiTypes.BINARY, description="The sealed return file"),
        **COMMON_ERRORS}, summary="回盘下载: signed by the bank, encrypted for the company")
    def get(self, request: Request, batch_pk: int) -> HttpResponse:
        return_file = self.return_file(batch_pk)
        try:
            data = return_file_download(return_file=return_file, actor=self.principal.actor)
        except FileNotFoundError as exc:
            raise Http404 from exc
        return private_download(data, name=return_download_name(return_file), content_type="application/pkcs7-mime")
