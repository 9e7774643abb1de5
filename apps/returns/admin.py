"""Back office: return files (回盘文件), read-only. They are produced by the return-file job,
signed by the bank and encrypted for the company; the bank cannot open them, so staff see the
totals the job recorded."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin_pages import ReadOnlyAdmin
from apps.returns.models import ReturnFile


@admin.register(ReturnFile)
class ReturnFileAdmin(ReadOnlyAdmin):
    list_display = ("file_id", "batch", "company", "business_date", "record_count", "success_count", "success_amount",
                    "failure_count", "failure_amount", "fee_charged", "created_at")
    list_filter = (("business_date", admin.DateFieldListFilter),)
    search_fields = ("=file_id", "batch__batch_no", "batch__company__name")
    list_select_related = ("batch", "batch__company")
    raw_id_fields = ("batch",)
    exclude = ("stored_name",)
    list_per_page = 50

    @admin.display(description=_("企业"), ordering="batch__company__name")
    def company(self, obj: ReturnFile) -> str:
        return obj.batch.company.name
