"""Seed the demo bank. Idempotent: running it again creates nothing twice.

The bank's keys, the holiday calendar, one company with an agreement, its USB key and
agreement package, a service card, ledger accounts for its employees, sample spreadsheets, and the
staff logins (administrator, clerk, supervisor) — everything the README's walkthrough needs, written to ``var/demo/``.
"""

from __future__ import annotations

import csv
import io
import secrets
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from openpyxl import Workbook

from apps.agreements.models import Agreement, Company
from apps.agreements.services import (
    agreement_create,
    agreement_package_export,
    bank_keys_create,
    bank_root_cert,
    company_create,
    enterprise_key_issue,
)
from apps.cards.models import ServiceCard
from apps.cards.services import card_issue, card_number_hash
from apps.core import clock
from apps.ledger.models import AccountKind, AccountStatus, LedgerAccount
from apps.ledger.services import ledger_account_open, ledger_deposit, ledger_fee_income_account
from apps.payroll.services.review import CLERK_GROUP, SUPERVISOR_GROUP, payroll_review_roles_ensure
from apps.workdays.services import holiday_seed
from payroll_exchange import pki
from payroll_exchange.account_opening import luhn_complete
from payroll_exchange.checks import resident_id_check_char

DEMO_COMPANY = "上海示例科技有限公司"
DEMO_USCC = "91310000MA1FL8TQ36"
DEMO_AGREEMENT = "DF2026000001"
DEMO_PAYER_UNIT = "U310001"
DEMO_SETTLEMENT = "310066001800001"
DEMO_CARD = "6222020200112233446"
DEMO_CARD_PIN = "246810"
DEMO_USBKEY_PIN = "135790"
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞", "徐军", "孙丽",
         "马超", "朱琳", "胡斌", "郭婷", "何平"]
# The last name is a new hire: not in the employee file, so the payroll confirmation lists them.
REGISTERED = 16
FROZEN_INDEX = 4  # 陈静's account is frozen: the return file shows a failed row (AC06)
_LEDGER_VIEW = ["view_ledgeraccount", "view_journalentry", "view_staffposting"]
# (login, what the demo prints, payroll review group or None for the administrator, ledger permissions)
DEMO_STAFF = [
    ("demo-admin", "Back office admin 后台管理员", None, []),
    ("demo-clerk", "Clerk 代发复核员 (hold, counter postings)", CLERK_GROUP,
     [*_LEDGER_VIEW, "add_ledgeraccount", "add_staffposting"]),
    ("demo-supervisor", "Supervisor 代发主管 (release, reject, approve postings)", SUPERVISOR_GROUP,
     [*_LEDGER_VIEW, "approve_staffposting"]),
]


def demo_employees() -> list[dict]:
    people = []
    for i, name in enumerate(NAMES, start=1):
        first17 = f"310104{1980 + i:04d}{i % 12 + 1:02d}{i % 28 + 1:02d}{i * 7:03d}"  # region, birth date, order
        people.append({
            "id_type": "0",
            "id_number": first17 + resident_id_check_char(first17),
            "name": name,
            "account": luhn_complete(f"622202{100000 + i:06d}000{i:02d}"[:18]),
            "amount": Decimal("6000.00") + Decimal(i * 250),
        })
    return people


