from __future__ import annotations

from django.db.models import QuerySet

from apps.agreements.models import Company
from apps.core import clock
from apps.core.files import private_path
from apps.returns.models import ReturnFile
from apps.returns.services import RETURNS_AREA


def return_files_for_company(*, company: Company) -> QuerySet[ReturnFile]:
    """回盘文件查询: the company's return files, shown from the day after the pay date."""
    return (
        ReturnFile.objects.filter(batch__company=company, batch__pay_date__lt=clock.today())
        .select_related("batch", "batch__agreement")
        .order_by("-batch__pay_date", "-id")
    )


def return_file_get(*, company: Company, batch_pk: int) -> ReturnFile:
    """One return file; another company's, or one not yet due, raises ReturnFile.DoesNotExist."""
    return return_files_for_company(company=company).get(batch_id=batch_pk)


def return_file_read(*, return_file: ReturnFile) -> bytes:
    """The sealed bytes as downloaded at the kiosk (still encrypted for the company)."""
    return private_path(RETURNS_AREA, return_file.stored_name).read_bytes()
