"""The host-to-host API reached the way nginx reaches it: on the unix socket (REMOTE_ADDR "") with
the verified client certificate in X-SSL-Client-Cert. The nginx tests (test_e2e_nginx.py) show the
real path; these use Django's client for everything the application itself decides."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pytest

from payroll_exchange import pki
from tests.factories import Party

API = "/api/h2h/v1"


def cert_header(identity_or_cert) -> str:
    cert = getattr(identity_or_cert, "cert", identity_or_cert)
    return quote(pki.cert_pem(cert).decode(), safe="")


@dataclass
class ApiClient:
    client: object
    header: str | None
    remote_addr: str = ""

    def _meta(self, extra: dict) -> dict:
        meta = {"REMOTE_ADDR": self.remote_addr}
        if self.header is not None:
            meta["HTTP_X_SSL_CLIENT_CERT"] = self.header
        meta.update(extra)
        return meta

    def get(self, path: str, **extra):
        return self.client.get(f"{API}{path}", **self._meta(extra))

    def post(self, path: str, data=None, *, key: str | None = "k-1", content_type=None, **extra):
        if key is not None:
            extra["HTTP_IDEMPOTENCY_KEY"] = key
        kwargs = {"content_type": content_type} if content_type else {}
        return self.client.post(f"{API}{path}", data if data is not None else {}, **kwargs, **self._meta(extra))

    def upload(self, data: bytes, *, key: str = "up-1", kind: str = "payroll", raw: bool = False, **extra):
        if raw:
            return self.post(f"/files/?kind={kind}", data, key=key, content_type="application/octet-stream", **extra)
        from django.core.files.uploadedfile import SimpleUploadedFile

        return self.post("/files/", {"kind": kind, "file": SimpleUploadedFile("payroll.p7m", data)}, key=key, **extra)


def h2h_enable(party: Party) -> Party:
    from apps.agreements.services import agreement_h2h_set

    agreement_h2h_set(agreement=party.agreement, enabled=True, actor="test-staff")
    party.agreement.refresh_from_db()
    return party


@pytest.fixture
def api_a(client, our_agent, business_clock) -> ApiClient:
    h2h_enable(our_agent)
    return ApiClient(client, cert_header(our_agent.identity))


@pytest.fixture
def api_b(client, other_agent, business_clock) -> ApiClient:
    h2h_enable(other_agent)
    return ApiClient(client, cert_header(other_agent.identity))
