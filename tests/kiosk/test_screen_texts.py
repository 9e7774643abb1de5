"""What the kiosk screens say (issue 12, "Kiosk screens"), through the Django client: the query
screens ten a page with failed uploads apart, progress in real rows, a wrong-slot upload named in
words, 撤消's message and note agreeing, no 确认入库 once the pay date has passed, the report
naming the new employees and staying downloadable after 已回盘, return files named by batch and
pay date. The same screens in Chromium: test_screens_browser.py."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import pytest

from apps.core.files import private_file_write
from apps.employees.models import Employee, EmployeeFile
from apps.employees.services import employee_file_open
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import payroll_batch_prevalidate
from apps.returns.models import ReturnFile
from apps.returns.services import RETURNS_AREA
from payroll_exchange.clock import BUSINESS_TZ
from tests.factories import employee_file_bytes, employee_rows, payroll_file_bytes, payroll_rows, upload
from tests.kiosk.conftest import checklist_typed
from tests.ledger.factories import batch_make

REVOKED = "文件已撤消，不会入库。同一文件和批次号可以重新提交。"


@pytest.fixture
def bank(platform_keys):
    return platform_keys["bank"]


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def rows_of(page: str, table_id: str) -> int:
    table = re.search(rf'<table id="{table_id}".*?</table>', page, re.S)
    return 0 if table is None else table.group(0).count("<tr>") - 1


def submit(client, party, data, *, name="12月工资.p7m", slot="payroll"):
    return client.post(f"/{slot}/upload/", {"agreement": party.agreement.pk, "upload": upload(data, name)})


@pytest.fixture
def awaiting(our_client, our_agent, bank) -> PayrollBatch:
    """Three rows, the third a new employee, waiting for 确认入库 (pay date 2026-12-05)."""
    rows = payroll_rows(3)
    Employee.objects.bulk_create([Employee(company=our_agent.company, account=r.account, name=r.name,
                                           id_type=r.id_type, id_number=r.id_number) for r in rows[:2]])
    submit(our_client, our_agent, payroll_file_bytes(party=our_agent, rows=rows, bank=bank))
    batch = PayrollBatch.objects.get()
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.AWAITING_CONFIRMATION
    return batch


# --- 查询工资文件 / 查询员工文件 -----------------------------------------------------------------

def test_payroll_query_shows_ten_a_page_and_failed_uploads_apart(our_client, our_agent):
    day = date(2026, 11, 25)  # batch_make's upload date
    for n in range(12):
        batch_make(agreement=our_agent.agreement, rows=[("6222020200112233446", "张伟", Decimal("1.00"))],
                   pay_date=date(2026, 12, 5), batch_no=f"Q{n:02d}", status=BatchStatus.STORED)
    for n in range(3):
        batch_make(agreement=our_agent.agreement, rows=[], pay_date=date(2026, 12, 5), batch_no=f"X{n:02d}",
                   status=BatchStatus.INVALID)

    first = html(our_client.get(f"/payroll/?upload_date={day}"))
    assert rows_of(first, "batches") == 10
    assert "第 1 / 2 页" in first
    assert f'href="?upload_date={day}&amp;page=2"' in first
    assert "X00" not in re.search(r'<table id="batches".*?</table>', first, re.S).group(0)
    assert '<details class="failed-uploads" id="failed-uploads">' in first  # collapsed
    assert "校验失败的文件 3 个" in first
    assert rows_of(first, "failed-batches") == 3
    assert first.count('<th>报告文件</th>') == 2  # the manual's column, in both tables
    second = html(our_client.get(f"/payroll/?upload_date={day}&page=2"))
    assert rows_of(second, "batches") == 2
    assert "第 2 / 2 页" in second
    opened = html(our_client.get(f"/payroll/?upload_date={day}&failed_page=1"))
    assert '<details class="failed-uploads" id="failed-uploads" open>' in opened


def test_employee_query_shows_ten_a_page_and_failed_uploads_apart(our_client, our_agent):
    day = date(2026, 12, 1)
    uploaded = datetime(2026, 12, 1, 9, 30, tzinfo=BUSINESS_TZ)
    statuses = [EmployeeFile.Status.STORED] * 11 + [EmployeeFile.Status.INVALID] * 2
    EmployeeFile.objects.bulk_create([
        EmployeeFile(company=our_agent.company, agreement=our_agent.agreement, card=our_agent.card, status=status,
                     uploaded_at=uploaded, upload_date=day, original_name=f"员工{n:02d}.p7m", stored_name=f"s{n:04d}",
                     size=1)
        for n, status in enumerate(statuses)
    ])
    page = html(our_client.get(f"/employees/?upload_date={day}"))
    assert rows_of(page, "employee-files") == 10
    assert "校验失败的文件 2 个" in page
    assert rows_of(page, "failed-files") == 2
    assert rows_of(html(our_client.get(f"/employees/?upload_date={day}&page=2")), "employee-files") == 1


def test_a_long_file_name_is_cut_and_shown_whole_on_tap(our_client, our_agent, bank):
    name = "2026年12月上海示例科技有限公司全体员工工资及年终奖金发放明细表第二次修订版最终确认稿_final_v3_2.p7m"
    submit(our_client, our_agent, b"not a signed file", name=name)
    payroll_batch_prevalidate(batch_id=PayrollBatch.objects.get().pk)
    page = html(our_client.get("/payroll/"))
    assert (f'<details class="fname"><summary title="{name}" aria-label="文件名：{name}">'
            f'<span class="fname-text">{name}</span></summary></details>') in page


# --- progress -----------------------------------------------------------------------------------

def test_progress_reads_opening_until_the_rows_are_known_then_real_rows(our_client, our_agent, bank):
    submit(our_client, our_agent, payroll_file_bytes(party=our_agent, rows=payroll_rows(3), bank=bank))
    batch = PayrollBatch.objects.get()
    page = html(our_client.get(f"/payroll/{batch.pk}/"))
    assert ('<p class="progress-text" id="progress-opening" data-progress-opening>'
            "正在打开文件（解密并核验签名）……</p>") in page
    assert 'id="progress-rows" data-progress-rows hidden>' in page
    assert "0 / 0" not in page

    # What the worker records with its heartbeat once the file is open (Work.progress).
    PayrollBatch.objects.filter(pk=batch.pk).update(rows_total=3, rows_done=0)
    page = html(our_client.get(f"/payroll/{batch.pk}/"))
    assert 'id="progress-opening" data-progress-opening hidden>' in page
    assert '<progress max="3" value="0"></progress>' in page
    assert "已处理 <span data-rows-done>0</span> / <span data-rows-total>3</span> 行" in page
    status = our_client.get(f"/api/batches/{batch.pk}/status/?auto=1").json()
    assert (status["rows_done"], status["rows_total"], status["busy"]) == (0, 3, True)

    payroll_batch_prevalidate(batch_id=batch.pk)
    status = our_client.get(f"/api/batches/{batch.pk}/status/?auto=1").json()
    assert (status["rows_done"], status["rows_total"], status["busy"]) == (3, 3, False)


def test_storing_shows_the_rows_being_stored_not_a_finished_count(our_client, awaiting):
    checklist_typed(our_client, awaiting)
    our_client.post(f"/payroll/{awaiting.pk}/confirm/")
    page = html(our_client.get(f"/payroll/{awaiting.pk}/"))
    assert '<p class="progress-text" id="progress-storing">正在入库，共 3 行</p>' in page
    assert "已处理" not in page


# --- guidance -----------------------------------------------------------------------------------

def test_an_employee_file_in_the_payroll_slot_says_where_it_belongs(our_client, our_agent, bank):
    submit(our_client, our_agent, employee_file_bytes(party=our_agent, rows=employee_rows(2), bank=bank))
    batch = PayrollBatch.objects.get()
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.refusal_code) == (BatchStatus.INVALID, "envelope_wrong_kind")
    page = html(our_client.get(f"/payroll/{batch.pk}/"))
    assert "这是员工信息文件，请在“提交员工信息”中提交。文件本身无需重新制作。" in page
    assert "此文件不是代发工资文件，未入库。请按下面的说明到正确的功能中提交；文件本身无需重新制作。" in page
    assert "改正后重新制作" not in page
    main = page[page.index("<main>"):]
    assert "employees" not in main.replace("/employees/", "")
    assert "“payroll”" not in main


def test_a_payroll_file_in_the_employee_slot_says_where_it_belongs(our_client, our_agent, bank):
    submit(our_client, our_agent, payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=bank),
           slot="employees")
    employee_file = EmployeeFile.objects.get()
    employee_file_open(file_id=employee_file.pk)
    employee_file.refresh_from_db()
    assert employee_file.status == EmployeeFile.Status.INVALID
    page = html(our_client.get(f"/employees/{employee_file.pk}/"))
    assert "这是代发工资文件，请在“提交代发工资”中提交。文件本身无需重新制作。" in page
    assert "此文件不是员工信息文件，未入库。" in page
    assert "改正后重新制作" not in page
    assert Employee.objects.count() == 0


def test_english_wrong_slot_wording(our_client, our_agent, bank):
    submit(our_client, our_agent, employee_file_bytes(party=our_agent, rows=employee_rows(1), bank=bank))
    batch = PayrollBatch.objects.get()
    payroll_batch_prevalidate(batch_id=batch.pk)
    our_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = html(our_client.get(f"/payroll/{batch.pk}/"))
    assert "This is an employee information file: submit it under &#x27;Submit employee information&#x27;." in page


def test_revoke_says_what_the_note_says(our_client, awaiting):
    response = our_client.post(f"/payroll/{awaiting.pk}/revoke/", follow=True)
    page = html(response)
    assert page.count(REVOKED) == 2  # the action's message and the file's note
    assert "重新制作" not in page
    assert PayrollBatch.objects.get(pk=awaiting.pk).status == BatchStatus.REVOKED


def test_revoke_asks_first_and_supplementary_confirm_leads_to_the_checklist_check(our_client, awaiting):
    query = html(our_client.get("/payroll/"))
    assert 'data-confirm="确定撤消此文件吗？撤消后此文件不会入库；同一文件和批次号可以重新提交。"' in query
    # 补充入库 is no one-click confirmation any more: the file's page checks the checklist first (issue 13).
    assert f'href="/payroll/{awaiting.pk}/#checklist-check" data-checklist-confirm>补充入库</a>' in query
    assert f'action="/payroll/{awaiting.pk}/confirm/"' not in query
    assert '<dialog id="confirm-dialog"' in query
    result = html(our_client.get(f"/payroll/{awaiting.pk}/"))
    assert 'data-confirm="确定撤消此文件吗？' in result
    # The CSP: script from static files only.
    assert "onclick" not in result
    assert "<script>" not in result


def test_after_the_pay_date_no_confirm_and_the_screen_says_what_to_do(our_client, awaiting, business_clock):
    business_clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=BUSINESS_TZ))  # Monday after the 5th
    page = html(our_client.get(f"/payroll/{awaiting.pk}/"))
    assert 'id="confirm-button"' not in page
    assert 'id="confirm-hint"' not in page
    assert "点击“确认入库”" not in page
    assert ("发薪日期 2026-12-05 已过（今天是 2026-12-07），此文件不能再入库。"
            "请点击“撤消”，在企业客户端改正发薪日期后重新制作文件，再提交。") in page
    assert 'id="revoke-button"' in page
    query = html(our_client.get("/payroll/?upload_date=2026-12-01"))
    assert "补充入库" not in query
    assert "撤消" in query
    assert our_client.get(f"/api/batches/{awaiting.pk}/status/?auto=1").json()["actions"] == ["revoke", "report"]
    assert PayrollBatch.objects.get(pk=awaiting.pk).status == BatchStatus.AWAITING_CONFIRMATION


# --- report and return file ---------------------------------------------------------------------

def test_report_names_the_new_employees_on_screen_and_in_the_downloads(our_client, awaiting):
    new = awaiting.new_employees[0]
    masked = f"{new['account'][:4]} **** **** {new['account'][-4:]}"
    screen = html(our_client.get(f"/payroll/{awaiting.pk}/report/"))
    assert "新增员工（确认入库时一并登记，请核对）：" in screen
    assert f"第 {new['seq']} 行  {new['name']}  {masked}" in screen
    assert new["account"] not in screen
    text = b"".join(our_client.get(f"/payroll/{awaiting.pk}/report.txt").streaming_content).decode()
    assert f"第 {new['seq']} 行  {new['name']}  {masked}" in text
    csv_text = b"".join(our_client.get(f"/payroll/{awaiting.pk}/report.csv").streaming_content).decode("utf-8-sig")
    assert f",{new['seq']},{new['name']},{masked}" in csv_text
    query = html(our_client.get("/payroll/"))
    assert f'href="/payroll/{awaiting.pk}/report/" data-report-view>查看</a>' in query


def test_report_stays_downloadable_after_returned_and_return_files_are_named_by_batch_and_pay_date(
        our_client, our_agent):
    batch = batch_make(agreement=our_agent.agreement, rows=[("6222020200112233446", "张伟", Decimal("5.00"))],
                       pay_date=date(2026, 11, 27), batch_no="B1127", status=BatchStatus.RETURNED)
    stored = f"ret-b1127-{batch.pk}"
    private_file_write(area=RETURNS_AREA, name=stored, data=b"sealed")
    ReturnFile.objects.create(batch=batch, stored_name=stored, file_id="R20261128B1127", size=6, digest="0" * 64,
                              plain_digest="0" * 64, format_version="1", record_count=1, success_count=1,
                              success_amount=Decimal("5.00"), failure_count=0, failure_amount=Decimal("0.00"),
                              fee_charged=Decimal("0.50"), business_date=date(2026, 11, 28))
    page = html(our_client.get(f"/payroll/{batch.pk}/"))
    assert 'id="report-txt"' in page
    assert our_client.get(f"/payroll/{batch.pk}/report.txt").status_code == 200
    assert our_client.get(f"/payroll/{batch.pk}/report/").status_code == 200
    download = our_client.get(f"/returns/{batch.pk}/download/")
    assert download["Content-Disposition"] == 'attachment; filename="RET_B1127_20261127.p7m"'
    assert b"".join(download.streaming_content) == b"sealed"


def test_the_report_screen_is_only_for_our_own_batches(other_client, awaiting):
    assert other_client.get(f"/payroll/{awaiting.pk}/report/").status_code == 404
