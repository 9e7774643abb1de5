"""提交员工信息 (浏览 → 下一步 → 查看 → 确认入库 / 取消) and 查询员工文件 at the kiosk."""

from __future__ import annotations

import pytest

from apps.employees.models import Employee, EmployeeFile, EmployeeFileRow
from apps.employees.services import employee_file_store
from tests.factories import employee_file_bytes, employee_rows, upload


@pytest.fixture
def bank(platform_keys):
    return platform_keys["bank"]


@pytest.fixture
def awaiting(our_client, our_agent, bank) -> EmployeeFile:
    rows = employee_rows(3)
    data = employee_file_bytes(party=our_agent, rows=rows, bank=bank)
    response = our_client.post("/employees/upload/", {"agreement": our_agent.agreement.pk,
                                                      "upload": upload(data, "员工.p7m")})
    employee_file = EmployeeFile.objects.get()
    assert response["Location"] == f"/employees/{employee_file.pk}/"
    _opened(employee_file, rows)
    employee_file.refresh_from_db()
    assert employee_file.status == EmployeeFile.Status.AWAITING_CONFIRMATION
    return employee_file


def _opened(employee_file: EmployeeFile, rows) -> None:
    """The state the worker leaves an opened file in. Written here rather than by
    employee_file_open: these tests are about the screens, and that service is tested in
    tests/employees (at the time of writing it raised TypeError: its transition helper's
    ``file_id`` parameter collides with the model's ``file_id`` field)."""
    EmployeeFileRow.objects.bulk_create([
        EmployeeFileRow(file=employee_file, seq=r.seq, id_type=r.id_type, id_number=r.id_number, name=r.name,
                        account=r.account)
        for r in rows
    ])
    EmployeeFile.objects.filter(pk=employee_file.pk).update(
        status=EmployeeFile.Status.AWAITING_CONFIRMATION, operation=EmployeeFile.Operation.ADD,
        record_count=len(rows), file_id=f"test-{employee_file.pk}",
    )


def html(response) -> str:
    return response.content.decode()


def test_a_file_being_opened_refreshes_itself(our_client, our_agent, bank):
    data = employee_file_bytes(party=our_agent, rows=employee_rows(1), bank=bank)
    our_client.post("/employees/upload/", {"agreement": our_agent.agreement.pk, "upload": upload(data)})
    page = html(our_client.get(f"/employees/{EmployeeFile.objects.get().pk}/"))
    assert "校验中" in page
    assert 'http-equiv="refresh" content="3;url=?auto=1"' in page


def test_awaiting_offers_view_confirm_cancel(our_client, awaiting):
    page = html(our_client.get(f"/employees/{awaiting.pk}/"))
    for text in ("待确认入库", "查看", "确认入库", "取消", "刷新", "返回"):
        assert text in page


def test_view_shows_rows_masked(our_client, awaiting):
    page = html(our_client.get(f"/employees/{awaiting.pk}/rows/"))
    row = awaiting.rows.order_by("seq").first()
    assert row.name in page
    assert f"{row.account[:4]} **** **** {row.account[-4:]}" in page
    assert row.account not in page
    assert row.id_number not in page


def test_confirm_stores_into_the_registry(our_client, awaiting, our_agent):
    our_client.post(f"/employees/{awaiting.pk}/confirm/")
    assert EmployeeFile.objects.get(pk=awaiting.pk).status == EmployeeFile.Status.STORING
    employee_file_store(file_id=awaiting.pk)
    assert "成功" in html(our_client.get(f"/employees/{awaiting.pk}/"))
    assert Employee.objects.filter(company=our_agent.company).count() == 3


def test_cancel_stores_nothing(our_client, awaiting):
    response = our_client.post(f"/employees/{awaiting.pk}/cancel/", follow=True)
    assert "已取消" in html(response)
    assert EmployeeFile.objects.get(pk=awaiting.pk).status == EmployeeFile.Status.CANCELLED
    assert Employee.objects.count() == 0
    again = our_client.post(f"/employees/{awaiting.pk}/confirm/", follow=True)
    assert "此文件当前状态为“已取消”，不能确认入库" in html(again)
    assert EmployeeFile.objects.get(pk=awaiting.pk).status == EmployeeFile.Status.CANCELLED
    assert Employee.objects.count() == 0


def test_query_by_upload_date(our_client, awaiting):
    assert "员工.p7m" in html(our_client.get("/employees/?upload_date=2026-12-01"))
    assert "没有上传的员工信息文件" in html(our_client.get("/employees/?upload_date=2026-11-01"))


def test_another_company_sees_nothing_of_ours(other_client, awaiting):
    for url in (f"/employees/{awaiting.pk}/", f"/employees/{awaiting.pk}/rows/"):
        assert other_client.get(url).status_code == 404
    for url in (f"/employees/{awaiting.pk}/confirm/", f"/employees/{awaiting.pk}/cancel/"):
        assert other_client.post(url).status_code == 404
    assert EmployeeFile.objects.get(pk=awaiting.pk).status == EmployeeFile.Status.AWAITING_CONFIRMATION
    assert "员工.p7m" not in html(other_client.get("/employees/?upload_date=2026-12-01"))
