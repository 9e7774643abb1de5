"""Bounded work: a file with many bad rows keeps its first 1,000 errors in file order, the exact
total and the count per code; the kiosk and the report say how many more of the same kinds."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from apps.core.files import private_path
from apps.intake.reports import REPORTS, ErrorTally
from apps.payroll.models import BatchStatus
from apps.payroll.services.intake import payroll_batch_prevalidate
from apps.payroll.services.reports import payroll_report_csv, payroll_report_text
from payroll_exchange.errors import RowError
from tests.factories import CARD_PIN, payroll_rows

pytestmark = pytest.mark.django_db


def error(code: str, row: int | None) -> RowError:
    return RowError(code=code, row=row, field=None, zh=code, en=code)


def test_the_tally_keeps_the_first_errors_in_file_order_and_counts_all(settings):
    tally = ErrorTally(keep=3)
    # Found in three passes (loader, checks, registry), not in file order.
    tally.extend([error("a", 9), error("a", 2), error("b", 7), error("c", None), error("b", 1), error("a", 2)])
    assert [(e.code, e.row) for e in tally.kept()] == [("c", None), ("b", 1), ("a", 2)]
    assert tally.total == 6
    assert dict(tally.by_code) == {"a": 3, "b": 2, "c": 1}
    assert ErrorTally().keep == settings.INTAKE_ERRORS_KEPT == 1000


def test_a_file_of_1200_bad_rows_keeps_1000_and_says_how_many_more(submitted, our_agent):
    rows = payroll_rows(1200, amount=Decimal("0.00"))  # every row: amount not positive
    batch = submitted(rows=rows)
    assert payroll_batch_prevalidate(batch_id=batch.pk) is True
    batch.refresh_from_db()

    assert (batch.status, batch.error_count, batch.error_codes) == (
        BatchStatus.INVALID, 1200, {"amount_not_positive": 1200})
    assert len(batch.errors) == 200  # the screen's share, in file order
    assert [e["row"] for e in batch.errors[:3]] == [1, 2, 3]
    stored = json.loads(private_path(REPORTS, f"{batch.stored_name}.errors.json").read_bytes())
    assert (stored["total"], len(stored["kept"]), stored["kept"][-1]["row"]) == (1200, 1000, 1000)

    text = payroll_report_text(batch=batch, language="zh-hans")
    assert "发现 1,200 个错误" in text
    assert "…… 另有 200 条同类错误" in text
    assert "amount_not_positive: 1,200" in text
    assert "… and 200 more of the same kinds" in payroll_report_text(batch=batch, language="en")
    assert "另有 200 条同类错误" in payroll_report_csv(batch=batch).decode("utf-8-sig")

    client = Client()
    client.post("/", {"card": f";{our_agent.card_number}=28121010000000000000?", "pin": CARD_PIN})
    page = client.get(f"/payroll/{batch.pk}/").content.decode()
    assert "…… 另有 1,000 条同类错误" in page  # 200 on the screen, 1,000 more
