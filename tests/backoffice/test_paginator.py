"""The estimating paginator on its own, and the review groups the migration makes."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.core.admin_paginator import EstimatedCountPaginator
from apps.core.models import AuditEvent
from apps.payroll.services.review import CLERK_GROUP, SUPERVISOR_GROUP

pytestmark = pytest.mark.django_db


def events(count: int) -> None:
    from apps.core.services import audit_record

    for i in range(count):
        audit_record(actor_kind="system", actor="test", action=f"a{i % 3}")


def test_small_tables_and_filtered_lists_are_counted_exactly(business_clock):
    events(7)
    assert EstimatedCountPaginator(AuditEvent.objects.order_by("pk"), 5).count == 7
    assert EstimatedCountPaginator(AuditEvent.objects.filter(action="a0").order_by("pk"), 5).count == 3


def test_a_filtered_count_stops_at_the_cap(business_clock):
    events(12)
    paginator = EstimatedCountPaginator(AuditEvent.objects.filter(actor="test").order_by("pk"), 5)
    paginator.count_cap = 10
    assert paginator.count == 10
    assert paginator.num_pages == 2


def test_an_unfiltered_large_table_uses_the_planner_estimate(business_clock, django_assert_num_queries):
    events(30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_auditevent")
    paginator = EstimatedCountPaginator(AuditEvent.objects.order_by("pk"), 5)
    paginator.estimate_from = 20
    with django_assert_num_queries(1) as captured:
        assert paginator.count == 30
    assert "pg_class" in captured.captured_queries[0]["sql"]


def test_the_review_groups_carry_exactly_their_permissions(db):
    from django.contrib.auth.models import Group

    from apps.payroll.services.review import payroll_review_roles_ensure

    # A transactional test earlier in the run may have flushed what the migration made; the
    # service the migration's data mirrors restores it, and running it twice changes nothing.
    payroll_review_roles_ensure()
    payroll_review_roles_ensure()
    groups = {g.name: set(g.permissions.values_list("codename", flat=True))
              for g in Group.objects.filter(name__in=[CLERK_GROUP, SUPERVISOR_GROUP])}
    assert groups == {
        CLERK_GROUP: {"view_payrollbatch", "view_payrollrow", "hold_payrollbatch"},
        SUPERVISOR_GROUP: {"view_payrollbatch", "view_payrollrow", "hold_payrollbatch", "release_payrollbatch"},
    }
