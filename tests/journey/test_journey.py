"""The whole journey in real Chromium, from spreadsheet to decrypted return list, in the manual's order.

Processes: gunicorn (the kiosk), a Celery worker, PostgreSQL, Redis, the ``payroll-client``
console script; the business clock pinned for all of them through one clock file. The scheduled
jobs (pay day, return files) are handed to the real worker by task name, as beat would.
Every kiosk screen passed through is measured (touch targets >= 48 px, contrast >= 4.5:1) and
saved as docs/screenshots/journey-NN-*.png.
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Count, Sum
from openpyxl import Workbook
from playwright.sync_api import expect

from apps.employees.models import Employee, EmployeeFile
from apps.ledger.models import EntryKind, EntrySide, JournalEntry, LedgerAccount
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.returns.models import ReturnFile
from payroll_exchange.clock import BUSINESS_TZ
from tests.factories import CARD_PIN
from tests.journey.conftest import (
    JOURNEY_CARD_PIN,
    STAFF,
    USBKEY_PIN,
    journey_bank_set_up,
    task_run_on_worker,
    worker_consuming,
)
from tests.support.browser import SCREENSHOTS, assert_accessible, kiosk_page, shot, swipe_and_pin, swipe_card
from tests.support.enterprise import EnterpriseClient
from tests.support.processes import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAY_DATE = date(2026, 12, 2)  # Wednesday, the day after the agent's visit (Tuesday 1 December, 10:00)
BATCH_NO = "B202612A"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BUSINESS_TZ)


class Screens:
    """Numbered screenshots of every kiosk screen the journey passes, each measured first."""

    def __init__(self, page) -> None:
        self.page = page
        self.n = 0
        # A renumbered screen must not leave its old file behind (40 and up are test_kiosk_rules.py's).
        for old in SCREENSHOTS.glob("journey-[0-3][0-9]-*.png"):
            old.unlink()

    def __call__(self, name: str, *, measure: bool = True) -> None:
        if measure:
            assert_accessible(self.page)
        self.n += 1
        shot(self.page, f"{self.n:02d}-{name}", prefix="journey")


def sheets_write(folder: Path) -> tuple[Path, Path]:
    """The enterprise's two spreadsheets, in the manual's column layout (证件类型, 证件号码, 客户, 客户帐号)."""
    folder.mkdir(parents=True, exist_ok=True)
    employees = Workbook()
    sheet = employees.active
    sheet.title = "员工信息"
    sheet.append(["证件类型", "证件号码", "客户", "客户帐号"])
    for p in STAFF:
        if p.registered:
            sheet.append(["身份证", p.id_number, p.name, p.account])
    employees.save(folder / "员工信息.xlsx")

    payroll = Workbook()
    sheet = payroll.active
    sheet.title = "12月工资"
    sheet.append(["证件类型", "证件号码", "客户", "客户帐号", "金额", "备注"])
    for p in STAFF:
        sheet.append(["0", p.id_number, p.name, p.account, str(p.amount), "12月工资"])
    payroll.save(folder / "12月工资.xlsx")
    return folder / "员工信息.xlsx", folder / "12月工资.xlsx"


def labelled(text: str) -> dict[str, str]:
    """``label: value`` lines of the client's .txt checklist or return list."""
    pairs = {}
    for line in text.splitlines():
        label, sep, value = line.partition(": ")
        if sep:
            pairs[label.strip()] = value.strip()
    return pairs


def only_file(folder: Path, *, suffix: str) -> Path:
    [path] = [p for p in folder.iterdir() if p.name.endswith(suffix)]
    return path


