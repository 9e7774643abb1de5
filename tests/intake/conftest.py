from __future__ import annotations

import pytest

from apps.payroll.models import PayrollBatch
from apps.payroll.services.intake import payroll_batch_submit
from tests.factories import payroll_file_bytes, payroll_rows, upload


@pytest.fixture
def bank(platform_keys):
    return platform_keys["bank"]


@pytest.fixture
def submitted(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    """Upload one valid payroll file; its publish after commit is captured, not run."""

    def make(rows=None, **kwargs) -> PayrollBatch:
        data = payroll_file_bytes(party=our_agent, rows=rows or payroll_rows(3), bank=bank, **kwargs)
        with django_capture_on_commit_callbacks():
            return payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))

    return make
