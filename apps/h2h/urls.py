from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from apps.h2h.views import employees, files, payroll, returns, status_reports

app_name = "h2h"

SCHEMA_SETTINGS = {
    "TITLE": "银企直连 Host-to-host API",
    "DESCRIPTION": "The payroll platform's host-to-host channel: authenticated by the enterprise certificate "
                   "over mutual TLS; every POST takes an Idempotency-Key; every error is one JSON body "
                   "(code, message {zh, en}, field, row).",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SCHEMA_PATH_PREFIX": "/api/h2h/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}

api_patterns = [
    path("agreements/", files.AgreementsView.as_view(), name="agreements"),
    path("files/", files.FileUploadView.as_view(), name="files"),
    path("batches/", payroll.BatchListView.as_view(), name="batches"),
    path("batches/<int:pk>/", payroll.BatchView.as_view(), name="batch"),
    path("batches/<int:pk>/result/", payroll.BatchResultView.as_view(), name="batch_result"),
    path("batches/<int:pk>/report.csv", payroll.BatchReportView.as_view(), name="batch_report"),
    path("batches/<int:pk>/confirm/", payroll.BatchConfirmView.as_view(), name="batch_confirm"),
    path("batches/<int:pk>/revoke/", payroll.BatchRevokeView.as_view(), name="batch_revoke"),
    path("batches/<int:pk>/pain002/", status_reports.BatchStatusReportView.as_view(), name="batch_pain002"),
    path("employee-files/", employees.EmployeeFileListView.as_view(), name="employee_files"),
    path("employee-files/<int:pk>/", employees.EmployeeFileView.as_view(), name="employee_file"),
    path("employee-files/<int:pk>/confirm/", employees.EmployeeFileConfirmView.as_view(), name="employee_file_confirm"),
    path("employee-files/<int:pk>/cancel/", employees.EmployeeFileCancelView.as_view(), name="employee_file_cancel"),
    path("returns/", returns.ReturnFileListView.as_view(), name="returns"),
    path("returns/<int:batch_pk>/", returns.ReturnFileView.as_view(), name="return_file"),
    path("returns/<int:batch_pk>/download/", returns.ReturnDownloadView.as_view(), name="return_download"),
]

urlpatterns = [
    *api_patterns,
    path("schema/", SpectacularAPIView.as_view(
        urlconf="apps.h2h.urls_schema", custom_settings=SCHEMA_SETTINGS, authentication_classes=[],
        permission_classes=[AllowAny]), name="schema"),
    # The split view serves its script as a file: the site's CSP allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(
        url_name="h2h:schema", authentication_classes=[], permission_classes=[AllowAny]), name="docs"),
]
