"""变动提示 at the kiosk (issue 13), the limits the issue names: the first 20 of a kind with the full count,
较上月新增 (not paid last month) kept apart from 新增员工 (not in the registry), and the per-person threshold
read from the setting PAYROLL_CHANGE_THRESHOLD_PERCENT."""

from __future__ import annotations

import re

from apps.payroll.changes import payroll_batch_changes
from tests.kiosk.test_changes_funding import (  # noqa: F401  (bank is a fixture)
    awaiting,
    bank,
    file_row,
    html,
    listed,
    november_rows,
    paid_batch,
)


def test_the_first_twenty_new_people_are_listed_with_the_full_count(our_client, our_agent, bank):  # noqa: F811
    """Given last month's five, when 25 more are paid this month, the kiosk lists 20 and says 25."""
    paid_batch(our_agent, november_rows())
    newcomers = [file_row(5 + n, 100 + n, f"赵{'一二三四五六七八九十'[n % 10]}", "5000.00") for n in range(1, 26)]
    batch = awaiting(our_client, our_agent, bank, november_rows() + newcomers)
    page = html(our_client.get(f"/payroll/{batch.pk}/"))

    added = listed(page, "added")
    assert len(added) == 20
    assert [seq for seq, _name, _account in added] == [str(n) for n in range(6, 26)]
    assert all(re.fullmatch(r"赵\*", name) for _seq, name, _account in added)
    title = re.search(r'<h3 id="changes-added-title">([^<]*)</h3>', page).group(1)
    assert title.endswith("25 人")
    assert payroll_batch_changes(batch=batch).groups[0].count == 25
    # 较上月新增 counts against last month's paid batch, 新增员工 against the registry: the five paid in
    # November were never registered here, so the registry sees all 30 as new.
    assert batch.new_employee_count == 30
    assert 'id="confirm-button"' in page  # it never blocks


def test_the_per_person_threshold_is_the_setting(our_client, our_agent, bank, settings):  # noqa: F811
    """王芳 12,300.50 → 14,145.58 is +15 %: not listed at the default 30 %, listed at 10 %."""
    paid_batch(our_agent, november_rows())
    rows = november_rows()
    rows[1] = file_row(2, 2, "王芳", "14145.58")
    batch = awaiting(our_client, our_agent, bank, rows)
    assert listed(html(our_client.get(f"/payroll/{batch.pk}/")), "amount") == []

    settings.PAYROLL_CHANGE_THRESHOLD_PERCENT = "10"
    page = html(our_client.get(f"/payroll/{batch.pk}/"))
    assert [(seq, name) for seq, name, _account in listed(page, "amount")] == [("2", "王*")]
    assert "(+15.0%)" in page
