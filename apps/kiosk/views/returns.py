"""回盘文件查询/下载: list, 下载 (still encrypted), 查看 (success and failure count and amount)."""

from __future__ import annotations

import importlib

from django.http import FileResponse, Http404, HttpRequest, HttpResponse

from apps.core.files import private_path
from apps.kiosk.session import kiosk_card_required
from apps.kiosk.views.common import kiosk_render
from apps.returns.models import ReturnFile

# Where the sealed return files live (apps.returns writes them there; see ReturnFile.stored_name).
RETURNS_AREA = "returns"


def _selectors():
    # apps.returns.selectors is written alongside this screen; until it exists the screen
    # shows an empty list instead of failing (the import is checked on each request).
    try:
        return importlib.import_module("apps.returns.selectors")
    except ImportError:
        return None


def _return_file(request: HttpRequest, batch_pk: int) -> ReturnFile:
    selectors = _selectors()
    if selectors is None:
        raise Http404
    try:
        return selectors.return_file_get(company=request.kiosk_card.company, batch_pk=batch_pk)
    except ReturnFile.DoesNotExist as exc:
        raise Http404 from exc


@kiosk_card_required
def return_files_view(request: HttpRequest) -> HttpResponse:
    selectors = _selectors()
    files = list(selectors.return_files_for_company(company=request.kiosk_card.company)[:200]) if selectors else []
    return kiosk_render(request, "kiosk/returns.html", {"files": files, "available": selectors is not None})


@kiosk_card_required
def return_file_view(request: HttpRequest, batch_pk: int) -> HttpResponse:
    """查看: the totals the bank knows without decrypting (the details need the enterprise key)."""
    return kiosk_render(request, "kiosk/return_file.html", {"rf": _return_file(request, batch_pk)})


@kiosk_card_required
def return_download_view(request: HttpRequest, batch_pk: int) -> HttpResponse:
    """下载: the sealed file as the bank wrote it; only the company's client can open it."""
    return_file = _return_file(request, batch_pk)
    path = private_path(RETURNS_AREA, return_file.stored_name)
    if not path.exists():
        raise Http404
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=f"{return_file.file_id}.p7m",
        content_type="application/octet-stream",
    )
    response["Cache-Control"] = "no-store"
    return response
