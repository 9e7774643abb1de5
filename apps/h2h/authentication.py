"""Mutual TLS: nginx verifies the client certificate against the bank root and forwards it in
``X-SSL-Client-Cert`` ($ssl_client_escaped_cert). The header is believed only from the address
nginx reaches us on (H2H_TRUSTED_PROXY; gunicorn on a unix socket gives REMOTE_ADDR ""), and then
checked again here: chain to the bank root, validity and CRL at business now (the certificate
table's revocations), clientAuth, the enterprise role, the certificate row, and at least one
agreement bound to it with host-to-host enabled. No password and no API key is ever accepted."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apps.agreements.models import Agreement, Certificate
from apps.agreements.services import trust_store
from apps.core import clock
from apps.h2h.errors import ApiError
from apps.intake.actors import Actor, certificate_actor
from payroll_exchange import pki
from payroll_exchange.certs import cert_fingerprint, cert_load_pem
from payroll_exchange.errors import ExchangeError

CERT_HEADER = "HTTP_X_SSL_CLIENT_CERT"

_REFUSED = {
    "cert_expired": ("客户端证书已过期或尚未生效，请到开户银行办理新证书。",
                     "The client certificate has expired or is not valid yet; get a new one at your bank branch."),
    "cert_not_yet_valid": ("客户端证书已过期或尚未生效，请到开户银行办理新证书。",
                           "The client certificate has expired or is not valid yet; get a new one at your bank "
                           "branch."),
    "cert_revoked": ("客户端证书已被银行吊销，请到开户银行办理新证书。",
                     "The client certificate has been revoked by the bank; get a new one at your bank branch."),
}
_UNTRUSTED = ("客户端证书不是银行根证书签发的有效证书，请使用银行签发的企业证书。",
              "The client certificate is not a valid certificate issued under the bank root; use the enterprise "
              "certificate the bank issued.")


@dataclass
class CertificatePrincipal:
    """request.user of the API: the enterprise certificate and the agreements it may act for."""

    certificate: Certificate
    agreements: list[Agreement] = field(default_factory=list)
    is_authenticated: bool = True

    @property
    def actor(self) -> Actor:
        return certificate_actor(self.certificate)

    @property
    def company(self):
        return self.certificate.company


def _refuse(status: int, code: str, zh: str, en: str) -> ApiError:
    return ApiError(status, code, zh, en)


def from_trusted_proxy(request: Request) -> bool:
    return request.META.get("REMOTE_ADDR", "") in settings.H2H_TRUSTED_PROXY


class ClientCertificateAuthentication(BaseAuthentication):
    def authenticate_header(self, request: Request) -> str:
        return 'MutualTLS realm="h2h"'  # makes DRF answer 401, not 403, when no certificate came

    def authenticate(self, request: Request) -> tuple[CertificatePrincipal, None] | None:
        raw = request.META.get(CERT_HEADER, "")
        if not raw:
            return None
        if not from_trusted_proxy(request):
            raise _refuse(401, "cert_header_untrusted",
                          "证书请求头只接受来自银行 TLS 网关的请求，请通过银行公布的直连地址访问。",
                          "The certificate header is accepted only from the bank's TLS gateway; connect through "
                          "the published host-to-host address.")
        return (principal_of_pem(unquote(raw).encode("ascii", "replace")), None)


def principal_of_pem(pem: bytes) -> CertificatePrincipal:
    try:
        cert = cert_load_pem(pem)
    except ExchangeError as exc:
        raise _refuse(401, "cert_unreadable", "无法读取客户端证书。", "The client certificate cannot be read.") from exc
    now = clock.now()
    try:
        pki.chain_verify(cert=cert, intermediates=[], trust=trust_store(now=now), now=now)
    except ExchangeError as exc:
        zh, en = _REFUSED.get(exc.code, _UNTRUSTED)
        raise _refuse(401, exc.code, zh, en) from exc
    if not pki.cert_client_auth(cert):
        raise _refuse(403, "cert_no_client_auth",
                      "此企业证书签发于银企直连开通之前，不含客户端认证用途（clientAuth），请到开户银行重新签发证书。",
                      "This enterprise certificate predates host-to-host access and lacks the clientAuth usage; "
                      "ask your bank branch to reissue it.")
    record = (Certificate.objects.select_related("company")
              .filter(fingerprint=cert_fingerprint(cert), role=Certificate.Role.ENTERPRISE, revoked_at__isnull=True,
                      company__isnull=False).first())
    if record is None or pki.cert_role(cert) != "enterprise":
        raise _refuse(403, "cert_not_enterprise", "此证书不是银行登记的企业证书。",
                      "This certificate is not an enterprise certificate registered by the bank.")
    agreements = list(Agreement.objects.filter(certificate=record, company_id=record.company_id)
                      .select_related("certificate").order_by("number"))
    enabled = [a for a in agreements if a.h2h_enabled]
    if not enabled:
        raise _refuse(403, "h2h_not_enabled",
                      "此证书绑定的代发协议尚未开通银企直连，请联系开户银行开通。",
                      "No payroll agreement bound to this certificate has host-to-host access enabled; ask your "
                      "bank branch to enable it.")
    return CertificatePrincipal(certificate=record, agreements=enabled)
