"""A private file handed to its owner, through any door (the kiosk's pages, the host-to-host API):
never cached, always an attachment under the name given. Bytes already in memory are sent whole
(with their Content-Length); an iterable of chunks is streamed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import overload

from django.http import HttpResponse, StreamingHttpResponse


@overload
def private_download(content: bytes, *, name: str, content_type: str) -> HttpResponse: ...
@overload
def private_download(content: Iterable[bytes], *, name: str, content_type: str) -> StreamingHttpResponse: ...


def private_download(content: bytes | Iterable[bytes], *, name: str,
                     content_type: str) -> HttpResponse | StreamingHttpResponse:
    if isinstance(content, bytes):
        response: HttpResponse | StreamingHttpResponse = HttpResponse(content, content_type=content_type)
    else:
        response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
