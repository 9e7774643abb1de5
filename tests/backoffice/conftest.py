"""Back-office fixtures: staff users in the review groups, logged-in admin clients, stored batches.

Batches are made the way the kiosk makes them (submit → pre-validate → 确认入库 → store), with the
tasks run by calling the services they call.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from apps.payroll.models import PayrollBatch
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_prevalidate, payroll_batch_submit
from apps.payroll.services.review import CLERK_GROUP, SUPERVISOR_GROUP, payroll_review_roles_ensure
from apps.payroll.services.storing import payroll_batch_store
from tests.factories import CHECK_CODE, payroll_file_bytes, payroll_rows, upload

BATCHES = "/admin/payroll/payrollbatch/"


@pytest.fixture
def bank(platform_keys):
    return platform_keys["bank"]


@pytest.fixture
def review_groups(db) -> dict[str, Group]:
    # Migration 0002 made them; a transactional test elsewhere in the run may have flushed them.
    payroll_review_roles_ensure()
    return {"clerk": Group.objects.get(name=CLERK_GROUP), "supervisor": Group.objects.get(name=SUPERVISOR_GROUP)}


def staff_user(django_user_model, username: str, *groups: Group, superuser: bool = False):
    make = django_user_model.objects.create_superuser if superuser else django_user_model.objects.create_user
    user = make(username, password=f"{username}-pw", is_staff=True)
    user.groups.add(*groups)
    return user


@pytest.fixture
def clerk(django_user_model, review_groups):
    return staff_user(django_user_model, "clerk-li", review_groups["clerk"])


@pytest.fixture
def supervisor(django_user_model, review_groups):
    return staff_user(django_user_model, "super-wang", review_groups["supervisor"])


@pytest.fixture
def other_supervisor(django_user_model, review_groups):
    return staff_user(django_user_model, "super-zhao", review_groups["supervisor"])


@pytest.fixture
def superuser(django_user_model):
    return staff_user(django_user_model, "root-admin", superuser=True)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def stored_batch(party, bank, capture, *, rows: int = 3, batch_no: str = "B20261201",
                 pay_date: date = date(2026, 12, 5), start: int = 1) -> PayrollBatch:
    data = payroll_file_bytes(party=party, rows=payroll_rows(rows, start=start), bank=bank, batch_no=batch_no,
                              pay_date=pay_date)
    with capture():
        batch = payroll_batch_submit(card=party.card, agreement=party.agreement, upload=upload(data))
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    with capture():
        payroll_batch_confirm(batch=batch, card=party.card, checklist=CHECK_CODE)
    assert payroll_batch_store(batch_id=batch.pk) is True
    batch.refresh_from_db()
    return batch


def batch_state(batch: PayrollBatch) -> tuple:
    """What a refused action must leave as it was."""
    batch = PayrollBatch.objects.get(pk=batch.pk)
    return (batch.status, batch.held_by, batch.rejected_reason, batch.total_amount, batch.record_count)
