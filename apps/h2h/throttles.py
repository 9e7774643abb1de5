"""Per-certificate rate limits, counted in the shared cache (every web worker sees one count)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class CertificateRateThrottle(SimpleRateThrottle):
    scope = "h2h"

    def get_rate(self) -> str:
        return settings.H2H_RATE

    def get_cache_key(self, request, view) -> str | None:
        certificate = getattr(request.user, "certificate", None)
        if certificate is None:
            return None  # refused by authentication anyway
        return self.cache_format % {"scope": self.scope, "ident": certificate.fingerprint}
