"""The pre-validation result pages its errors, 100 a page, with the exact total and the count per code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import payroll_batch_prevalidate
from tests.factories import payroll_file_bytes, payroll_rows

pytestmark = pytest.mark.django_db


def test_errors_come_100_a_page_with_the_total(api_a, our_agent, platform_keys, django_capture_on_commit_callbacks):
    rows = payroll_rows(150, amount=Decimal("60000.00"))  # every row over the agreement's 50,000 single limit
    data = payroll_file_bytes(party=our_agent, rows=rows, bank=platform_keys["bank"])
    with django_capture_on_commit_callbacks(execute=False):
        batch_id = api_a.upload(data).json()["id"]
    payroll_batch_prevalidate(batch_id=batch_id)
    assert PayrollBatch.objects.get(pk=batch_id).status == BatchStatus.INVALID

    first = api_a.get(f"/batches/{batch_id}/result/").json()
    second = api_a.get(f"/batches/{batch_id}/result/", QUERY_STRING="page=2").json()
    assert (first["error_total"], first["errors_kept"], first["page_size"]) == (150, 150, 100)
    assert sum(first["error_codes"].values()) == 150
    assert (len(first["errors"]), len(second["errors"]), second["page"]) == (100, 50, 2)
    assert [e["row"] for e in first["errors"] + second["errors"]] == list(range(1, 151))
    assert api_a.get(f"/batches/{batch_id}/result/", QUERY_STRING="page=3").json()["errors"] == []
    refused = api_a.get(f"/batches/{batch_id}/result/", QUERY_STRING="page=0")
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (400, "invalid_parameter", "page")
