from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection
from django.db.models import QuerySet

from apps.agreements.models import Company
from apps.employees.models import Employee, EmployeeFile

# Pre-validation matches the registry this many rows at a time and reports progress after each.
# Elsewhere an IN list of this many accounts keeps a query under the database's parameter limit.
REGISTRY_CHUNK = 10_000


def registry_names(*, company_id: int, accounts: Iterable[str]) -> dict[str, str]:
    """The registered name of each of these accounts that the company's registry knows."""
    wanted = list(dict.fromkeys(accounts))
    joined = ",".join(wanted)
    if connection.vendor == "postgresql" and joined and joined.count(",") == len(wanted) - 1:
        # No account holds a comma, so one string parameter carries them all. An IN list of
        # placeholders, or a list adapted as an array (psycopg quotes each item in Python), cost
        # 1.3-1.9 s for 100k accounts; this 0.17 s: the server splits the string, the planner sees
        # a constant array and hashes it (benchmarks/bench_intake.py, its registry match phase).
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT account, name FROM {Employee._meta.db_table}"  # noqa: S608 — the table name is ours
                " WHERE company_id = %s AND removed_at IS NULL AND account = ANY(string_to_array(%s, ','))",
                [company_id, joined],
            )
            return dict(cursor.fetchall())
    names: dict[str, str] = {}
    for start in range(0, len(wanted), REGISTRY_CHUNK):
        chunk = wanted[start : start + REGISTRY_CHUNK]
        names.update(
            Employee.objects.filter(company_id=company_id, removed_at__isnull=True, account__in=chunk).values_list(
                "account", "name"
            )
        )
    return names


def registry_size(*, company_id: int) -> int:
    """How many current employees the company has (an index-only count on employee_current_account)."""
    return Employee.objects.filter(company_id=company_id, removed_at__isnull=True).count()


def employee_files_for_company(*, company: Company, upload_date: date | None = None) -> QuerySet[EmployeeFile]:
    files = EmployeeFile.objects.filter(company=company).select_related("agreement")
    if upload_date is not None:
        files = files.filter(upload_date=upload_date)
    return files.order_by("-uploaded_at", "-id")


def employee_file_get(*, company: Company, pk: int) -> EmployeeFile:
    """One file of this company; another company's file does not exist as far as the caller knows."""
    return EmployeeFile.objects.select_related("agreement").get(company=company, pk=pk)
