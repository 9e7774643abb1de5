"""What every host-to-host view shares: mTLS authentication, the per-certificate throttle, the one
error body, and the scoping of every record to the agreements bound to the calling certificate."""

from __future__ import annotations

from django.http import Http404
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from apps.agreements.models import Agreement
from apps.h2h.authentication import CertificatePrincipal, ClientCertificateAuthentication
from apps.h2h.errors import ApiError, h2h_exception_handler
from apps.h2h.throttles import CertificateRateThrottle


class H2HView(APIView):
    authentication_classes = [ClientCertificateAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [CertificateRateThrottle]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return h2h_exception_handler

    @property
    def principal(self) -> CertificatePrincipal:
        return self.request.user

    def agreement_ids(self) -> list[int]:
        return [a.pk for a in self.principal.agreements]

    def owned(self, record):
        """A record of another agreement (another company's, or one this certificate is not bound
        to) and one that does not exist answer the same 404."""
        if getattr(record, "agreement_id", None) not in self.agreement_ids():
            raise Http404
        return record

    def agreement_chosen(self, number: str | None) -> Agreement:
        agreements = self.principal.agreements
        if not number:
            if len(agreements) == 1:
                return agreements[0]
            raise ApiError(400, "agreement_required", "此证书绑定多个协议，请用 agreement 参数指明协议编号。",
                           "This certificate is bound to several agreements; name one with the agreement parameter.",
                           field="agreement")
        for agreement in agreements:
            if agreement.number == number:
                return agreement
        raise ApiError(404, "agreement_not_yours", "所选协议不属于本证书绑定且已开通直连的协议，请核对协议编号。",
                       "The agreement named is not one bound to this certificate with host-to-host access; check "
                       "the agreement number.", field="agreement")


def page_number(raw: str | None) -> int:
    try:
        page = int(raw or 1)
    except ValueError:
        page = 0
    if page < 1:
        raise ApiError(400, "invalid_parameter", "page 须为正整数。", "page must be a positive integer.", field="page")
    return page
