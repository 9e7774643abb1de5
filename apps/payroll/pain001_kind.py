"""ISO 20022 pain.001.001.09 through the payroll slot (issue 14): the envelope's own kind ``pain001``,
opened where a payroll file is (payroll_exchange.envelope.ALSO_OPENS), read by the pure core into
our payroll file, then the SAME pre-validation, 确认入库 and storing as a payroll file.

The XML names no agreement: the agreement is the one bound to the signer (the envelope's check),
and DbtrAcct must be its settlement account. A row without Cdtr/Id takes its ID from the
employee registry (an ERP paying known employees need not repeat their IDs); a new employee
without one is refused by the payroll row checks like an empty ID."""

from __future__ import annotations

from collections.abc import Callable

from apps.employees.models import Employee
from apps.employees.selectors import REGISTRY_CHUNK
from apps.intake.steps import signed_loader_register
from apps.payroll.models import PayrollBatch
from payroll_exchange.errors import ErrorSink
from payroll_exchange.iso20022 import pain001_read
from payroll_exchange.records import PayrollFile, PayrollRow

KIND = "pain001"


def _registry_ids_fill(*, company_id: int, rows: list[PayrollRow]) -> None:
    missing = [r for r in rows if not r.id_type and not r.id_number and r.account]
    for start in range(0, len(missing), REGISTRY_CHUNK):
        chunk = missing[start : start + REGISTRY_CHUNK]
        known = {account: (id_type, id_number) for account, id_type, id_number in Employee.objects.filter(
            company_id=company_id, removed_at__isnull=True, account__in=[r.account for r in chunk],
        ).values_list("account", "id_type", "id_number")}
        for r in chunk:
            if r.account in known:
                r.id_type, r.id_number = known[r.account]


def pain001_loader(batch: PayrollBatch) -> Callable[..., tuple[PayrollFile, ErrorSink]]:
    """The loader the validating step uses for a pain001 envelope of ``batch``."""
    agreement = batch.agreement

    def load(data: bytes, *, errors: ErrorSink | None = None) -> tuple[PayrollFile, ErrorSink]:
        from apps.returns.models import Pain001Source

        payroll, sink, info = pain001_read(data, agreement_no=agreement.number, payer_unit_no=agreement.payer_unit_no,
                                           settlement_account=agreement.settlement_account, errors=errors)
        # What its pain.002 answers to, kept whatever the outcome (a refused file gets its RJCT).
        Pain001Source.objects.update_or_create(batch_id=batch.pk, defaults={
            "msg_id": info.msg_id[:35], "end_to_end_ids": info.end_to_end_ids})
        _registry_ids_fill(company_id=batch.company_id, rows=payroll.rows)
        return payroll, sink

    return load


def pain001_kind_register() -> None:
    signed_loader_register(KIND, pain001_loader)
