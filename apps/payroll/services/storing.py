"""Storing a confirmed batch (入库): every row in one bulk write, new employees into the registry,
then 成功 — all in one transaction, so a rerun or a killed worker can never store twice.

Pre-validation prepares what storing reads (validated/<stored_name>: the rows as COPY text;
validated/<stored_name>.new: the seqs of the rows whose account was new), and records their
digest; storing checks it, streams the rows into COPY and registers the new accounts by seq."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.core.files import private_path
from apps.core.services import audit_record
from apps.employees.models import Employee
from apps.employees.selectors import registry_names
from apps.intake.work import DONE, Work, intake_work_run
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.payroll.services.corrections import CorrectionRowsTaken, correction_links_activate, correction_store_refuse
from apps.payroll.services.transitions import batch_transition
from payroll_exchange.formats import payroll_load
from payroll_exchange.records import PayrollRow as FileRow

ROW_COLUMNS = ("batch_id", "seq", "account", "name", "amount", "id_type", "id_number", "remark", "result_code",
               "result_message")


# COPY text format: a backslash, tab, newline or carriage return in a value must be escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(*, batch_id: int, rows: list[FileRow]) -> str:
    """The rows as one COPY text buffer. Formatting the buffer in one pass and sending it with one
    write is ~0.3 s faster on 100k rows than write_row per row (benchmarks/bench_intake.py)."""
    text = "".join([
        f"{batch_id}\t{r.seq}\t{r.account}\t{r.name}\t{r.amount}\t{r.id_type}\t{r.id_number}\t{r.remark}\t\t\n"
        for r in rows
    ])
    # A value needs escaping only if it holds one of the four characters; then the buffer holds
    # more tabs or newlines than the row structure puts there, or a backslash or CR at all.
    if (text.count("\t") == 9 * len(rows) and text.count("\n") == len(rows) and "\\" not in text
            and "\r" not in text):
        return text
    return "".join([
        "\t".join((str(batch_id), str(r.seq), r.account.translate(_COPY_ESCAPES), r.name.translate(_COPY_ESCAPES),
                   str(r.amount), r.id_type.translate(_COPY_ESCAPES), r.id_number.translate(_COPY_ESCAPES),
                   r.remark.translate(_COPY_ESCAPES), "", "")) + "\n"
        for r in rows
    ])


# Rows per chunk of prepared COPY text: the text of 1M rows made at once was a list of 1M strings,
# their join and its encoding, ~450 MB at the worker's peak; chunks of 10k rows are ~1 MB each.
PREPARE_CHUNK = 10_000
# Bytes per read of the prepared file at storing: it is streamed into COPY, never read whole.
STORE_BLOCK = 1 << 20


def payroll_rows_prepare(*, batch_id: int, payload: bytes, rows: list[FileRow]) -> Iterator[bytes]:
    """What the storing task will read, made at pre-validation while the rows are parsed anyway:
    on PostgreSQL the COPY text itself (storing then neither decrypts nor parses), chunk by chunk,
    elsewhere the verified plain file."""
    if connection.vendor != "postgresql":
        yield payload
        return
    for start in range(0, len(rows), PREPARE_CHUNK):
        yield _copy_text(batch_id=batch_id, rows=rows[start : start + PREPARE_CHUNK]).encode("utf-8")


def prepared_blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(STORE_BLOCK):
            yield block


def newcomers_path(stored_name: str) -> Path:
    """Beside the prepared rows: the seqs of the rows whose account the registry did not hold at
    pre-validation, comma-separated (absent for a batch prepared before it existed)."""
    return private_path("validated", f"{stored_name}.new")


def prepared_digest(*, rows: Iterable[bytes], newcomer_seqs: bytes | None) -> str:
    """rows_digest: SHA-256 of the prepared rows, then (when there are any) of the newcomer seqs."""
    digest = hashlib.sha256()
    for block in rows:
        digest.update(block)
    if newcomer_seqs is not None:
        digest.update(b"\0" + newcomer_seqs)
    return digest.hexdigest()


def _rows_copy(*, batch_id: int, prepared: Path) -> int:
    """Write the prepared rows; return how many."""
    if connection.vendor == "postgresql":
        # COPY is the fastest bulk path into PostgreSQL: one statement for all rows, the file
        # streamed into it a block at a time (1M rows are ~100 MB of text).
        lines = 0
        with connection.cursor() as cursor, cursor.copy(
            f"COPY {PayrollRow._meta.db_table} ({', '.join(ROW_COLUMNS)}) FROM STDIN"
        ) as copy:
            for block in prepared_blocks(prepared):
                copy.write(block)
                lines += block.count(b"\n")
        return lines
    payroll, errors = payroll_load(prepared.read_bytes())
    if errors:
        raise RuntimeError(f"batch {batch_id}: the validated file no longer parses")
    rows = payroll.rows
    PayrollRow.objects.bulk_create(
        [PayrollRow(batch_id=batch_id, seq=r.seq, account=r.account, name=r.name, amount=r.amount,
                    id_type=r.id_type, id_number=r.id_number, remark=r.remark) for r in rows],
        batch_size=2000,
    )
    return len(rows)


_NEWCOMERS_INSERT = (
    f"INSERT INTO {Employee._meta.db_table} (company_id, account, name, id_type, id_number, added_at, source)"  # noqa: S608
    " SELECT %(company)s, r.account, r.name, r.id_type, r.id_number, %(now)s, %(source)s"
    f" FROM {PayrollRow._meta.db_table} r WHERE r.batch_id = %(batch)s"
)
# The rows of the new employees, found at pre-validation (the registry match), by seq.
_NEWCOMERS_SQL = _NEWCOMERS_INSERT + " AND r.seq = ANY(string_to_array(%(seqs)s, ',')::int[])"
_NEWCOMERS_UPSERT_SQL = _NEWCOMERS_INSERT + " ON CONFLICT DO NOTHING"


def _newcomers_register(*, batch: PayrollBatch, newcomer_seqs: str | None) -> int:
    """Add the accounts of the batch the registry did not hold at pre-validation (the 新增员工
    the agent confirmed); return how many were added. Another file may have registered the same
    account meanwhile; the registry keeps one."""
    source = f"payroll:{batch.batch_no}"
    if connection.vendor == "postgresql":
        params = {"company": batch.company_id, "now": timezone.now(), "source": source, "batch": batch.pk,
                  "seqs": newcomer_seqs or ""}
        # The rows were just copied in: one INSERT ... SELECT of the new half from them, picked
        # by seq through the (batch, seq) index, and no ON CONFLICT. Upserting every row, a
        # speculative insertion per row with half of them conflicts, cost 0.55 s of backend CPU on
        # 100k rows; this 0.30 s (benchmarks/bench_intake.py, P2). A join against the registry
        # instead left the plan to the statistics: on a freshly loaded table the planner chose a
        # nested loop over a scan of the registry, 37 s for 20k rows (tests/faults/test_storing_kills).
        if newcomer_seqs is None:  # prepared before the newcomers file existed: every row, upserted
            with connection.cursor() as cursor:
                cursor.execute(_NEWCOMERS_UPSERT_SQL, params)
                return cursor.rowcount
        try:
            with transaction.atomic(), connection.cursor() as cursor:  # a savepoint for the fallback
                cursor.execute(_NEWCOMERS_SQL, params)
                return cursor.rowcount
        except IntegrityError:
            # Another file registered one of them since: the same rows, skipping the known ones.
            with connection.cursor() as cursor:
                cursor.execute(_NEWCOMERS_SQL + " ON CONFLICT DO NOTHING", params)
                return cursor.rowcount
    rows = list(PayrollRow.objects.filter(batch_id=batch.pk).values_list("account", "name", "id_type", "id_number"))
    known = registry_names(company_id=batch.company_id, accounts=(account for account, *_ in rows))
    newcomers = {account: (account, name, id_type, id_number) for account, name, id_type, id_number in rows
                 if account not in known}
    Employee.objects.bulk_create(
        [Employee(company_id=batch.company_id, account=a, name=n, id_type=t, id_number=i, source=source)
         for a, n, t, i in newcomers.values()],
        batch_size=5000,
        ignore_conflicts=True,
    )
    return len(newcomers)


def payroll_batch_store(*, batch_id: int) -> bool:
    """入库 through the pipeline (claim, attempts): what the worker runs. Returns False when there
    was nothing to do (already stored by an earlier run, or not confirmed)."""
    return intake_work_run(kind="payroll", pk=batch_id, status=BatchStatus.STORING) == DONE


def payroll_store_step(work: Work) -> bool:
    """The storing step of a batch the agent confirmed."""
    batch_id = work.pk
    batch = PayrollBatch.objects.get(pk=batch_id)
    if batch.status != BatchStatus.STORING:
        return False
    prepared = private_path("validated", batch.stored_name)
    newcomers = newcomers_path(batch.stored_name)
    newcomer_seqs = newcomers.read_bytes() if newcomers.exists() else None
    # Checked whole before a single row is written (a first read, from the page cache: ~10 ms per
    # 100k rows), then streamed into COPY.
    if prepared_digest(rows=prepared_blocks(prepared), newcomer_seqs=newcomer_seqs) != batch.rows_digest:
        raise RuntimeError(f"batch {batch_id}: the prepared rows no longer match their digest")
    work.progress()
    try:
        return _store(batch_id=batch_id, prepared=prepared,
                      newcomer_seqs=None if newcomer_seqs is None else newcomer_seqs.decode("ascii"))
    except CorrectionRowsTaken:
        correction_store_refuse(batch_id=batch_id)
        return True


def _store(*, batch_id: int, prepared: Path, newcomer_seqs: str | None) -> bool:
    with transaction.atomic():
        # The row lock makes a concurrent second run wait here, then find the batch stored.
        locked = PayrollBatch.objects.select_for_update().get(pk=batch_id)
        if locked.status != BatchStatus.STORING:
            return False
        stored = _rows_copy(batch_id=batch_id, prepared=prepared)
        if stored != locked.record_count:
            raise RuntimeError(f"batch {batch_id}: {stored} rows prepared for {locked.record_count} validated")
        new_employees = _newcomers_register(batch=locked, newcomer_seqs=newcomer_seqs)
        if locked.corrects_id is not None:  # 更正: one effective correction per original row (or roll back)
            correction_links_activate(batch_id=batch_id)
        batch_transition(batch_id=batch_id, action="store", rows_done=stored)
        audit_record(actor_kind="system", actor="payroll_store", action="payroll_stored", obj=locked,
                     company_id=locked.company_id, detail={"rows": stored, "new_employees": new_employees})
    return True
