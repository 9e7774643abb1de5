from __future__ import annotations

from django.db.models import QuerySet

from apps.agreements.models import Agreement, Company


def agreements_for_company(*, company: Company) -> QuerySet[Agreement]:
    return Agreement.objects.filter(company=company).select_related("certificate").order_by("number")
