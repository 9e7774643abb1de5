"""The review services on their own: roles, four eyes, reason, audit, state table."""

from __future__ import annotations

import pytest

from apps.core.models import AuditEvent
from apps.intake.errors import StateError
from apps.payroll.models import BatchStatus
from apps.payroll.services.review import (
    ReviewRefused,
    payroll_batch_hold,
    payroll_batch_reject,
    payroll_batch_release,
)
from tests.backoffice.conftest import batch_state, staff_user, stored_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(business_clock, our_agent, bank, django_capture_on_commit_callbacks):
    return stored_batch(our_agent, bank, django_capture_on_commit_callbacks)


def test_hold_then_another_supervisor_releases_and_both_are_audited(batch, clerk, supervisor):
    payroll_batch_hold(batch=batch, user=clerk, reason="收款账户待核实")
    assert (batch.status, batch.held_by) == (BatchStatus.HELD, "clerk-li")

    payroll_batch_release(batch=batch, user=supervisor)

    assert (batch.status, batch.held_by) == (BatchStatus.STORED, "")
    events = list(AuditEvent.objects.filter(object_id=str(batch.pk), action__startswith="payroll_h")
                  .values_list("actor_kind", "actor", "action", "detail"))
    assert events == [("staff", "clerk-li", "payroll_hold", {"reason": "收款账户待核实"})]
    release = AuditEvent.objects.get(object_id=str(batch.pk), action="payroll_release")
    assert (release.actor, release.detail, release.company_id) == ("super-wang", {"held_by": "clerk-li"},
                                                                  batch.company_id)


def test_a_clerk_cannot_release_or_reject(batch, clerk):
    payroll_batch_hold(batch=batch, user=clerk)
    before = batch_state(batch)

    with pytest.raises(ReviewRefused) as released:
        payroll_batch_release(batch=batch, user=clerk)
    with pytest.raises(ReviewRefused) as rejected:
        payroll_batch_reject(batch=batch, user=clerk, reason="不该由复核员拒绝")

    assert released.value.code == rejected.value.code == "review_not_permitted"
    assert "代发主管" in released.value.zh
    assert "supervisor" in released.value.en
    assert batch_state(batch) == before
    assert not AuditEvent.objects.filter(action__in=["payroll_release", "payroll_reject"]).exists()


def test_staff_without_a_role_cannot_hold(batch, bank_staff):
    before = batch_state(batch)
    with pytest.raises(ReviewRefused, match="review_not_permitted"):
        payroll_batch_hold(batch=batch, user=bank_staff)
    assert batch_state(batch) == before


def test_a_supervisor_cannot_release_or_reject_their_own_hold(batch, supervisor):
    payroll_batch_hold(batch=batch, user=supervisor)
    before = batch_state(batch)

    with pytest.raises(ReviewRefused) as released:
        payroll_batch_release(batch=batch, user=supervisor)
    with pytest.raises(ReviewRefused) as rejected:
        payroll_batch_reject(batch=batch, user=supervisor, reason="自己暂停自己拒绝")

    assert released.value.code == rejected.value.code == "review_own_hold"
    assert batch_state(batch) == before


def test_the_four_eyes_rule_binds_superusers_too(batch, django_user_model):
    root = staff_user(django_user_model, "root-1", superuser=True)
    payroll_batch_hold(batch=batch, user=root)

    with pytest.raises(ReviewRefused, match="review_own_hold"):
        payroll_batch_release(batch=batch, user=root)
    assert batch_state(batch)[0] == BatchStatus.HELD


def test_reject_needs_a_reason_and_keeps_it(batch, clerk, supervisor):
    before = batch_state(batch)
    with pytest.raises(ReviewRefused, match="reject_reason_required"):
        payroll_batch_reject(batch=batch, user=supervisor, reason="   ")
    assert batch_state(batch) == before

    payroll_batch_hold(batch=batch, user=clerk)
    payroll_batch_reject(batch=batch, user=supervisor, reason="金额与核对清单不符")

    assert (batch.status, batch.rejected_reason) == (BatchStatus.REJECTED, "金额与核对清单不符")
    assert AuditEvent.objects.get(action="payroll_reject").detail == {"reason": "金额与核对清单不符"}


def test_reject_straight_from_stored(batch, supervisor):
    payroll_batch_reject(batch=batch, user=supervisor, reason="企业申请撤回")
    assert batch.status == BatchStatus.REJECTED


def test_the_state_table_still_decides(batch, clerk, supervisor, other_supervisor):
    with pytest.raises(StateError):
        payroll_batch_release(batch=batch, user=supervisor)  # stored, not held
    payroll_batch_hold(batch=batch, user=clerk)
    with pytest.raises(StateError):
        payroll_batch_hold(batch=batch, user=other_supervisor)  # already held
    payroll_batch_reject(batch=batch, user=supervisor, reason="重复文件")
    for call in (lambda: payroll_batch_hold(batch=batch, user=clerk),
                 lambda: payroll_batch_release(batch=batch, user=other_supervisor)):
        with pytest.raises(StateError):
            call()
    assert batch_state(batch)[:3] == (BatchStatus.REJECTED, "clerk-li", "重复文件")


def test_a_hold_after_the_pay_day_job_claimed_the_batch_fails(batch, clerk):
    # The pay-day job moves stored → paid in its posting transaction; a hold arriving after
    # (or waiting on its row lock) finds the batch no longer stored.
    from apps.payroll.services.transitions import batch_transition

    batch_transition(batch_id=batch.pk, action="pay")
    with pytest.raises(StateError) as refused:
        payroll_batch_hold(batch=batch, user=clerk)
    assert refused.value.actual == BatchStatus.PAID
    assert batch_state(batch)[:2] == (BatchStatus.PAID, "")


def test_a_released_batch_may_be_held_again_and_the_new_holder_is_recorded(batch, clerk, supervisor,
                                                                          other_supervisor):
    payroll_batch_hold(batch=batch, user=clerk)
    payroll_batch_release(batch=batch, user=supervisor)
    payroll_batch_hold(batch=batch, user=supervisor)
    assert batch.held_by == "super-wang"
    payroll_batch_release(batch=batch, user=other_supervisor)
    assert batch.status == BatchStatus.STORED
