from __future__ import annotations

import re

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


def return_download_name(return_file: ReturnFile) -> str:
    """RET_<batch number>_<pay date>.p7m: the agent finds the right file on the USB drive by what
    the checklist and the client print (ASCII only, so every browser keeps the name)."""
    batch = return_file.batch
    batch_no = re.sub(r"[^A-Za-z0-9_-]", "_", batch.batch_no or str(batch.pk))
    return f"RET_{batch_no}_{batch.pay_date:%Y%m%d}.p7m"
