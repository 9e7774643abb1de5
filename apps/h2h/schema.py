"""OpenAPI pieces drf-spectacular cannot infer: the mTLS security scheme, the Idempotency-Key
header and the one error body on every operation."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class ClientCertificateScheme(OpenApiAuthenticationExtension):
    target_class = "apps.h2h.authentication.ClientCertificateAuthentication"
    name = "enterpriseCertificate"

    def get_security_definition(self, auto_schema):
        return {"type": "mutualTLS",
                "description": "双向 TLS：企业证书（银行根证书签发，含 clientAuth 用途）。Mutual TLS with the "
                               "enterprise certificate issued under the bank root (clientAuth usage). "
                               "No password, no API key."}


class MessageSerializer(serializers.Serializer):
    zh = serializers.CharField()
    en = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable refusal code, the same as the kiosk's.")
    message = MessageSerializer()
    field = serializers.CharField(allow_null=True)
    row = serializers.IntegerField(allow_null=True)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=True,
    description="Required on every POST. Same key + same request within 24 h replays the first answer; same key "
                "+ another request: 422; still being processed: 409.")

_ERROR = OpenApiResponse(ErrorSerializer, description="Refused (see code and message).")
COMMON_ERRORS = dict.fromkeys((400, 401, 403, 404, 429), _ERROR)
POST_ERRORS = {**COMMON_ERRORS, 409: _ERROR, 413: _ERROR, 415: _ERROR, 422: _ERROR}
