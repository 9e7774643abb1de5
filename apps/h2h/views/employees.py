"""Employee files (员工信息盘片) through the API: list by date, status, 确认入库 and 取消."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.employees import services
from apps.employees.models import EmployeeFile
from apps.employees.selectors import employee_file_get, employee_files_for_company
from apps.h2h.idempotency import idempotent, request_digest
from apps.h2h.schema import COMMON_ERRORS, IDEMPOTENCY_KEY, POST_ERRORS
from apps.h2h.serializers import ActedSerializer, EmployeeFileSerializer
from apps.h2h.views.base import H2HView
from apps.h2h.views.payroll import DATE_PARAM, LIST_LIMIT, upload_date_param


class EmployeeScoped(H2HView):
    def employee_file(self, pk: int) -> EmployeeFile:
        return self.owned(employee_file_get(company=self.principal.company, pk=pk))


class EmployeeFileListView(H2HView):
    @extend_schema(operation_id="employee_files_list", parameters=[DATE_PARAM],
                   responses={200: EmployeeFileSerializer(many=True), **COMMON_ERRORS},
                   summary="查询员工文件: the employee files uploaded on a day")
    def get(self, request: Request) -> Response:
        files = employee_files_for_company(company=self.principal.company, upload_date=upload_date_param(request))
        files = files.filter(agreement_id__in=self.agreement_ids())[:LIST_LIMIT]
        return Response(EmployeeFileSerializer(files, many=True).data)


class EmployeeFileView(EmployeeScoped):
    @extend_schema(operation_id="employee_files_status", responses={200: EmployeeFileSerializer, **COMMON_ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        return Response(EmployeeFileSerializer(self.employee_file(pk)).data)


class EmployeeFileActView(EmployeeScoped):
    act = ""

    def post(self, request: Request, pk: int) -> Response:
        employee_file = self.employee_file(pk)

        def effect() -> Response:
            if self.act == "confirm":
                queued = services.employee_file_confirm(employee_file=employee_file, actor=self.principal.actor)
            else:
                queued = services.employee_file_cancel(employee_file=employee_file, actor=self.principal.actor)
            employee_file.refresh_from_db(fields=["status"])
            return Response({"id": employee_file.pk, "status": employee_file.status,
                             "queued": None if queued is None else queued is not False})

        return idempotent(request, digest=request_digest(request), effect=effect)


class EmployeeFileConfirmView(EmployeeFileActView):
    act = "confirm"

    @extend_schema(operation_id="employee_files_confirm", parameters=[IDEMPOTENCY_KEY], request=None,
                   responses={200: ActedSerializer, **POST_ERRORS}, summary="确认入库 of an employee file")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class EmployeeFileCancelView(EmployeeFileActView):
    act = "cancel"

    @extend_schema(operation_id="employee_files_cancel", parameters=[IDEMPOTENCY_KEY], request=None,
                   responses={200: ActedSerializer, **POST_ERRORS}, summary="取消 an employee file")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)
