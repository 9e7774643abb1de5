"""What the API answers: plain read serializers over the records the services keep."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.agreements.models import Agreement
from apps.core import clock
from apps.employees.models import EmployeeFile
from apps.employees.services import TRANSITIONS as EMPLOYEE_TRANSITIONS
from apps.intake.transitions import allowed_actions
from apps.payroll.availability import BUSY_STATUSES, pay_date_outside_window
from apps.payroll.models import PayrollBatch
from apps.payroll.services.transitions import TRANSITIONS as PAYROLL_TRANSITIONS
from apps.returns.models import ReturnFile

# What the enterprise may ask of a record in its state (the rest of the table is staff's and the jobs').
PAYROLL_ACTIONS = ("confirm", "revoke")
EMPLOYEE_ACTIONS = ("confirm", "cancel")


class AgreementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agreement
        fields = ["number", "payer_unit_no", "start_date", "end_date", "fee_per_payment", "single_limit",
                  "settlement_account", "h2h_enabled"]


class RowErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    row = serializers.IntegerField(allow_null=True)
    field = serializers.CharField(allow_null=True)
    zh = serializers.CharField()
    en = serializers.CharField()


class BatchSerializer(serializers.ModelSerializer):
    agreement = serializers.CharField(source="agreement.number")
    label = serializers.CharField(source="get_status_display")
    busy = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    class Meta:
        model = PayrollBatch
        fields = ["id", "agreement", "status", "label", "busy", "actions", "original_name", "uploaded_at",
                  "upload_date", "batch_no", "pay_date", "purpose", "record_count", "total_amount", "expected_fee",
                  "rows_done", "rows_total", "error_count", "new_employee_count"]

    @extend_schema_field(serializers.BooleanField())
    def get_busy(self, batch: PayrollBatch) -> bool:
        return batch.status in BUSY_STATUSES

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=PAYROLL_ACTIONS)))
    def get_actions(self, batch: PayrollBatch) -> list[str]:
        actions = [a for a in allowed_actions(transitions=PAYROLL_TRANSITIONS, status=batch.status)
                   if a in PAYROLL_ACTIONS]
        # The kiosk's rule (apps/payroll/availability.py): outside the pay-date window the service
        # refuses 确认入库, so it is not offered; revoke and remake the file.
        if "confirm" in actions and pay_date_outside_window(pay_date=batch.pay_date, today=clock.today()):
            actions = [a for a in actions if a != "confirm"]
        return actions


class NewEmployeeSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    name = serializers.CharField()
    account = serializers.CharField()


class BatchResultSerializer(serializers.Serializer):
    """The pre-validation result (报告文件): the batch, its digest, new employees and a page of errors."""

    batch = BatchSerializer()
    digest = serializers.CharField(allow_blank=True)
    fee_per_payment = serializers.DecimalField(max_digits=10, decimal_places=2)
    new_employees = NewEmployeeSerializer(many=True)
    error_total = serializers.IntegerField(help_text="All errors found (the report keeps the first 1,000).")
    error_codes = serializers.DictField(child=serializers.IntegerField())
    errors_kept = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)


class EmployeeFileSerializer(serializers.ModelSerializer):
    agreement = serializers.CharField(source="agreement.number", allow_null=True, default=None)
    label = serializers.CharField(source="get_status_display")
    actions = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()

    class Meta:
        model = EmployeeFile
        fields = ["id", "agreement", "status", "label", "actions", "original_name", "uploaded_at", "upload_date",
                  "operation", "record_count", "error_count", "errors"]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=EMPLOYEE_ACTIONS)))
    def get_actions(self, employee_file: EmployeeFile) -> list[str]:
        return [a for a in allowed_actions(transitions=EMPLOYEE_TRANSITIONS, status=employee_file.status)
                if a in EMPLOYEE_ACTIONS]

    @extend_schema_field(RowErrorSerializer(many=True))
    def get_errors(self, employee_file: EmployeeFile) -> list[dict]:
        return list(employee_file.errors or [])[:200]


class ReturnDocumentSerializer(serializers.Serializer):
    """One document offered for a paid batch: today the return file; more kinds may join it."""

    kind = serializers.CharField()
    name = serializers.CharField()
    media_type = serializers.CharField()
    url = serializers.CharField()


class ReturnFileSerializer(serializers.ModelSerializer):
    batch_id = serializers.IntegerField()
    batch_no = serializers.CharField(source="batch.batch_no")
    pay_date = serializers.DateField(source="batch.pay_date")
    documents = serializers.SerializerMethodField()

    class Meta:
        model = ReturnFile
        fields = ["batch_id", "batch_no", "pay_date", "file_id", "business_date", "size", "digest", "record_count",
                  "success_count", "success_amount", "failure_count", "failure_amount", "fee_charged", "documents"]

    @extend_schema_field(ReturnDocumentSerializer(many=True))
    def get_documents(self, return_file: ReturnFile) -> list[dict]:
        from apps.h2h.kinds import return_documents

        return return_documents(return_file)


class AcceptedSerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    status = serializers.CharField()
    queued = serializers.BooleanField(help_text="False: received, the system processes it later (broker down).")
    url = serializers.CharField()


class ActedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    queued = serializers.BooleanField(allow_null=True)
