"""Thin tasks of the host-to-host API: the nightly purge of expired Idempotency-Keys."""

from __future__ import annotations

from celery import shared_task

from apps.h2h.idempotency import idempotency_keys_purge


@shared_task(name="apps.h2h.tasks.idempotency_keys_purge")
def idempotency_keys_purge_task() -> int:
    return idempotency_keys_purge()
