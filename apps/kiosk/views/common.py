from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.db.models import TextChoices
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from apps.core.downloads import private_download
from apps.core.errors import ServiceError
from apps.kiosk.presenters import refusal_message
from apps.kiosk.session import AUTO_PARAM, kiosk_idle_seconds

# The last stretch of an idle session in which the page shows its countdown (issue 5).
COUNTDOWN_SECONDS = 30


def kiosk_render(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HttpResponse:
    card = getattr(request, "kiosk_card", None)
    base = {
        "card": card,
        "company": card.company if card is not None else None,
        "idle_seconds": kiosk_idle_seconds(),
        "countdown_seconds": COUNTDOWN_SECONDS,
        "auto_param": AUTO_PARAM,
    }
    base.update(context or {})
    return render(request, template, base, status=status)


def kiosk_act(request: HttpRequest, *, service: Callable[[], object], done: str, target: str, pk: int,
              statuses: type[TextChoices]) -> HttpResponse:
    """One agent action on a file (确认入库, 撤消, 取消): call the service, say what happened, and
    go back to the file's page. A refusal (any ServiceError: state conflict, pay date, hours)
    is shown as the service phrased it. A confirmation the broker could not take yet is kept:
    the agent reads 已收到，系统稍后处理."""
    try:
        queued = service()
    except ServiceError as exc:
        messages.error(request, refusal_message(exc, statuses=statuses))
    else:
        messages.success(request, done)
        if queued is False:
            messages.info(request, received_later_message())
    return redirect(target, pk=pk)


def received_later_message() -> str:
    return _("已收到，系统稍后处理。无需重新提交，请稍后点击“刷新”查看状态。")


def kiosk_download(chunks: Iterable[bytes], *, name: str, content_type: str) -> StreamingHttpResponse:
    """A private file handed to the agent (the API hands its files the same way)."""
    return private_download(chunks, name=name, content_type=content_type)
