"""The API's two extension points. Upload kinds: POST /files/ with ``kind`` dispatches to a file
kind of the intake pipeline through its own submit service (another kind, e.g. an ISO 20022
pain.001, registers here). Return documents: what is offered per returned batch (the return file
today; a status report may join it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from apps.employees.services import employee_file_submit
from apps.payroll.services.intake import payroll_batch_submit
from apps.returns.models import ReturnFile


@dataclass(frozen=True)
class UploadKind:
    name: str
    submit: Callable[..., object]  # (*, actor, agreement, upload) -> the new record
    detail_route: str  # URL name of the record's status
    label_en: str


UPLOAD_KINDS: dict[str, UploadKind] = {}
RETURN_DOCUMENTS: list[Callable[[ReturnFile], dict | None]] = []


def upload_kind_register(kind: UploadKind) -> None:
    UPLOAD_KINDS[kind.name] = kind


def return_document_register(offer: Callable[[ReturnFile], dict | None]) -> None:
    RETURN_DOCUMENTS.append(offer)


def return_documents(return_file: ReturnFile) -> list[dict]:
    return [doc for offer in RETURN_DOCUMENTS if (doc := offer(return_file)) is not None]


def _return_file_document(return_file: ReturnFile) -> dict:
    from apps.returns.selectors import return_download_name

    return {"kind": "return_file", "name": return_download_name(return_file), "media_type": "application/pkcs7-mime",
            "url": reverse("h2h:return_download", kwargs={"batch_pk": return_file.batch_id})}


def _pain002_document(return_file: ReturnFile) -> dict | None:
    from apps.returns.pain002 import pain002_available, pain002_download_name

    batch = return_file.batch
    if not pain002_available(batch=batch):
        return None
    return {"kind": "pain002", "name": pain002_download_name(batch=batch), "media_type": "application/xml",
            "url": reverse("h2h:batch_pain002", kwargs={"pk": batch.pk})}


upload_kind_register(UploadKind("payroll", payroll_batch_submit, "h2h:batch", "payroll file"))
# An ISO 20022 pain.001 in its own envelope kind: the payroll slot opens it (apps/payroll/pain001_kind.py).
upload_kind_register(UploadKind("pain001", payroll_batch_submit, "h2h:batch", "ISO 20022 pain.001 payroll file"))
upload_kind_register(UploadKind("employees", employee_file_submit, "h2h:employee_file", "employee file"))
return_document_register(_return_file_document)
return_document_register(_pain002_document)
