"""The payroll file kind, registered with the intake pipeline at start (PayrollConfig.ready)."""

from __future__ import annotations

from apps.intake.kinds import FileKind
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import KIND, payroll_prevalidate_step
from apps.payroll.services.storing import payroll_store_step
from apps.payroll.services.transitions import TRANSITIONS

PAYROLL_FILE_KIND = FileKind(
    name=KIND, model=PayrollBatch, transitions=TRANSITIONS,
    steps={BatchStatus.VALIDATING: payroll_prevalidate_step, BatchStatus.STORING: payroll_store_step},
    error_status=BatchStatus.ERROR, label_zh="代发工资文件", label_en="payroll file",
)
