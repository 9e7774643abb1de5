"""The kiosk (企业自助平台), mounted at the site root: path("", include("apps.kiosk.urls"))."""

from __future__ import annotations

from django.urls import path

from apps.kiosk import api
from apps.kiosk.views import auth, employees, payroll, returns

app_name = "kiosk"

urlpatterns = [
    path("", auth.login_view, name="login"),
    path("logged-out/", auth.login_view, {"timed_out": True}, name="login_timeout"),
    path("logout/", auth.logout_view, name="logout"),
    path("home/", auth.home_view, name="home"),
    path("ping/", auth.ping_view, name="ping"),
    # 提交员工信息 / 查询员工文件
    path("employees/upload/", employees.employee_upload_view, name="employee_upload"),
    path("employees/", employees.employee_files_view, name="employee_files"),
    path("employees/<int:pk>/", employees.employee_file_view, name="employee_file"),
    path("employees/<int:pk>/rows/", employees.employee_file_rows_view, name="employee_rows"),
    path("employees/<int:pk>/confirm/", employees.employee_confirm_view, name="employee_confirm"),
    path("employees/<int:pk>/cancel/", employees.employee_cancel_view, name="employee_cancel"),
    # 提交代发工资 / 查询工资文件
    path("payroll/upload/", payroll.payroll_upload_view, name="payroll_upload"),
    path("payroll/", payroll.payroll_batches_view, name="payroll_batches"),
    path("payroll/<int:pk>/", payroll.payroll_batch_view, name="payroll_batch"),
    path("payroll/<int:pk>/confirm/", payroll.payroll_confirm_view, name="payroll_confirm"),
    path("payroll/<int:pk>/checklist/", payroll.payroll_checklist_view, name="payroll_checklist"),
    path("payroll/<int:pk>/revoke/", payroll.payroll_revoke_view, name="payroll_revoke"),
    path("payroll/<int:pk>/report/", payroll.payroll_report_screen_view, name="payroll_report"),
    path("payroll/<int:pk>/report.txt", payroll.payroll_report_view, {"fmt": "txt"}, name="payroll_report_txt"),
    path("payroll/<int:pk>/report.csv", payroll.payroll_report_view, {"fmt": "csv"}, name="payroll_report_csv"),
    # 回盘文件查询/下载
    path("returns/", returns.return_files_view, name="returns"),
    path("returns/<int:batch_pk>/", returns.return_file_view, name="return_file"),
    path("returns/<int:batch_pk>/download/", returns.return_download_view, name="return_download"),
    path("returns/<int:batch_pk>/pain002/", returns.return_pain002_view, name="return_pain002"),
    # Polled by the 入库中 page.
    path("api/batches/<int:pk>/status/", api.BatchStatusView.as_view(), name="batch_status"),
]
