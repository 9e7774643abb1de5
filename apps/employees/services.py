"""提交员工信息, the employee file kind of the intake pipeline (apps/intake): upload, open it in
the background, let the agent look at its rows, then 确认入库 applies the adds or deletes to the
company's registry (or cancel)."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from apps.agreements.models import Agreement
from apps.cards.models import ServiceCard
from apps.core import clock
from apps.core.services import audit_record
from apps.employees.models import Employee, EmployeeFile, EmployeeFileRow
from apps.employees.selectors import registry_names
from apps.intake.actors import Actor, actor_of
from apps.intake.kinds import FileKind
from apps.intake.reports import ErrorTally, intake_refuse
from apps.intake.steps import signed_file_load
from apps.intake.transitions import Transitions, pipeline_transitions, state_transition
from apps.intake.uploads import upload_accept, work_queue_after_confirm
from apps.intake.work import DONE, Work, intake_work_run
from payroll_exchange.checks import employee_check
from payroll_exchange.errors import RowError
from payroll_exchange.formats import employee_load

KIND = "employees"
S = EmployeeFile.Status

# action: (from states, to state) — the employee file's own state machine.
TRANSITIONS: Transitions = {
    "refuse": ((S.VALIDATING,), S.INVALID),
    "await_confirmation": ((S.VALIDATING,), S.AWAITING_CONFIRMATION),
    "confirm": ((S.AWAITING_CONFIRMATION,), S.STORING),
    "store": ((S.STORING,), S.STORED),
    "cancel": ((S.AWAITING_CONFIRMATION,), S.CANCELLED),
    **pipeline_transitions(validating=S.VALIDATING, storing=S.STORING, error=S.ERROR),
}


def employee_file_transition(*, pk: int, action: str, **fields) -> None:
    state_transition(model=EmployeeFile, transitions=TRANSITIONS, pk=pk, action=action, **fields)


def employee_file_submit(*, card: ServiceCard | None = None, agreement: Agreement, upload: UploadedFile,
                         actor: Actor | None = None) -> EmployeeFile:
    """提交员工信息: the file is kept and recorded; opening it starts once this commits."""
    return upload_accept(kind=KIND, card=card, actor=actor, agreement=agreement, upload=upload,
                         action="employee_file_submit")


def employee_file_open(*, file_id: int) -> bool:
    """Open and check an employee file through the pipeline (claim, attempts). Safe to run twice."""
    return intake_work_run(kind=KIND, pk=file_id, status=S.VALIDATING) == DONE


def employee_file_store(*, file_id: int) -> bool:
    """Apply a confirmed file to the registry through the pipeline; False if nothing to do."""
    return intake_work_run(kind=KIND, pk=file_id, status=S.STORING) == DONE


def _registry_problems(*, company_id: int, operation: str, rows, errors: ErrorTally) -> None:
    known = registry_names(company_id=company_id, accounts=(r.account for r in rows))
    for r in rows:
        registered = known.get(r.account)
        if operation == "add" and registered is not None and registered != r.name:
            errors.append(RowError("registry_name_mismatch", r.seq, "name",
                                   f"第 {r.seq} 行 户名：该账号已登记为“{registered}”，与“{r.name}”不一致，请核对。",
                                   f"Row {r.seq}, name: the account is registered as '{registered}', "
                                   f"not '{r.name}'; check it."))
        if operation == "delete" and registered is None:
            errors.append(RowError("registry_unknown_account", r.seq, "account",
                                   f"第 {r.seq} 行 账号：员工登记中没有该账号，无法删除，请核对。",
                                   f"Row {r.seq}, account: the registry has no such account to delete; check it."))


def employee_file_open_step(work: Work) -> None:
    """The validating step: open, check the rows and the registry, keep the rows for 查看."""
    employee_file = EmployeeFile.objects.select_related("agreement__certificate").get(pk=work.pk)
    now = clock.now()
    loaded = signed_file_load(work=work, record=employee_file, envelope_kind="employees", loader=employee_load,
                              now=now)
    if loaded is None:
        return
    parsed, tally, identity = loaded.parsed, loaded.tally, loaded.identity
    header = parsed.header
    fields = {**identity, "operation": header.operation, "record_count": len(parsed.rows)}
    work.progress()
    employee_check(employees=parsed, today=now.date(), errors=tally)
    _registry_problems(company_id=employee_file.company_id, operation=header.operation, rows=parsed.rows,
                       errors=tally)
    if tally:
        intake_refuse(kind=work.kind, pk=work.pk, tally=tally, **fields)
        return
    with transaction.atomic():
        EmployeeFileRow.objects.filter(file_id=work.pk).delete()  # a rerun replaces, never doubles
        EmployeeFileRow.objects.bulk_create(
            [EmployeeFileRow(file_id=work.pk, seq=r.seq, id_type=r.id_type, id_number=r.id_number, name=r.name,
                             account=r.account) for r in parsed.rows],
            batch_size=5000,
        )
        try:
            with transaction.atomic():
                employee_file_transition(pk=work.pk, action="await_confirmation", error_count=0, errors=[],
                                         error_codes={}, **fields)
        except IntegrityError:
            EmployeeFileRow.objects.filter(file_id=work.pk).delete()
            intake_refuse(kind=work.kind, pk=work.pk, tally=ErrorTally.of([RowError(
                "file_already_submitted", None, None, "同一文件已经提交过，无需重复提交。",
                "This same file was already submitted.")]), **fields)


def employee_file_confirm(*, employee_file: EmployeeFile, card: ServiceCard | None = None,
                          actor: Actor | None = None) -> bool | None:
    """确认入库. Returns whether the broker took the storing work (False: the sweeper queues it)."""
    actor = actor_of(card=card, actor=actor)
    actor.hours_require()
    if employee_file.company_id != actor.company_id:
        raise EmployeeFile.DoesNotExist
    with transaction.atomic():
        employee_file_transition(pk=employee_file.pk, action="confirm")
        audit_record(actor_kind=actor.kind, actor=actor.name, action="employee_file_confirm", obj=employee_file,
                     company_id=actor.company_id)
        enqueued = work_queue_after_confirm(kind=KIND, pk=employee_file.pk)
    return enqueued.ok


def employee_file_cancel(*, employee_file: EmployeeFile, card: ServiceCard | None = None,
                         actor: Actor | None = None) -> None:
    actor = actor_of(card=card, actor=actor)
    actor.hours_require()
    if employee_file.company_id != actor.company_id:
        raise EmployeeFile.DoesNotExist
    with transaction.atomic():
        employee_file_transition(pk=employee_file.pk, action="cancel")
        audit_record(actor_kind=actor.kind, actor=actor.name, action="employee_file_cancel", obj=employee_file,
                     company_id=actor.company_id)


def employee_file_store_step(work: Work) -> bool:
    """The storing step: rows, registry and status in one transaction, once."""
    file_id = work.pk
    work.progress()
    with transaction.atomic():
        employee_file = EmployeeFile.objects.select_for_update().get(pk=file_id)
        if employee_file.status != S.STORING:
            return False
        rows = list(EmployeeFileRow.objects.filter(file_id=file_id).values_list("account", "name", "id_type",
                                                                                 "id_number"))
        if employee_file.operation == EmployeeFile.Operation.ADD:
            Employee.objects.bulk_create(
                [Employee(company_id=employee_file.company_id, account=a, name=n, id_type=t, id_number=i,
                          source=f"employee_file:{file_id}") for a, n, t, i in rows],
                batch_size=5000,
                ignore_conflicts=True,  # an account already registered under the same name stays as it is
            )
        else:
            Employee.objects.filter(
                company_id=employee_file.company_id, removed_at__isnull=True, account__in=[a for a, *_ in rows]
            ).update(removed_at=clock.now())
        employee_file_transition(pk=file_id, action="store")
        audit_record(actor_kind="system", actor="employee_store", action="employee_file_stored", obj=employee_file,
                     company_id=employee_file.company_id,
                     detail={"operation": employee_file.operation, "rows": len(rows)})
    return True


EMPLOYEE_FILE_KIND = FileKind(
    name=KIND, model=EmployeeFile, transitions=TRANSITIONS,
    steps={S.VALIDATING: employee_file_open_step, S.STORING: employee_file_store_step},
    error_status=S.ERROR, label_zh="员工信息盘片", label_en="employee file",
)
