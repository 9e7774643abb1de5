"""One error body for every refusal of the API: ``{"code", "message": {"zh", "en"}, "field", "row"}``.
Service refusals keep the kiosk's codes and sentences (ServiceError carries both languages);
DRF's own refusals (authentication, throttling, parsing, 404) get a code and a sentence here."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from apps.core.errors import KioskClosed, ServiceError, UploadRefused
from apps.intake.errors import FileRefused, NotYourAgreement, StateError


class ApiError(exceptions.APIException):
    """A refusal raised by the API itself (authentication, idempotency, parameters)."""

    def __init__(self, status_code: int, code: str, zh: str, en: str, *, field: str | None = None) -> None:
        super().__init__(en)
        self.status_code = status_code
        self.code = code
        self.zh = zh
        self.en = en
        self.field = field


def error_body(code: str, zh: str, en: str, *, field: str | None = None, row: int | None = None) -> dict[str, Any]:
    return {"code": code, "message": {"zh": zh, "en": en}, "field": field, "row": row}


NOT_FOUND = ("not_found", "没有找到该记录（或它不属于本证书绑定的协议）。",
             "No such record (or it does not belong to an agreement bound to this certificate).")

# DRF's refusals: (code, zh, en) by exception class.
_DRF = {
    exceptions.NotAuthenticated: ("cert_missing",
                                  "请求未携带经银行根证书验证的客户端证书，请用企业证书建立双向 TLS 连接。",
                                  "The request carries no client certificate verified against the bank root; "
                                  "connect with the enterprise certificate (mutual TLS)."),
    exceptions.MethodNotAllowed: ("method_not_allowed", "此地址不支持该请求方法。",
                                  "This address does not accept that method."),
    exceptions.UnsupportedMediaType: ("unsupported_media_type",
                                      "不支持的内容类型：请用 multipart/form-data 或 application/octet-stream 上传。",
                                      "Unsupported content type: upload as multipart/form-data or "
                                      "application/octet-stream."),
    exceptions.NotAcceptable: ("not_acceptable", "无法按请求的格式返回。", "Cannot answer in the format asked for."),
    exceptions.ParseError: ("malformed_request", "请求内容无法解析，请检查格式。",
                            "The request body cannot be parsed."),
}

_SERVICE_STATUS = [
    (StateError, status.HTTP_409_CONFLICT),
    (NotYourAgreement, status.HTTP_404_NOT_FOUND),
    (KioskClosed, status.HTTP_409_CONFLICT),
    (FileRefused, status.HTTP_422_UNPROCESSABLE_ENTITY),
    (UploadRefused, status.HTTP_422_UNPROCESSABLE_ENTITY),
]


def _service_status(exc: ServiceError) -> int:
    if exc.code == "upload_too_large":
        return status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    for cls, code in _SERVICE_STATUS:
        if isinstance(exc, cls):
            return code
    return status.HTTP_409_CONFLICT  # a business rule refused the action now (pay date, state)


def h2h_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, ApiError):
        code, body = exc.status_code, error_body(exc.code, exc.zh, exc.en, field=exc.field)
    elif isinstance(exc, StateError):
        code, body = status.HTTP_409_CONFLICT, error_body(exc.code, exc.zh, exc.en, field="status")
    elif isinstance(exc, ServiceError):
        code, body = _service_status(exc), error_body(exc.code, exc.zh, exc.en)
    elif isinstance(exc, Http404 | ObjectDoesNotExist | exceptions.NotFound):
        code, body = status.HTTP_404_NOT_FOUND, error_body(*NOT_FOUND)
    elif isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        headers["Retry-After"] = str(wait)
        code, body = status.HTTP_429_TOO_MANY_REQUESTS, error_body(
            "rate_limited", f"请求过于频繁，请 {wait} 秒后再试。", f"Too many requests; try again in {wait} s.")
    elif isinstance(exc, exceptions.ValidationError):
        field, message = _first_problem(exc.detail)
        code, body = status.HTTP_400_BAD_REQUEST, error_body(
            "invalid_parameter", f"参数 {field} 不正确：{message}", f"Parameter {field} is not valid: {message}",
            field=field)
    elif isinstance(exc, exceptions.APIException):
        zh_en = next((v for cls, v in _DRF.items() if isinstance(exc, cls)), None)
        if zh_en is None:
            zh_en = ("forbidden" if exc.status_code == 403 else "request_refused", "请求被拒绝。", str(exc.detail))
        code, body = exc.status_code, error_body(*zh_en)
    else:
        return None  # a bug: Django's 500 (logged), never dressed up as a refusal
    return Response(body, status=code, headers=headers)


def _first_problem(detail: Any, field: str = "") -> tuple[str, str]:
    if isinstance(detail, dict):
        name, value = next(iter(detail.items()))
        return _first_problem(value, name if not field else f"{field}.{name}")
    if isinstance(detail, list) and detail:
        return _first_problem(detail[0], field)
    return field or "body", str(detail)


def not_found_view(request, exception=None):
    """Django's 404 (no URL matched): the API's paths answer in the error body, the rest as before."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/h2h/"):
        return JsonResponse(error_body(*NOT_FOUND), status=404, json_dumps_params={"ensure_ascii": False})
    return page_not_found(request, exception)
