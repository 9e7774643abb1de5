from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import QuerySet

from apps.agreements.models import Company
from apps.employees.models import Employee, EmployeeFile

# An IN list of this many accounts keeps each registry query well under PostgreSQL's
# parameter limit and measured fastest on 100k-row files (one index scan per chunk).
REGISTRY_CHUNK = 10_000


def registry_names(*, company_id: int, accounts: Iterable[str]) -> dict[str, str]:
    """The registered name of each of these accounts that the company's registry knows."""
    wanted = list(dict.fromkeys(accounts))
    names: dict[str, str] = {}
    for start in range(0, len(wanted), REGISTRY_CHUNK):
        chunk = wanted[start : start + REGISTRY_CHUNK]
        names.update(
            Employee.objects.filter(company_id=company_id, removed_at__isnull=True, account__in=chunk).values_list(
                "account", "name"
            )
        )
    return names


def employee_files_for_company(*, company: Company, upload_date: date | None = None) -> QuerySet[EmployeeFile]:
    files = EmployeeFile.objects.filter(company=company).select_related("agreement")
    if upload_date is not None:
        files = files.filter(upload_date=upload_date)
    return files.order_by("-uploaded_at", "-id")


def employee_file_get(*, company: Company, pk: int) -> EmployeeFile:
    """One file of this company; another company's file does not exist as far as the caller knows."""
    return EmployeeFile.objects.select_related("agreement").get(company=company, pk=pk)


def employees_for_company(*, company: Company) -> QuerySet[Employee]:
    return Employee.objects.filter(company=company, removed_at__isnull=True).order_by("name", "account")
