"""提交代发工资 and 查询工资文件 at the kiosk: upload, 入库中, result, 确认入库 / 撤消, reports, isolation."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.test import Client

from apps.core.models import AuditEvent
from apps.employees.models import Employee
from apps.payroll.models import BatchStatus, PayrollBatch, PayrollRow
from apps.payroll.services.intake import payroll_batch_prevalidate
from apps.payroll.services.storing import payroll_batch_store
from payroll_exchange.clock import BUSINESS_TZ
from tests.factories import payroll_file_bytes, payroll_rows, upload
from tests.kiosk.conftest import checklist_typed


@pytest.fixture
def bank(platform_keys):
    return platform_keys["bank"]


def register(party, rows):
    Employee.objects.bulk_create([Employee(company=party.company, account=r.account, name=r.name, id_type=r.id_type,
                                           id_number=r.id_number) for r in rows])


def submit(client, party, data, name="11月工资.p7m"):
    return client.post("/payroll/upload/", {"agreement": party.agreement.pk, "upload": upload(data, name)})


@pytest.fixture
def awaiting(our_client, our_agent, bank) -> PayrollBatch:
    """A three-row file, one employee new, pre-validated and waiting for 确认入库."""
    rows = payroll_rows(3)
    register(our_agent, rows[:2])
    response = submit(our_client, our_agent, payroll_file_bytes(party=our_agent, rows=rows, bank=bank))
    batch = PayrollBatch.objects.get()
    assert response["Location"] == f"/payroll/{batch.pk}/"
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION
    return batch


def html(response) -> str:
    return response.content.decode()


def test_upload_page_has_browse_next_and_back(our_client):
    page = html(our_client.get("/payroll/upload/"))
    for text in ("提交代发工资", "浏览", "下一步", "返回"):
        assert text in page
    assert "<select" not in page  # one agreement: nothing to choose


def test_upload_shows_validating_with_progress_and_polling(our_client, our_agent, bank):
    submit(our_client, our_agent, payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=bank))
    batch = PayrollBatch.objects.get()
    assert batch.status == BatchStatus.VALIDATING
    page = html(our_client.get(f"/payroll/{batch.pk}/"))
    assert "入库中（预校验）" in page
    assert f'data-status-url="/api/batches/{batch.pk}/status/"' in page
    assert '<noscript><meta http-equiv="refresh" content="3;url=?auto=1"></noscript>' in page
    assert "刷新" in page
    assert "返回" in page


def test_status_endpoint_reports_progress_and_actions(our_client, awaiting):
    data = our_client.get(f"/api/batches/{awaiting.pk}/status/?auto=1").json()
    assert data == {
        "id": awaiting.pk, "status": "awaiting_confirmation", "label": "待确认入库", "rows_done": 3,
        "rows_total": 3, "busy": False, "actions": ["confirm", "revoke", "report"],
    }


def test_result_shows_the_checklist_figures_large_and_the_new_employee(our_client, awaiting, our_agent):
    page = html(our_client.get(f"/payroll/{awaiting.pk}/"))
    assert 'id="fig-count">3<' in page
    assert 'id="fig-amount">24,000.00<' in page
    assert 'id="fig-fee">1.50<' in page
    assert " ".join(awaiting.digest[i : i + 4] for i in range(0, 64, 4)) in page
    new = awaiting.new_employees[0]
    assert f"{new['account'][:4]} **** **** {new['account'][-4:]}" in page
    assert new["account"] not in page  # masked
    for text in ("确认入库", "撤消", "报告文件下载", "刷新", "返回"):
        assert text in page


def test_confirm_then_storing_then_success(our_client, awaiting, our_agent):
    checklist_typed(our_client, awaiting)
    response = our_client.post(f"/payroll/{awaiting.pk}/confirm/")
    assert response["Location"] == f"/payroll/{awaiting.pk}/"
    assert PayrollBatch.objects.get(pk=awaiting.pk).status == BatchStatus.STORING
    page = html(our_client.get(f"/payroll/{awaiting.pk}/"))
    assert "已确认入库" in page
    assert "入库中" in page
    assert payroll_batch_store(batch_id=awaiting.pk)
    page = html(our_client.get(f"/payroll/{awaiting.pk}/"))
    assert "成功" in page
    assert PayrollRow.objects.filter(batch=awaiting).count() == 3
    assert Employee.objects.filter(company=our_agent.company).count() == 3


def test_revoke_before_storing_stores_nothing(our_client, awaiting):
    our_client.post(f"/payroll/{awaiting.pk}/revoke/")
    assert PayrollBatch.objects.get(pk=awaiting.pk).status == BatchStatus.REVOKED
    page = html(our_client.get(f"/payroll/{awaiting.pk}/"))
    assert "已撤消" in page
    assert 'id="confirm-button"' not in page
    assert PayrollRow.objects.count() == 0


def test_confirming_a_revoked_file_is_refused_with_what_to_do(our_client, awaiting):
    checklist_typed(our_client, awaiting)
    our_client.post(f"/payroll/{awaiting.pk}/revoke/")
    response = our_client.post(f"/payroll/{awaiting.pk}/confirm/", follow=True)
    assert "此文件当前状态为“已撤消”，不能确认入库。请点击“刷新”查看最新状态。" in html(response)
    assert PayrollBatch.objects.get(pk=awaiting.pk).status == BatchStatus.REVOKED
    assert PayrollRow.objects.count() == 0


def test_confirm_after_the_pay_date_window_is_refused(our_client, awaiting, business_clock):
    checklist_typed(our_client, awaiting)
    business_clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=BUSINESS_TZ))  # pay date was 12-05
    response = our_client.post(f"/payroll/{awaiting.pk}/confirm/", follow=True)
    assert "请撤消此文件" in html(response)
    assert PayrollBatch.objects.get(pk=awaiting.pk).status == BatchStatus.AWAITING_CONFIRMATION


def test_a_file_with_row_errors_lists_them_and_cannot_be_stored(our_client, our_agent, bank):
    rows = payroll_rows(2)
    rows[1].amount = Decimal("60000.00")  # above the single payment limit
    submit(our_client, our_agent, payroll_file_bytes(party=our_agent, rows=rows, bank=bank))
    batch = PayrollBatch.objects.get()
    payroll_batch_prevalidate(batch_id=batch.pk)
    page = html(our_client.get(f"/payroll/{batch.pk}/"))
    assert "校验失败" in page
    assert 'id="row-errors"' in page
    assert 'id="confirm-button"' not in page
    our_client.post(f"/payroll/{batch.pk}/confirm/")
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.INVALID


def test_upload_without_a_file_says_to_browse_first(our_client, our_agent):
    response = our_client.post("/payroll/upload/", {"agreement": our_agent.agreement.pk})
    assert response.status_code == 400
    assert "请先点击“浏览”选择文件" in html(response)
    assert PayrollBatch.objects.count() == 0


def test_upload_too_large_is_refused_and_nothing_recorded(our_client, our_agent, bank, settings):
    settings.UPLOAD_MAX_BYTES = 100
    response = submit(our_client, our_agent, b"x" * 500)
    # Refused by the upload guard before the body is read whole (apps.core.middleware).
    assert response.status_code == 413
    assert "上限" in html(response)
    assert PayrollBatch.objects.count() == 0


def test_another_companys_agreement_cannot_be_chosen(our_client, other_agent, bank, our_agent):
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(1), bank=bank)
    response = our_client.post("/payroll/upload/", {"agreement": other_agent.agreement.pk, "upload": upload(data)})
    assert response.status_code == 400
    assert "请选择本企业的代发协议" in html(response)
    assert PayrollBatch.objects.count() == 0


def test_several_agreements_offer_a_choice(our_client, our_agent, enterprise_identities):
    from apps.agreements.services import agreement_create
    from tests.factories import certificate_record, settlement_account_open

    settlement_account_open(number="310066001800003", company=our_agent.company)
    agreement_create(
        company=our_agent.company, number="DF0003", payer_unit_no="U31003", start_date=date(2026, 1, 1),
        end_date=date(2027, 12, 31), fee_per_payment=Decimal("0.50"), single_limit=Decimal("50000.00"),
        settlement_account="310066001800003",
        certificate=certificate_record(identity=enterprise_identities["a2"], company=our_agent.company),
    )
    page = html(our_client.get("/payroll/upload/"))
    assert "<select" in page
    assert "DF0001" in page
    assert "DF0003" in page


def test_reports_download_as_text_and_csv(our_client, awaiting):
    text = our_client.get(f"/payroll/{awaiting.pk}/report.txt")
    assert text["Content-Type"] == "text/plain; charset=utf-8"
    assert text["Content-Disposition"] == 'attachment; filename="report-B20261201.txt"'
    assert text.streaming  # downloads stream: a web worker never builds a report whole in a response
    assert awaiting.digest in b"".join(text.streaming_content).decode()
    csv = our_client.get(f"/payroll/{awaiting.pk}/report.csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert b"".join(csv.streaming_content).startswith(b"\xef\xbb\xbf")
    # Each download is an action of the card: audited with card, time and object.
    from apps.core.models import AuditEvent

    downloads = AuditEvent.objects.filter(action="payroll_report_download", object_id=str(awaiting.pk))
    assert [d["format"] for d in downloads.order_by("id").values_list("detail", flat=True)] == ["txt", "csv"]


def test_query_by_date_lists_the_batch_with_its_actions(our_client, awaiting):
    page = html(our_client.get("/payroll/?upload_date=2026-12-01"))
    assert "B20261201" in page
    assert "待确认入库" in page
    assert "补充入库" in page
    assert "撤消" in page
    assert "报告文件" in page
    other_day = html(our_client.get("/payroll/?upload_date=2026-11-30"))
    assert "B20261201" not in other_day
    assert "没有上传的工资文件" in other_day


def test_finish_storing_from_the_query_screen(our_client, awaiting):
    checklist_typed(our_client, awaiting)  # 补充入库 leads to the file's checklist check
    our_client.post(f"/payroll/{awaiting.pk}/confirm/")
    assert PayrollBatch.objects.get(pk=awaiting.pk).status == BatchStatus.STORING
    assert AuditEvent.objects.filter(action="payroll_confirm", object_id=str(awaiting.pk)).count() == 1


def test_another_company_sees_nothing_of_ours(other_client, awaiting):
    pk = awaiting.pk
    for url in (f"/payroll/{pk}/", f"/payroll/{pk}/report.txt", f"/payroll/{pk}/report.csv",
                f"/api/batches/{pk}/status/", f"/returns/{pk}/", f"/returns/{pk}/download/"):
        assert other_client.get(url).status_code == 404, url
    for url in (f"/payroll/{pk}/confirm/", f"/payroll/{pk}/revoke/"):
        assert other_client.post(url).status_code == 404, url
    assert PayrollBatch.objects.get(pk=pk).status == BatchStatus.AWAITING_CONFIRMATION
    assert "B20261201" not in html(other_client.get("/payroll/?upload_date=2026-12-01"))


def test_status_endpoint_needs_a_kiosk_session(awaiting, bank_staff):
    assert Client().get(f"/api/batches/{awaiting.pk}/status/").status_code == 403
    staff = Client()
    staff.force_login(bank_staff)  # a staff user is not a kiosk card
    assert staff.get(f"/api/batches/{awaiting.pk}/status/").status_code == 403
    assert staff.get("/home/")["Location"] == "/"


def test_returns_screen_before_any_return_file(our_client):
    page = html(our_client.get("/returns/"))
    assert "暂无回盘文件" in page
    assert "刷新" in page
    assert our_client.get("/returns/999/download/").status_code == 404