class Command(BaseCommand):
    help = "Create the demo bank (idempotent): keys, company, agreement, card, ledger, sample files."

    def handle(self, *args, **options):
        demo_dir = settings.VAR_DIR / "demo"
        demo_dir.mkdir(parents=True, exist_ok=True)
        now = clock.now()
        today = now.date()
        bank_keys_create(now=now)
        holiday_seed(years=[today.year, today.year + 1])
        with transaction.atomic():
            company = Company.objects.filter(uscc=DEMO_USCC).first() or company_create(name=DEMO_COMPANY,
                                                                                      uscc=DEMO_USCC)
            self._ledger(company)  # the settlement account exists before the agreement names it
            agreement = Agreement.objects.filter(number=DEMO_AGREEMENT).first()
            if agreement is None:
                certificate, p12 = enterprise_key_issue(company=company, pin=DEMO_USBKEY_PIN, now=now,
                                                        common_name=DEMO_AGREEMENT)
                (demo_dir / "usbkey.p12").write_bytes(p12)
                agreement = agreement_create(
                    company=company, number=DEMO_AGREEMENT, payer_unit_no=DEMO_PAYER_UNIT,
                    start_date=date(today.year, 1, 1), end_date=date(today.year + 1, 12, 31),
                    fee_per_payment=Decimal("0.50"), single_limit=Decimal("50000.00"),
                    settlement_account=DEMO_SETTLEMENT, certificate=certificate, now=now,
                )
            if not ServiceCard.objects.filter(number_hash=card_number_hash(DEMO_CARD)).exists():
                card_issue(company=company, number=DEMO_CARD, pin=DEMO_CARD_PIN)
            logins = self._staff(demo_dir)
        (demo_dir / f"agreement-{DEMO_AGREEMENT}.pkg").write_bytes(agreement_package_export(agreement=agreement))
        root = bank_root_cert()
        (demo_dir / "bank-root.pem").write_bytes(pki.cert_pem(root))
        self._sheets(demo_dir)
        fingerprint = pki.fingerprint_display(pki.cert_fingerprint(root))
        self.stdout.write(f"Demo card 服务卡: {DEMO_CARD}   PIN 密码: {DEMO_CARD_PIN}")
        self.stdout.write(f"USB key 企业证书: {demo_dir / 'usbkey.p12'}   PIN: {DEMO_USBKEY_PIN}")
        self.stdout.write(f"Bank root 银行根证书: {demo_dir / 'bank-root.pem'}  SHA-256 {fingerprint}")
        for label, username, password in logins:
            self.stdout.write(f"{label}: {username}   password 密码: {password}")
        self.stdout.write(f"  (kept in {demo_dir / 'staff-login.txt'})")

    def _ledger(self, company: Company) -> None:
        ledger_fee_income_account()
        if not LedgerAccount.objects.filter(number=DEMO_SETTLEMENT).exists():
            settlement = ledger_account_open(number=DEMO_SETTLEMENT, holder_name=DEMO_COMPANY,
                                             kind=AccountKind.SETTLEMENT, company=company)
            ledger_deposit(account=settlement, amount=Decimal("1000000.00"), memo="演示存入")
        for i, person in enumerate(demo_employees()):
            if not LedgerAccount.objects.filter(number=person["account"]).exists():
                ledger_account_open(
                    number=person["account"], holder_name=person["name"], kind=AccountKind.EMPLOYEE,
                    status=AccountStatus.FROZEN if i == FROZEN_INDEX else AccountStatus.NORMAL,
                )

    def _staff(self, demo_dir) -> list[tuple[str, str, str]]:
        """The demo's back-office logins: an administrator, and a clerk and a supervisor so the
        four-eyes review (the clerk holds, another person releases) can be tried at once. Passwords
        are random, kept in staff-login.txt (0600) and printed at every start."""
        credentials = demo_dir / "staff-login.txt"
        known: dict[str, str] = {}
        if credentials.exists():
            for line in credentials.read_text(encoding="utf-8").splitlines():
                name, _sep, password = line.partition(" ")
                if password:
                    known[name] = password
        payroll_review_roles_ensure()
        user_model = get_user_model()
        logins = []
        for username, label, group_name, ledger_codenames in DEMO_STAFF:
            user = user_model.objects.filter(username=username).first()
            if user is None or username not in known:
                known[username] = secrets.token_urlsafe(12)
                if user is None:
                    user = user_model(username=username, is_staff=True, is_superuser=group_name is None)
                user.set_password(known[username])
                user.save()
            if group_name is not None:
                user.groups.add(Group.objects.get(name=group_name))
                user.user_permissions.add(*Permission.objects.filter(content_type__app_label="ledger",
                                                                     codename__in=ledger_codenames))
            logins.append((label, username, known[username]))
        credentials.write_text("".join(f"{name} {password}\n" for name, password in known.items()), encoding="utf-8")
        credentials.chmod(0o600)
        return logins

    def _sheets(self, demo_dir) -> None:
        people = demo_employees()
        # The manual's layout: ID type in column 1, ID number 2, name 3, account 4, data from row 2.
        employees = Workbook()
        sheet = employees.active
        sheet.title = "员工信息"
        sheet.append(["证件类型", "证件号码", "客户", "客户帐号"])
        for p in people[:REGISTERED]:
            sheet.append(["身份证", p["id_number"], p["name"], p["account"]])
        employees.save(demo_dir / "employees.xlsx")

        payroll = Workbook()
        sheet = payroll.active
        sheet.title = "工资"
        sheet.append(["证件类型", "证件号码", "客户", "客户帐号", "金额", "备注"])
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["证件类型", "证件号码", "客户", "客户帐号", "金额", "备注"])
        for p in people:
            row = ["0", p["id_number"], p["name"], p["account"], str(p["amount"]), "工资"]
            sheet.append(row)
            writer.writerow(row)
        payroll.save(demo_dir / "payroll.xlsx")
        (demo_dir / "payroll.csv").write_bytes(buffer.getvalue().encode("gb18030"))
