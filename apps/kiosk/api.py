"""GET /api/batches/<id>/status/: what the 入库中 page polls.

The kiosk has no Django user, so DRF's session authentication does not apply: the card in the
kiosk session is the credential. Polling is not the agent doing something, so it never extends
the idle timer (see session.AUTO_PARAM); a poll after idle logout or closing time is refused.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core import clock
from apps.kiosk.hours import kiosk_hours_now
from apps.kiosk.presenters import BUSY_STATUSES, batch_kiosk_actions_of
from apps.kiosk.session import kiosk_session_state
from apps.payroll.models import PayrollBatch
from apps.payroll.selectors import payroll_batch_get


class BatchStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    status = serializers.CharField()
    label = serializers.CharField(source="get_status_display")
    # Pre-validation's progress as the worker records it with its heartbeat (apps/payroll/services/
    # intake.py: 0 / total once the file is opened, then after every registry chunk). rows_total 0:
    # the file is still being decrypted and its signature checked.
    rows_done = serializers.IntegerField()
    rows_total = serializers.IntegerField()
    busy = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    @extend_schema_field(serializers.BooleanField())
    def get_busy(self, batch: PayrollBatch) -> bool:
        return batch.status in BUSY_STATUSES

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, batch: PayrollBatch) -> list[str]:
        return list(batch_kiosk_actions_of(batch=batch, today=clock.today())[0])


class BatchStatusView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    serializer_class = BatchStatusSerializer

    def get(self, request: Request, pk: int) -> Response:
        hours = kiosk_hours_now()
        if not hours.open:
            raise PermissionDenied(hours.reason_en if request.LANGUAGE_CODE.startswith("en") else hours.reason_zh)
        card, _timed_out = kiosk_session_state(request._request)
        if card is None:
            raise NotAuthenticated()
        try:
            batch = payroll_batch_get(company=card.company, pk=pk)
        except PayrollBatch.DoesNotExist as exc:
            raise Http404 from exc
        response = Response(BatchStatusSerializer(batch).data)
        response["Cache-Control"] = "no-store"
        return response
