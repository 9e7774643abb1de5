"""Storing a confirmed batch (入库): every row in one bulk write, new employees into the registry,
then 成功 — all in one transaction, so a rerun or a killed worker can never store twice."""

from __future__ import annotations

from django.db import connection, transaction

from apps.core.files import private_path
from apps.core.services import audit_record
from apps.employees.models import Employee
from apps.employees.selectors import registry_names
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.payroll.services.transitions import batch_transition
from payroll_exchange.formats import file_digest, payroll_load
from payroll_exchange.records import PayrollRow as FileRow

ROW_COLUMNS = ("batch_id", "seq", "account", "name", "amount", "id_type", "id_number", "remark", "result_code",
               "result_message")


def _rows_copy(*, batch_id: int, rows: list[FileRow]) -> None:
    if connection.vendor == "postgresql":
        # COPY is the fastest bulk path into PostgreSQL: one round trip for all rows.
        with connection.cursor() as cursor, cursor.copy(
            f"COPY {PayrollRow._meta.db_table} ({', '.join(ROW_COLUMNS)}) FROM STDIN"
        ) as copy:
            for r in rows:
                copy.write_row((batch_id, r.seq, r.account, r.name, r.amount, r.id_type, r.id_number, r.remark,
                                "", ""))
        return
    PayrollRow.objects.bulk_create(
        [PayrollRow(batch_id=batch_id, seq=r.seq, account=r.account, name=r.name, amount=r.amount,
                    id_type=r.id_type, id_number=r.id_number, remark=r.remark) for r in rows],
        batch_size=2000,
    )


def payroll_batch_store(*, batch_id: int) -> bool:
    """Store a batch the agent confirmed. Returns False when there was nothing to do (already
    stored by an earlier run, or not confirmed)."""
    batch = PayrollBatch.objects.get(pk=batch_id)
    if batch.status != BatchStatus.STORING:
        return False
    payload = private_path("validated", batch.stored_name).read_bytes()
    if file_digest(payload) != batch.digest:
        raise RuntimeError(f"batch {batch_id}: the validated file no longer matches its digest")
    payroll, errors = payroll_load(payload)
    if errors:
        raise RuntimeError(f"batch {batch_id}: the validated file no longer parses")
    rows = payroll.rows
    with transaction.atomic():
        # The row lock makes a concurrent second run wait here, then find the batch stored.
        locked = PayrollBatch.objects.select_for_update().get(pk=batch_id)
        if locked.status != BatchStatus.STORING:
            return False
        known = registry_names(company_id=locked.company_id, accounts=(r.account for r in rows))
        newcomers = {r.account: r for r in rows if r.account not in known}
        Employee.objects.bulk_create(
            [Employee(company_id=locked.company_id, account=r.account, name=r.name, id_type=r.id_type,
                      id_number=r.id_number, source=f"payroll:{locked.batch_no}") for r in newcomers.values()],
            batch_size=5000,
            # Another file may have registered the same account meanwhile; the registry keeps one.
            ignore_conflicts=True,
        )
        _rows_copy(batch_id=batch_id, rows=rows)
        batch_transition(batch_id=batch_id, action="store")
        audit_record(actor_kind="system", actor="payroll_store", action="payroll_stored", obj=locked,
                     company_id=locked.company_id, detail={"rows": len(rows), "new_employees": len(newcomers)})
    return True
