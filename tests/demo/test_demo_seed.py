"""The demo's seed, in-process: the clerk and supervisor logins it prints work at once for the
four-eyes review, a rerun prints the same logins and creates nothing twice; the README names every
prompt's variable and git ignores what the walkthrough writes."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import Client

from apps.agreements.models import Agreement
from apps.core.management.commands.demo_seed import DEMO_AGREEMENT, DEMO_SETTLEMENT
from apps.ledger.models import AccountKind, LedgerAccount
from apps.payroll.services.review import CLERK_GROUP, SUPERVISOR_GROUP
from payroll_client import prompts

REPO = Path(__file__).resolve().parents[2]
LOGIN = re.compile(r"^(.+?): (demo-[a-z]+)   password 密码: (\S+)$", re.M)


def seed(settings, var: Path) -> dict[str, str]:
    settings.VAR_DIR = var
    out = io.StringIO()
    call_command("demo_seed", stdout=out)
    return {username: password for _label, username, password in LOGIN.findall(out.getvalue())}


@pytest.mark.django_db
def test_the_seed_prints_a_clerk_and_a_supervisor_who_can_review_at_once(business_clock, platform_keys, settings,
                                                                        tmp_path, django_user_model):
    logins = seed(settings, tmp_path)

    assert set(logins) == {"demo-admin", "demo-clerk", "demo-supervisor"}
    clerk = authenticate(username="demo-clerk", password=logins["demo-clerk"])
    supervisor = authenticate(username="demo-supervisor", password=logins["demo-supervisor"])
    assert clerk is not None
    assert supervisor is not None
    assert [g.name for g in clerk.groups.all()] == [CLERK_GROUP]
    assert [g.name for g in supervisor.groups.all()] == [SUPERVISOR_GROUP]
    assert clerk.has_perm("payroll.hold_payrollbatch")
    assert not clerk.has_perm("payroll.release_payrollbatch")
    assert supervisor.has_perm("payroll.release_payrollbatch")
    assert supervisor.has_perm("ledger.approve_staffposting")
    assert not clerk.has_perm("ledger.approve_staffposting")
    for username in ("demo-clerk", "demo-supervisor"):
        browser = Client()
        assert browser.login(username=username, password=logins[username])
        assert browser.get("/admin/payroll/payrollbatch/").status_code == 200
    agreement = Agreement.objects.get(number=DEMO_AGREEMENT)
    settlement = LedgerAccount.objects.get(number=DEMO_SETTLEMENT)
    assert (settlement.kind, settlement.company_id) == (AccountKind.SETTLEMENT, agreement.company_id)
    assert (tmp_path / "demo" / "staff-login.txt").stat().st_mode & 0o777 == 0o600

    again = seed(settings, tmp_path)

    assert again == logins  # the same logins, printed again
    assert django_user_model.objects.filter(username__startswith="demo-").count() == 3
    assert Agreement.objects.filter(number=DEMO_AGREEMENT).count() == 1


def test_the_readme_names_every_variable_that_stands_in_for_a_prompt():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    variables = {value for name, value in vars(prompts).items() if name.endswith("_ENV")}
    assert variables == {"PAYROLL_CLIENT_PIN", "PAYROLL_CLIENT_USER", "PAYROLL_CLIENT_PASSWORD",
                         "PAYROLL_CLIENT_NEW_PASSWORD", "PAYROLL_CLIENT_REVIEWER",
                         "PAYROLL_CLIENT_REVIEWER_PASSWORD"}
    table = readme.split("Every question the client asks", 1)[1].split("## ", 1)[0]
    for variable in variables:
        assert f"`{variable}`" in table, variable
    for question in ("USBKEY 密码 PIN", "新密码 new password", "复核人密码", "指纹一致?"):
        assert question in table, question
    assert "Business clock 业务时钟: export BUSINESS_CLOCK=" in readme
    assert "demo-clerk" in readme
    assert "demo-supervisor" in readme


def test_git_ignores_what_the_walkthrough_writes_into_the_checkout():
    checked = subprocess.run(["git", "check-ignore", "usb/PAY_DEMO0001.p7m", "returns/RET_x.csv"],  # noqa: S607
                             cwd=REPO, capture_output=True, text=True, check=False)
    assert checked.stdout.split() == ["usb/PAY_DEMO0001.p7m", "returns/RET_x.csv"]