def test_spreadsheet_to_kiosk_to_pay_day_to_decrypted_return_list(
    business_clock, platform_keys, live_worker, web_server, browser, other_agent, tmp_path
):
    # --- The bank, before the enterprise comes: company, agreement, ledger, card, USB key, package.
    bank = journey_bank_set_up(files=tmp_path / "from-bank")
    settlement_before = LedgerAccount.objects.get(pk=bank.settlement.pk).balance
    assert settlement_before == Decimal("1000000.00")

    # --- The enterprise PC (客户端): install, users, agreement; 导入员工; 文件加密 with 换人复核.
    client = EnterpriseClient(home=tmp_path / "pc", usbkey_pin=USBKEY_PIN, clock=business_clock.env_value)
    client.set_up(root_pem=bank.root_pem, usbkey=bank.usbkey, agreement_package=bank.agreement_package)
    employees_sheet, payroll_sheet = sheets_write(tmp_path / "sheets")
    drive = tmp_path / "usb-drive"
    client.run("employee-import", str(employees_sheet), "--out", str(drive / "employees"), "--count", "4")
    employee_file = only_file(drive / "employees", suffix=".p7m")
    made = client.payroll_encrypt(sheet=payroll_sheet, pay_date=PAY_DATE.isoformat(), batch=BATCH_NO,
                                  out=drive / "payroll", extra=("--remark-col", "6"))
    payroll_file = only_file(drive / "payroll", suffix=".p7m")
    checklist = labelled(only_file(drive / "payroll", suffix="_核对清单.txt").read_text(encoding="utf-8"))
    assert checklist["复核人 Reviewer"] == "0002"  # a second user reviewed it
    assert checklist["制作人 Operator"] == "0001"
    assert checklist["文件摘要 SHA-256"] in made.stdout
    checklist_text = only_file(drive / "payroll", suffix="_核对清单.txt").read_text(encoding="utf-8")
    [qr_text] = [line for line in checklist_text.splitlines() if line.startswith("PRC1|")]
    check_code = checklist["核对码 Check code"].replace(" ", "")

    with kiosk_page(browser, web_server.extra["url"], accept_downloads=True) as page:
        screen = Screens(page)
        # --- 1. 登录: 点击此处后请刷卡, swipe, the PIN on the on-screen pad, 进入.
        # The login on the smallest kiosk screen a branch has: it fits, 进入 included, and the PIN
        # pad waits for the swipe.
        page.set_viewport_size({"width": 1024, "height": 768})
        page.goto("/")
        expect(page.locator("#swipe-button")).to_have_text("点击此处后请刷卡")
        expect(page.locator("#pinpad")).to_be_hidden()
        screen("login")
        swipe_card(page, bank.card_number)
        expect(page.locator("#card-display")).to_have_text(f"{bank.card_number[:4]} **** **** {bank.card_number[-4:]}")
        for digit in JOURNEY_CARD_PIN:
            page.click(f"#pinpad [data-digit='{digit}']")
        assert page.input_value("#pin-input") == JOURNEY_CARD_PIN
        screen("pin-pad")
        page.click("#pinpad [data-ok]")
        page.click("#enter-button")
        page.wait_for_url("**/home/")
        page.set_viewport_size({"width": 1280, "height": 1024})
        expect(page.locator(".brand small")).to_have_text(bank.company.name)
        screen("home")

        # --- 2. 提交员工信息: 浏览, 下一步; 校验中 in the background; 查看; 确认入库; 成功.
        page.click("text=提交员工信息")
        page.set_input_files("#id_upload", str(employee_file))
        expect(page.locator("#id_upload-name")).to_have_text(employee_file.name)
        screen("employee-upload")
        worker_consuming(live_worker, on=False)
        try:
            page.click("#next-button")
            page.wait_for_url(re.compile(r"/employees/\d+/$"))
            expect(page.locator("#file-status")).to_have_text("校验中")
            screen("employee-validating")
        finally:
            worker_consuming(live_worker, on=True)
        expect(page.locator("#file-status")).to_have_text("待确认入库", timeout=60_000)
        expect(page.locator(".figure .value")).to_have_text("4")
        screen("employee-awaiting")
        page.click("#view-rows")
        expect(page.locator("#employee-rows tbody tr")).to_have_count(4)
        assert page.locator("#employee-rows tbody td:nth-child(2)").all_inner_texts() == [
            p.name for p in STAFF if p.registered]
        screen("employee-rows")
        page.click("text=返回")
        page.click("#confirm-button")
        expect(page.locator("#file-status")).to_have_text("成功", timeout=60_000)
        expect(page.locator(".msg-success").last).to_contain_text("员工信息已成功入库")
        screen("employee-stored")
        assert Employee.objects.filter(company=bank.company).count() == 4

        # 查询员工文件: today's upload is listed as 成功.
        page.goto("/home/")
        page.click("text=查询员工文件")
        expect(page.locator("#employee-files tbody tr")).to_have_count(1)
        expect(page.locator("#employee-files tbody tr td").nth(4)).to_have_text("成功")
        screen("employee-query")

        # --- 3. 提交代发工资: upload; 入库中 (预校验) with progress; the result; compare with the checklist.
        page.goto("/home/")
        page.click("text=提交代发工资")
        page.set_input_files("#id_upload", str(payroll_file))
        screen("payroll-upload")
        worker_consuming(live_worker, on=False)
        try:
            page.click("#next-button")
            page.wait_for_url(re.compile(r"/payroll/\d+/$"))
            expect(page.locator("#batch-status")).to_have_text("入库中（预校验）")
            expect(page.locator("#progress")).to_be_visible()
            screen("payroll-validating")
        finally:
            worker_consuming(live_worker, on=True)
        # The page polls the status endpoint and turns into the result by itself.
        page.wait_for_selector("#figures", timeout=60_000)
        expect(page.locator("#batch-status")).to_have_text("待确认入库")
        batch = PayrollBatch.objects.get(company=bank.company)
        page_digest = page.inner_text("#fig-digest").replace(" ", "")
        on_page = {"count": page.inner_text("#fig-count"), "amount": page.inner_text("#fig-amount"),
                   "fee": page.inner_text("#fig-fee"), "digest": page_digest.lower()}
        on_checklist = {"count": checklist["总笔数 Count"], "amount": checklist["总金额 Total (元)"],
                        "fee": checklist["预计手续费 Expected fee"], "digest": checklist["文件摘要 SHA-256"].lower()}
        assert on_page == on_checklist
        assert (on_page["count"], on_page["amount"], on_page["fee"]) == ("5", "36,282.60", "2.50")
        # The new hire, not in the registry yet, is listed for this confirmation.
        expect(page.locator("#new-employees tbody tr")).to_have_count(1)
        expect(page.locator("#new-employees tbody td").nth(1)).to_have_text("何平")
        screen("payroll-result")
        # 查看报告文件: the report on screen names the new hire that 确认入库 registers.
        page.click("#report-view")
        expect(page.locator("#report-text")).to_contain_text("新增员工（确认入库时一并登记，请核对）：")
        expect(page.locator("#report-text")).to_contain_text("何平")
        screen("payroll-report")
        page.click("text=返回")
        page.wait_for_selector("#figures")

        # --- 核对清单核对: the 2-D scanner (keyboard mode) types the checklist's QR into the focused
        # field and ends with Enter; every figure ticks and 确认入库 is enabled. The code is never shown.
        expect(page.locator("#confirm-button")).to_be_disabled()
        expect(page.locator("#checklist-input")).to_be_focused()
        page.keyboard.type(qr_text)
        page.keyboard.press("Enter")
        expect(page.locator("#checklist-ok")).to_be_visible()
        assert page.locator("#checklist-result td").all_inner_texts() == ["✓", "✓", "✓", "✓"]
        expect(page.locator("#confirm-button")).to_be_enabled()
        assert check_code not in page.content()
        assert_accessible(page)
        shot(page, "kiosk", prefix="checklist")  # README's picture; not numbered, the walkthrough's stay as they are

        # --- 确认入库 → 入库中 → 成功.
        worker_consuming(live_worker, on=False)
        try:
            page.click("#confirm-button")
            expect(page.locator(".msg-success").first).to_contain_text("已确认入库")
            expect(page.locator("#batch-status")).to_have_text("入库中")
            screen("payroll-storing")
        finally:
            worker_consuming(live_worker, on=True)
        expect(page.locator("#batch-status")).to_have_text("成功", timeout=60_000)
        expect(page.locator(".msg-success").last).to_contain_text("文件已成功入库")
        screen("payroll-stored")
        assert Employee.objects.filter(company=bank.company, name="何平").count() == 1

        # 查询工资文件: 成功, with the report to download.
        page.goto("/home/")
        page.click("text=查询工资文件")
        expect(page.locator("#batches tbody tr")).to_have_count(1)
        expect(page.locator("#batches tbody tr td").nth(5)).to_have_text("成功")
        screen("payroll-query")

        # No return file yet: it comes the day after the pay date.
        page.goto("/returns/")
        expect(page.locator("#empty")).to_be_visible()
        screen("returns-none-yet")
        page.click("text=退出系统")
        page.wait_for_selector("#swipe-button")

        # --- 4. Pay day: the clock moves to the pay date; the pay-day job runs on the real worker.
        business_clock.set(at(PAY_DATE, 10))
        task_run_on_worker("apps.ledger.tasks.payday_run")
        wait_until(lambda: PayrollBatch.objects.get(pk=batch.pk).status != BatchStatus.STORED, timeout=60,
                   what="the pay-day job")
        batch.refresh_from_db()
        assert batch.status == BatchStatus.PAID

        # --- 5. The next morning: the return-file job runs (the kiosk itself is closed at 03:00).
        next_morning = date(2026, 12, 3)
        business_clock.set(at(next_morning, 3))
        page.goto("/")
        expect(page.locator("h1")).to_have_text("自助平台暂停服务")
        assert page.locator("#swipe-button").count() == 0
        screen("closed-at-night")
        task_run_on_worker("apps.returns.tasks.return_files_run")
        wait_until(lambda: ReturnFile.objects.filter(batch_id=batch.pk).exists(), timeout=60,
                   what="the return-file job")
        wait_until(lambda: PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.RETURNED, timeout=30,
                   what="the batch to be 已回盘")

        # --- 6. 回盘文件查询/下载, as soon as the kiosk opens: 查看 the totals, 下载 the sealed file.
        business_clock.set(at(next_morning, 9, 5))
        page.goto("/")
        swipe_and_pin(page, bank.card_number, JOURNEY_CARD_PIN)
        page.wait_for_url("**/home/")
        page.click("text=回盘文件查询/下载")
        expect(page.locator("#return-files tbody tr")).to_have_count(1)
        expect(page.locator("#return-files tbody tr td").first).to_have_text(BATCH_NO)
        screen("returns")
        page.click("#return-files tbody a:has-text('查看')")
        # 成功笔数, 成功金额, 失败笔数, 失败金额, 实收手续费.
        expect(page.locator("#return-figures .value")).to_have_text(["4", "30,850.50", "1", "5,432.10", "2.00"])
        screen("return-file")
        page.click("text=返回")
        with page.expect_download() as info:
            page.click("#return-files tbody a:has-text('下载')")
        download = info.value
        downloaded = drive / "returns" / download.suggested_filename
        downloaded.parent.mkdir(parents=True, exist_ok=True)
        download.save_as(downloaded)
        assert download.suggested_filename == f"RET_{BATCH_NO}_{PAY_DATE:%Y%m%d}.p7m"  # batch and pay date
        page.click("text=退出系统")

        # --- 7. Another company's agent at the kiosk sees none of these files.
        swipe_and_pin(page, other_agent.card_number, CARD_PIN)
        page.wait_for_url("**/home/")
        expect(page.locator(".brand small")).to_have_text(other_agent.company.name)
        page.goto("/payroll/?upload_date=2026-12-01")
        expect(page.locator("#empty")).to_be_visible()
        assert page.locator("#batches").count() == 0
        screen("other-company-payroll-query")
        page.goto("/employees/?upload_date=2026-12-01")
        expect(page.locator("#empty")).to_be_visible()
        page.goto("/returns/")
        expect(page.locator("#empty")).to_be_visible()
        employee_file_pk = EmployeeFile.objects.get(company=bank.company).pk
        for url in (f"/payroll/{batch.pk}/", f"/payroll/{batch.pk}/report.txt", f"/employees/{employee_file_pk}/",
                    f"/employees/{employee_file_pk}/rows/", f"/returns/{batch.pk}/",
                    f"/returns/{batch.pk}/download/"):
            assert page.request.get(url).status == 404, url
        page.goto("/returns/")
        page.click("text=退出系统")

    # --- 8. The client decrypts the return file (文件回盘); its totals equal the ledger.
    client.run("return", str(downloaded), "--out", str(tmp_path / "return-list"))
    return_list = labelled(only_file(tmp_path / "return-list", suffix="_回盘清单.txt").read_text(encoding="utf-8"))
    with only_file(tmp_path / "return-list", suffix=".csv").open(encoding="utf-8-sig", newline="") as handle:
        return_rows = list(csv.reader(handle))[1:]

    credits = JournalEntry.objects.filter(batch_id=batch.pk, kind=EntryKind.PAYROLL, side=EntrySide.CREDIT,
                                          is_reversal=False).aggregate(n=Count("id"), total=Sum("amount"))
    [settlement_debit] = JournalEntry.objects.filter(batch_id=batch.pk, kind=EntryKind.PAYROLL,
                                                     side=EntrySide.DEBIT, account_id=bank.settlement.pk)
    [fee_debit] = JournalEntry.objects.filter(batch_id=batch.pk, kind=EntryKind.FEE, side=EntrySide.DEBIT,
                                              account_id=bank.settlement.pk)
    money = Decimal(return_list["成功金额 Paid amount"].replace(",", ""))
    assert int(return_list["成功笔数 Paid"]) == credits["n"] == 4
    assert money == credits["total"] == settlement_debit.amount == Decimal("30850.50")
    assert Decimal(return_list["手续费 Fee charged"]) == fee_debit.amount == Decimal("2.00")
    assert return_list["失败笔数 Failed"] == "1"
    assert Decimal(return_list["失败金额 Failed amount"].replace(",", "")) == Decimal("5432.10")
    assert LedgerAccount.objects.get(pk=bank.settlement.pk).balance == settlement_before - money - fee_debit.amount
    failed = [row for row in return_rows if row[4] != "0000"]
    assert [(row[2], row[4]) for row in failed] == [("刘洋", "AC06")]
    assert len(return_rows) == 5
