"""预校验 of a clean file in chunks (issue 15, P6: the rows are read, checked, matched against the
registry and prepared a chunk at a time, never all held): it records exactly what the whole pass
records; a file it does not recognize as clean is left to the whole pass, which words it.

Chunks of ~200 bytes and registry groups of 3 rows make a 10-row file span several of each."""

from __future__ import annotations

import pytest

from apps.core.files import private_path
from apps.employees.models import Employee
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services import intake
from apps.payroll.services.intake import payroll_batch_prevalidate, payroll_batch_revoke, payroll_batch_submit
from apps.payroll.services.storing import newcomers_path
from payroll_exchange import formats
from tests.factories import CHECK_CODE, payroll_file_bytes, payroll_rows, upload

RECORDED = ("status", "record_count", "total_amount", "expected_fee", "new_employee_count", "new_employees",
            "rows_done", "rows_total", "error_count", "errors", "error_codes", "check_code_hash")


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "_CHUNK_BYTES", 200)
    monkeypatch.setattr(intake, "REGISTRY_CHUNK", 3)
    monkeypatch.setattr(intake, "REGISTRY_CHUNK_MAX", 3)


def _prevalidated(party, data: bytes, django_capture_on_commit_callbacks) -> PayrollBatch:
    with django_capture_on_commit_callbacks():
        batch = payroll_batch_submit(card=party.card, agreement=party.agreement, upload=upload(data))
    payroll_batch_prevalidate(batch_id=batch.pk)
    return PayrollBatch.objects.get(pk=batch.pk)


def _prepared(batch: PayrollBatch) -> tuple[list[bytes], bytes]:
    """The prepared COPY lines without their batch id (a new batch has another), and the newcomers."""
    lines = private_path("validated", batch.stored_name).read_bytes().splitlines()
    return [line.split(b"\t", 1)[1] for line in lines], newcomers_path(batch.stored_name).read_bytes()


@pytest.mark.django_db
def test_a_clean_file_prevalidated_in_chunks_records_what_the_whole_pass_records(
    business_clock, our_agent, platform_keys, small_pieces, monkeypatch, django_capture_on_commit_callbacks
):
    # Given a 10-row file, rows 2, 5 and 9 already registered under the file's names
    rows = payroll_rows(10)
    for r in (rows[1], rows[4], rows[8]):
        Employee.objects.create(company=our_agent.company, account=r.account, name=r.name, id_type=r.id_type,
                                id_number=r.id_number, source="employee_file")
    data = payroll_file_bytes(party=our_agent, rows=rows, bank=platform_keys["bank"], check_code=CHECK_CODE)
    # When it is pre-validated in chunks (the whole pass is not reached), then, revoked, again by the
    # whole pass alone
    with monkeypatch.context() as patched:
        patched.setattr(intake, "_prevalidate_whole", lambda **kwargs: pytest.fail("the whole pass ran"))
        streamed = _prevalidated(our_agent, data, django_capture_on_commit_callbacks)
    streamed_prepared = _prepared(streamed)
    payroll_batch_revoke(batch=streamed, card=our_agent.card)
    monkeypatch.setattr(intake, "_prevalidate_streamed", lambda **kwargs: False)
    whole = _prevalidated(our_agent, data, django_capture_on_commit_callbacks)
    # Then both wait for confirmation with the same figures, new employees and prepared rows
    assert streamed.status == BatchStatus.AWAITING_CONFIRMATION
    assert {f: getattr(streamed, f) for f in RECORDED} == {f: getattr(whole, f) for f in RECORDED}
    assert streamed.new_employee_count == 7
    assert streamed_prepared == _prepared(whole)
    assert streamed_prepared[1] == b"1,3,4,6,7,8,10"
    assert len(streamed_prepared[0]) == 10


@pytest.mark.django_db
def test_a_registry_mismatch_in_a_later_chunk_is_refused_by_the_whole_pass(
    business_clock, our_agent, platform_keys, small_pieces, django_capture_on_commit_callbacks
):
    # Given a 10-row file whose row 8 account is registered under another name
    rows = payroll_rows(10)
    Employee.objects.create(company=our_agent.company, account=rows[7].account, name="王某某", id_type="0",
                            id_number=rows[7].id_number, source="employee_file")
    data = payroll_file_bytes(party=our_agent, rows=rows, bank=platform_keys["bank"], check_code=CHECK_CODE)
    # When it is pre-validated
    batch = _prevalidated(our_agent, data, django_capture_on_commit_callbacks)
    # Then it is refused for that row alone, and nothing was prepared for storing
    assert batch.status == BatchStatus.INVALID
    assert [(e["code"], e["row"]) for e in batch.errors] == [("registry_name_mismatch", 8)]
    assert batch.error_count == 1
    assert not private_path("validated", batch.stored_name).exists()
    assert not newcomers_path(batch.stored_name).exists()
