"""Uploads are refused above UPLOAD_MAX_BYTES before they are read whole; the kiosk's security headers."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

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
        if request.path.startswith("/api/"):  # the host-to-host API's one error body
            return JsonResponse({"code": error.code, "message": {"zh": error.zh, "en": error.en}, "field": "file",
                                 "row": None}, status=413, json_dumps_params={"ensure_ascii": False})
        return render(request, "upload_too_large.html", {"zh": error.zh, "en": error.en}, status=413)


# Every kiosk page: scripts and styles only from our own static files (no inline script, no
# event-handler attribute, no CDN), nothing framed, forms only to ourselves. Inline style
# *attributes* stay allowed (style-src-attr) — they cannot run code; <style> blocks cannot.
KIOSK_CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


class KioskHeadersMiddleware:
    """Headers on every page outside the back office (the kiosk is mounted at the root): no copy
    kept by the browser or a proxy (Cache-Control: no-store — the next agent at the same kiosk
    must not page back into this one's files), the Content-Security-Policy above, no framing and
    no referrer beyond our own origin. X-Frame-Options and Referrer-Policy are also set site-wide
    by Django (X_FRAME_OPTIONS, SECURE_REFERRER_POLICY); set here too so the kiosk never depends
    on a settings edit. Static files are served before this middleware runs (WhiteNoise) and keep
    their long cache."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path_info.startswith(("/admin/", f"/{settings.STATIC_URL.strip('/')}/")):
            return response
        patch_cache_control(response, no_store=True)
        response.headers.setdefault("Content-Security-Policy", KIOSK_CSP)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        return response
