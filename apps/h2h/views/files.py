"""GET /agreements/ and POST /files/: the same signed, encrypted envelope the kiosk takes, as
multipart (``file``) or as the raw body (application/octet-stream), dispatched by ``kind``."""

from __future__ import annotations

import hashlib

from django.core.files.uploadhandler import StopUpload
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework import status
from rest_framework.parsers import FileUploadParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.files import upload_too_large
from apps.h2h.errors import ApiError
from apps.h2h.idempotency import idempotent, request_digest
from apps.h2h.kinds import UPLOAD_KINDS
from apps.h2h.schema import COMMON_ERRORS, IDEMPOTENCY_KEY, POST_ERRORS
from apps.h2h.serializers import AcceptedSerializer, AgreementSerializer
from apps.h2h.views.base import H2HView


class RawEnvelopeParser(FileUploadParser):
    media_type = "application/octet-stream"

    def get_filename(self, stream, media_type, parser_context):
        return super().get_filename(stream, media_type, parser_context) or "upload.p7m"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except StopUpload as exc:
            raise upload_too_large(0) from exc


class AgreementsView(H2HView):
    @extend_schema(operation_id="agreements_list", responses={200: AgreementSerializer(many=True), **COMMON_ERRORS},
                   summary="The agreements bound to the calling certificate with host-to-host enabled")
    def get(self, request: Request) -> Response:
        return Response(AgreementSerializer(self.principal.agreements, many=True).data)


# The kinds the schema names are the kinds registered (apps/h2h/kinds.py), pain001 included.
KIND_PARAM = OpenApiParameter("kind", str, enum=list(UPLOAD_KINDS), required=False,
                              description="File kind (default payroll): payroll, an ISO 20022 pain.001.001.09 "
                                          "(pain001) or employees. Also accepted as a multipart field.")
AGREEMENT_PARAM = OpenApiParameter("agreement", str, required=False,
                                   description="Agreement number; optional when the certificate is bound to one.")


class FileUploadView(H2HView):
    parser_classes = [MultiPartParser, RawEnvelopeParser]

    @extend_schema(
        operation_id="files_upload", summary="Upload a signed, encrypted envelope (提交代发工资 / 提交员工信息)",
        parameters=[IDEMPOTENCY_KEY, KIND_PARAM, AGREEMENT_PARAM],
        request={"multipart/form-data": {"type": "object", "properties": {
                     "file": {"type": "string", "format": "binary"},
                     "kind": {"type": "string", "enum": list(UPLOAD_KINDS)},
                     "agreement": {"type": "string"}}, "required": ["file"]},
                 "application/octet-stream": OpenApiRequest(OpenApiTypes.BINARY)},
        responses={202: AcceptedSerializer, **POST_ERRORS},
    )
    def post(self, request: Request) -> Response:
        kind_name = request.query_params.get("kind") or request.data.get("kind") or "payroll"
        kind = UPLOAD_KINDS.get(str(kind_name))
        if kind is None:
            raise ApiError(400, "kind_unknown", f"不支持的文件类型 {kind_name}，可用：{', '.join(UPLOAD_KINDS)}。",
                           f"Unknown file kind {kind_name}; use one of {', '.join(UPLOAD_KINDS)}.", field="kind")
        agreement = self.agreement_chosen(request.query_params.get("agreement") or request.data.get("agreement"))
        upload = request.data.get("file")
        if upload is None or not hasattr(upload, "chunks"):
            raise ApiError(400, "file_missing", "请求中没有文件：请用 multipart 字段 file 或原始请求体上传。",
                           "No file in the request: send it as the multipart field file or as the raw body.",
                           field="file")
        content = hashlib.sha256()
        for chunk in upload.chunks():
            content.update(chunk)
        upload.seek(0)
        digest = request_digest(request, kind.name.encode(), agreement.number.encode(), content.digest())

        def effect() -> Response:
            record = kind.submit(actor=self.principal.actor, agreement=agreement, upload=upload)
            body = {"kind": kind.name, "id": record.pk, "status": record.status, "queued": record.queued is not False,
                    "url": reverse(kind.detail_route, kwargs={"pk": record.pk})}
            return Response(body, status=status.HTTP_202_ACCEPTED)

        return idempotent(request, digest=digest, effect=effect)
