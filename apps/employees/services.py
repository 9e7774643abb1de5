"""提交员工信息: upload an employee info file, open it in the background, let the agent look at
its rows, then 确认入库 applies the adds or deletes to the company's registry (or cancel)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F

from apps.agreements.models import Agreement
from apps.agreements.services import agreement_in_term, bank_identity, trust_store
from apps.cards.models import ServiceCard
from apps.cards.services import card_actor
from apps.core import clock
from apps.core.files import private_file_write, private_path
from apps.core.hours import service_hours_require
from apps.core.services import audit_record
from apps.employees.models import Employee, EmployeeFile, EmployeeFileRow
from apps.employees.selectors import registry_names
from apps.payroll.errors import BatchStateError
from apps.payroll.services.sweeper import stuck_requeue
from apps.payroll.services.transitions import state_transition
from apps.payroll.services.uploads import UPLOADS, upload_accept
from payroll_exchange.checks import employee_check
from payroll_exchange.envelope import envelope_open
from payroll_exchange.errors import ExchangeError, RowError
from payroll_exchange.formats import employee_load

S = EmployeeFile.Status
REPORTS = "reports"
SCREEN_ERRORS = 200

# action: (from states, to state) — the employee file's own state machine.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "refuse": ((S.VALIDATING,), S.INVALID),
    "await_confirmation": ((S.VALIDATING,), S.AWAITING_CONFIRMATION),
    "confirm": ((S.AWAITING_CONFIRMATION,), S.STORING),
    "store": ((S.STORING,), S.STORED),
    "cancel": ((S.AWAITING_CONFIRMATION,), S.CANCELLED),
}


def employee_file_transition(*, pk: int, action: str, **fields) -> None:
    state_transition(model=EmployeeFile, transitions=TRANSITIONS, pk=pk, action=action, **fields)


def employee_file_submit(*, card: ServiceCard, agreement: Agreement, upload: UploadedFile) -> EmployeeFile:
    """提交员工信息: the file is kept and recorded; opening it starts once this commits."""
    from apps.employees.tasks import employee_file_open_task

    return upload_accept(model=EmployeeFile, card=card, agreement=agreement, upload=upload,
                         action="employee_file_submit", task=employee_file_open_task)


def _refuse(*, employee_file: EmployeeFile, errors: list[RowError], **fields) -> None:
    data = json.dumps([asdict(e) for e in errors], ensure_ascii=False).encode("utf-8")
    private_file_write(area=REPORTS, name=f"{employee_file.stored_name}.errors.json", data=data)
    try:
        employee_file_transition(pk=employee_file.pk, action="refuse", error_count=len(errors),
                                 refusal_code=errors[0].code, errors=[asdict(e) for e in errors[:SCREEN_ERRORS]],
                                 **fields)
    except BatchStateError:
        if EmployeeFile.objects.filter(pk=employee_file.pk, status=S.VALIDATING).exists():
            raise


def employee_file_open(*, file_id: int) -> None:
    """Open and check an employee file. Safe to run twice (only a file still validating is worked on)."""
    employee_file = EmployeeFile.objects.select_related("agreement__certificate").get(pk=file_id)
    if employee_file.status != S.VALIDATING:
        return
    EmployeeFile.objects.filter(pk=file_id, status=S.VALIDATING).update(attempts=F("attempts") + 1)
    agreement = employee_file.agreement
    now = clock.now()
    data = private_path(UPLOADS, employee_file.stored_name).read_bytes()
    try:
        opened = envelope_open(data=data, recipient=bank_identity(), trust=trust_store(now=now), now=now,
                               expected_kind="employees", expected_signer=agreement.certificate.fingerprint)
        parsed, errors = employee_load(opened.payload)
    except ExchangeError as exc:
        _refuse(employee_file=employee_file,
                errors=[RowError(exc.code, None, None, exc.zh, exc.en), *exc.errors])
        return
    header = parsed.header
    fields = {"file_id": opened.file_id, "digest": opened.digest, "operation": header.operation,
              "record_count": len(parsed.rows)}
    if not agreement_in_term(agreement=agreement, day=now.date()):
        errors.insert(0, RowError("agreement_out_of_term", None, None,
                                  f"协议 {agreement.number} 不在有效期内，请联系银行续签协议。",
                                  f"Agreement {agreement.number} is outside its term; contact the bank."))
    if header.agreement_no != agreement.number or header.payer_unit_no != agreement.payer_unit_no:
        errors.insert(0, RowError("agreement_mismatch", None, "agreement_no",
                                  f"文件属于协议 {header.agreement_no}，与所选协议 {agreement.number} 不符，"
                                  "请选择正确的协议。",
                                  f"The file belongs to agreement {header.agreement_no}, not {agreement.number}; "
                                  "choose the right agreement."))
    errors += employee_check(employees=parsed, today=now.date())
    known = registry_names(company_id=employee_file.company_id, accounts=(r.account for r in parsed.rows))
    for r in parsed.rows:
        registered = known.get(r.account)
        if header.operation == "add" and registered is not None and registered != r.name:
            errors.append(RowError("registry_name_mismatch", r.seq, "name",
                                   f"第 {r.seq} 行 户名：该账号已登记为“{registered}”，与“{r.name}”不一致，请核对。",
                                   f"Row {r.seq}, name: the account is registered as '{registered}', "
                                   f"not '{r.name}'; check it."))
        if header.operation == "delete" and registered is None:
            errors.append(RowError("registry_unknown_account", r.seq, "account",
                                   f"第 {r.seq} 行 账号：员工登记中没有该账号，无法删除，请核对。",
                                   f"Row {r.seq}, account: the registry has no such account to delete; check it."))
    if errors:
        _refuse(employee_file=employee_file, errors=errors, **fields)
        return
    with transaction.atomic():
        EmployeeFileRow.objects.filter(file_id=file_id).delete()  # a rerun replaces, never doubles
        EmployeeFileRow.objects.bulk_create(
            [EmployeeFileRow(file_id=file_id, seq=r.seq, id_type=r.id_type, id_number=r.id_number, name=r.name,
                             account=r.account) for r in parsed.rows],
            batch_size=5000,
        )
        try:
            with transaction.atomic():
                employee_file_transition(pk=file_id, action="await_confirmation", error_count=0, errors=[],
                                         **fields)
        except IntegrityError:
            EmployeeFileRow.objects.filter(file_id=file_id).delete()
            _refuse(employee_file=employee_file,
                    errors=[RowError("file_already_submitted", None, None, "同一文件已经提交过，无需重复提交。",
                                     "This same file was already submitted.")], **fields)


def employee_file_confirm(*, employee_file: EmployeeFile, card: ServiceCard) -> None:
    """确认入库."""
    from apps.employees.tasks import employee_file_store_task

    service_hours_require()
    if employee_file.company_id != card.company_id:
        raise EmployeeFile.DoesNotExist
    with transaction.atomic():
        employee_file_transition(pk=employee_file.pk, action="confirm")
        audit_record(actor_kind="card", actor=card_actor(card), action="employee_file_confirm", obj=employee_file,
                     company_id=card.company_id)
        transaction.on_commit(lambda: employee_file_store_task.delay(employee_file.pk))


def employee_file_cancel(*, employee_file: EmployeeFile, card: ServiceCard) -> None:
    service_hours_require()
    if employee_file.company_id != card.company_id:
        raise EmployeeFile.DoesNotExist
    with transaction.atomic():
        employee_file_transition(pk=employee_file.pk, action="cancel")
        audit_record(actor_kind="card", actor=card_actor(card), action="employee_file_cancel", obj=employee_file,
                     company_id=card.company_id)


def employee_file_store(*, file_id: int) -> bool:
    """Apply a confirmed file to the registry, once: rows, registry and status in one transaction."""
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


def employee_files_requeue_stuck(*, older_than: timedelta | None = None) -> list[int]:
    """Requeue employee files left validating or storing (a killed worker, a lost message)."""
    from apps.employees.tasks import employee_file_open_task, employee_file_store_task

    return stuck_requeue(model=EmployeeFile, older_than=older_than,
                         tasks={S.VALIDATING: employee_file_open_task, S.STORING: employee_file_store_task})
