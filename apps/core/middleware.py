"""Uploads are refused above UPLOAD_MAX_BYTES before they are read whole."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.files import MaxSizeUploadHandler, upload_too_large

# A multipart body carries boundaries and the other form fields beside the file.
MULTIPART_SLACK = 64 * 1024


class UploadLimitMiddleware:
    """Two guards. A declared Content-Length over the limit is answered at once, without reading
    the body. A body that turns out larger (no length, or a lie) is cut off by a stream handler
    while it is parsed, and the view is never reached."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > settings.UPLOAD_MAX_BYTES + MULTIPART_SLACK:
            return self._refuse(request, declared)
        handler = MaxSizeUploadHandler(request)
        request.upload_handlers.insert(0, handler)
        request._upload_limit_handler = handler
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        handler = getattr(request, "_upload_limit_handler", None)
        if handler is None or request.method != "POST":
            return None
        # Parse the body here (CSRF usually has already) so an overflow is known before any view.
        request.POST  # noqa: B018
        if handler.too_large:
            return self._refuse(request, settings.UPLOAD_MAX_BYTES + 1)
        return None

    def _refuse(self, request: HttpRequest, size: int) -> HttpResponse:
        error = upload_too_large(size)
        return render(request, "upload_too_large.html", {"zh": error.zh, "en": error.en}, status=413)
