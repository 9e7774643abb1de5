"""Idempotency-Key on every POST. The key's row is written in the transaction of the effect:
either both the batch (or the confirmation) and the key are committed, or neither. A
transaction-scoped advisory lock on (certificate, key) tells a retry that arrives while the first
request still runs (409) from one that arrives after it (replay, or 422 for another request).
Refusals are not stored: nothing happened, so a retry is simply asked again."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from apps.h2h.errors import ApiError
from apps.h2h.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEPT = timedelta(hours=24)
MAX_KEY = 255


def request_digest(request: Request, *parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), *parts):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _key(request: Request) -> str:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise ApiError(400, "idempotency_key_missing", "每个 POST 请求都必须带 Idempotency-Key 请求头（建议用 UUID）。",
                       "Every POST needs an Idempotency-Key header (a UUID, for example).", field=HEADER)
    if len(key) > MAX_KEY or not key.isascii() or not key.isprintable():
        raise ApiError(400, "idempotency_key_invalid", f"Idempotency-Key 须为不超过 {MAX_KEY} 个可打印 ASCII 字符。",
                       f"Idempotency-Key must be at most {MAX_KEY} printable ASCII characters.", field=HEADER)
    return key


def lock_token(certificate_id: int, key: str) -> int:
    """The 64-bit advisory lock id of one (certificate, key)."""
    return int.from_bytes(hashlib.sha256(f"h2h:{certificate_id}:{key}".encode()).digest()[:8], "big", signed=True)


def _lock(certificate_id: int, key: str) -> bool:
    token = lock_token(certificate_id, key)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            return True  # the embedded demo (SQLite) serialises writers anyway
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [token])
        return bool(cursor.fetchone()[0])


def idempotent(request: Request, *, digest: str, effect: Callable[[], Response]) -> Response:
    """Run ``effect`` once per (certificate, Idempotency-Key): replay its stored answer after."""
    key = _key(request)
    certificate = request.user.certificate
    with transaction.atomic():
        if not _lock(certificate.pk, key):
            raise ApiError(409, "idempotency_key_in_progress",
                           "使用此 Idempotency-Key 的请求仍在处理中，请稍后用同一键重试。",
                           "A request with this Idempotency-Key is still being processed; retry later with the "
                           "same key.", field=HEADER)
        stored = IdempotencyKey.objects.filter(certificate=certificate, key=key,
                                               created_at__gte=timezone.now() - KEPT).first()
        if stored is not None:
            if stored.request_digest != digest:
                raise ApiError(422, "idempotency_key_reused",
                               "此 Idempotency-Key 已用于另一个不同的请求，请为新请求换一个新键。",
                               "This Idempotency-Key was used for a different request; use a new key for a new "
                               "request.", field=HEADER)
            response = Response(stored.body, status=stored.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        # An expired row of the same key makes room for the new one.
        IdempotencyKey.objects.filter(certificate=certificate, key=key).delete()
        response = effect()
        if 200 <= response.status_code < 300:
            IdempotencyKey.objects.create(certificate=certificate, key=key, request_digest=digest,
                                          status_code=response.status_code, body=response.data)
        return response


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete the keys past KEPT: nothing reads them any more (a reuse of one makes room for
    itself), so without this the table only grows. One set-based DELETE (no row has dependents)."""
    cutoff = (now or timezone.now()) - KEPT
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
