"""变动提示 at the kiosk (issue 13), the limits the issue names: the first 20 of a kind with the full count,
较上月新增 (not paid last month) kept apart from 新增员工 (not in the registry), and the per-person threshold
read from the setting PAYROLL_CHANGE_THRESHOLD_PERCENT; and the kiosk and the client agreeing on all five
kinds present at once."""

from __future__ import annotations

import re
from decimal import Decimal

from apps.payroll.changes import payroll_batch_changes
from payroll_exchange.changes import mask_name
from tests.kiosk.test_changes_funding import (  # noqa: F401  (bank is a fixture)
    awaiting,
    bank,
    client_changes,
    file_row,
    html,
    listed,
    masked,
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


def test_kiosk_and_client_agree_on_every_kind_for_the_same_pair(our_client, our_agent, bank, tmp_path):  # noqa: F811
    """The same pair of months with every kind present at once (the shared test has no 同一账号改用其他证件):
    the kiosk from the ledger's paid batch, the client from the rows it kept, item by item equal."""
    paid_batch(our_agent, november_rows())
    december = [
        file_row(1, 1, "张伟", "8650.00", account=801),   # moved to a new account: account 1 is free
        file_row(2, 2, "王芳", "16500.00"),                # +34.1 %
        file_row(3, 3, "李娜", "7420.00", account=703),    # same ID, another account
        file_row(4, 5, "陈静", "10400.00"),                # −30.7 %; 刘洋 is gone
        file_row(5, 6, "杨磊", "6200.00"),                 # new this month
        file_row(6, 7, "赵敏", "5100.00", account=1),      # new, and into 张伟's account of last month
    ]
    batch = awaiting(our_client, our_agent, bank, december)
    kiosk = payroll_batch_changes(batch=batch)

    client = client_changes(agreement=our_agent.agreement, data_dir=tmp_path / "client", december=december)

    assert [(g.kind, g.count) for g in kiosk.groups] == [(g.kind, g.count) for g in client.groups]
    assert [g.count for g in kiosk.groups] == [2, 1, 2, 2, 1]
    assert kiosk.as_dict() == client.as_dict()
    assert (kiosk.previous_total, kiosk.total, kiosk.total_change_percent) == (
        Decimal("53170.50"), Decimal("54270.00"), Decimal("2.1"))
    page = html(our_client.get(f"/payroll/{batch.pk}/"))
    for group in client.groups:
        assert listed(page, group.kind) == [(str(i.seq), mask_name(i.name), masked(i.account)) for i in group.items]
