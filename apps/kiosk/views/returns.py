"""回盘文件查询/下载: list, 下载 (still encrypted), 查看 (success and failure count and amount)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from apps.intake.actors import actor_of
from apps.kiosk.session import kiosk_card_required
from apps.kiosk.views.common import kiosk_download, kiosk_render
from apps.returns.models import Pain001Source, ReturnFile
from apps.returns.pain002 import pain002_available, pain002_download, pain002_download_name
from apps.returns.selectors import return_download_name, return_file_get, return_files_for_company
from apps.returns.services import return_file_download


def _return_file(request: HttpRequest, batch_pk: int) -> ReturnFile:
    try:
        # Another company's file, or one not yet due (before pay date + 1), does not exist here.
        return return_file_get(company=request.kiosk_card.company, batch_pk=batch_pk)
    except ReturnFile.DoesNotExist as exc:
        raise Http404 from exc


@kiosk_card_required
def return_files_view(request: HttpRequest) -> HttpResponse:
    files = return_files_for_company(company=request.kiosk_card.company)[:200]
    return kiosk_render(request, "kiosk/returns.html", {"files": files})


@kiosk_card_required
def return_file_view(request: HttpRequest, batch_pk: int) -> HttpResponse:
    """查看: the totals the bank knows without decrypting (the details need the enterprise key)."""
    rf = _return_file(request, batch_pk)
    return kiosk_render(request, "kiosk/return_file.html", {"rf": rf, "pain002": pain002_available(batch=rf.batch)})


@kiosk_card_required
def return_download_view(request: HttpRequest, batch_pk: int) -> HttpResponse:
    """回盘下载: the sealed file as the bank wrote it; only the company's client can open it."""
    return_file = _return_file(request, batch_pk)
    try:
        data = return_file_download(return_file=return_file, card=request.kiosk_card)
    except FileNotFoundError as exc:
        raise Http404 from exc
    return kiosk_download([data], name=return_download_name(return_file), content_type="application/octet-stream")


@kiosk_card_required
def return_pain002_view(request: HttpRequest, batch_pk: int) -> HttpResponse:
    """The ISO 20022 pain.002 status report beside the return file, for a batch sent as pain.001."""
    batch = _return_file(request, batch_pk).batch
    try:
        data = pain002_download(batch=batch, actor=actor_of(card=request.kiosk_card))
    except Pain001Source.DoesNotExist as exc:
        raise Http404 from exc
    return kiosk_download([data], name=pain002_download_name(batch=batch), content_type="application/xml")
