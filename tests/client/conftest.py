"""The enterprise client as a user runs it: the installed console script in a subprocess, a
temporary data folder, and the environment standing in for prompts nobody can type.

PKI comes from the suite's session fixtures (tests/fixtures/pki.py): keys are made once. The
set-up every test needs (admin password changed, bank root trusted, USB key registered, users
0001, 0002 and 0003, agreement A imported) is done once per session in a template data folder
that each test copies, so each test starts from the same state in milliseconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from payroll_exchange import envelope, pki
from payroll_exchange.agreement_package import agreement_dump
from payroll_exchange.records import AgreementPackage
from tests.fixtures.pki import (  # noqa: F401 - fixtures used by name
    AGREEMENT_A,
    AGREEMENT_B,
    COMPANY_A,
    COMPANY_B,
    PKI_NOW,
    USBKEY_PIN,
    bank_crl,
    bank_identity,
    bank_root,
    bank_trust,
    enterprise_a,
    enterprise_b,
    foreign_root,
    revoked_enterprise,
    usbkey_p12,
)

CLIENT = str(Path(sys.executable).with_name("payroll-client"))
BUSINESS_NOW = "2026-12-01T10:00:00+08:00"
TODAY = date(2026, 12, 1)
PAY_DATE = "2026-12-05"
ADMIN_PASSWORD = "Admin#2026"
PASSWORDS = {"0001": "op-0001-pw", "0002": "rv-0002-pw", "0003": "qq-0003-pw"}
FIRST_PASSWORDS = {name: f"first-{name}" for name in PASSWORDS}
OPERATOR_FUNCTIONS = "文件加密,文件回盘,员工盘片,导入员工,协议查询,信息查询"


@dataclass
class Client:
    """Runs payroll-client against one data folder, as ``user`` unless told otherwise."""

    home: Path
    base_env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, user: str | None = "0001", env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        full = {k: v for k, v in os.environ.items() if not k.startswith("PAYROLL_CLIENT")}
        full.update(self.base_env)
        full["PAYROLL_CLIENT_HOME"] = str(self.home)
        full["BUSINESS_CLOCK"] = BUSINESS_NOW
        if user:
            full["PAYROLL_CLIENT_USER"] = user
            full["PAYROLL_CLIENT_PASSWORD"] = ADMIN_PASSWORD if user == "admin" else PASSWORDS[user]
        full.update(env or {})
        return subprocess.run([CLIENT, *args], capture_output=True, text=True, env=full, input=stdin or "",
                              timeout=60, check=False)

    def ok(self, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, **kwargs)
        assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
        return result


def agreement_package(*, signer: pki.Identity, enterprise: pki.Identity, agreement_no: str, company: str,
                      bank_cert: pki.Identity) -> bytes:
    package = AgreementPackage(
        company_name=company, agreement_no=agreement_no, payer_unit_no="PU" + agreement_no[-6:],
        start_date=date(2026, 1, 1), end_date=date(2027, 12, 31), fee_per_payment=Decimal("1.50"),
        single_limit=Decimal("50000.00"), settlement_account="1001200300400500",
        enterprise_cert_fingerprint=enterprise.fingerprint, bank_cert_pem=pki.cert_pem(bank_cert.cert))
    return envelope.signed_seal(payload=agreement_dump(package), kind="agreement", signer=signer)


@pytest.fixture(scope="session")
def files_dir(tmp_path_factory: pytest.TempPathFactory,
              bank_root, bank_identity, enterprise_a, enterprise_b, foreign_root, usbkey_p12) -> Path:  # noqa: F811
    folder = tmp_path_factory.mktemp("bank-files")
    (folder / "root.pem").write_bytes(pki.cert_pem(bank_root.cert))
    (folder / "usbkey.p12").write_bytes(usbkey_p12)
    (folder / "agreement-a.pkg").write_bytes(agreement_package(
        signer=bank_identity, enterprise=enterprise_a, agreement_no=AGREEMENT_A, company=COMPANY_A,
        bank_cert=bank_identity))
    (folder / "agreement-b.pkg").write_bytes(agreement_package(
        signer=bank_identity, enterprise=enterprise_b, agreement_no=AGREEMENT_B, company=COMPANY_B,
        bank_cert=bank_identity))
    impostor = pki.cert_issue(issuer=foreign_root, common_name="impostor bank", organization="示例银行股份有限公司",
                              role="bank", now=PKI_NOW)
    (folder / "agreement-foreign.pkg").write_bytes(agreement_package(
        signer=impostor, enterprise=enterprise_a, agreement_no=AGREEMENT_A, company=COMPANY_A,
        bank_cert=impostor))
    return folder


@pytest.fixture(scope="session")
def template_home(tmp_path_factory: pytest.TempPathFactory, files_dir: Path) -> Path:
    home = tmp_path_factory.mktemp("client-template")
    client = Client(home=home)
    client.ok("login", "admin", user=None, env={"PAYROLL_CLIENT_PASSWORD": "admin",
                                                "PAYROLL_CLIENT_NEW_PASSWORD": ADMIN_PASSWORD})
    client.ok("install", "--root", str(files_dir / "root.pem"), "--yes", "--usbkey", str(files_dir / "usbkey.p12"),
              user="admin", env={"PAYROLL_CLIENT_PIN": USBKEY_PIN})
    for name, functions in (("0001", OPERATOR_FUNCTIONS), ("0002", "文件加密"), ("0003", "协议查询")):
        client.ok("users", "add", name, "--functions", functions, user="admin",
                  env={"PAYROLL_CLIENT_NEW_PASSWORD": FIRST_PASSWORDS[name]})
        # the first password the administrator gave must be changed at the first login
        client.ok("login", name, user=None, env={"PAYROLL_CLIENT_PASSWORD": FIRST_PASSWORDS[name],
                                                 "PAYROLL_CLIENT_NEW_PASSWORD": PASSWORDS[name]})
    client.ok("agreement-import", str(files_dir / "agreement-a.pkg"))
    client.ok("logout", user=None)
    return home


@pytest.fixture
def client(template_home: Path, tmp_path: Path) -> Client:
    home = tmp_path / "home"
    shutil.copytree(template_home, home)
    return Client(home=home)


@pytest.fixture
def fresh_client(tmp_path: Path) -> Client:
    return Client(home=tmp_path / "fresh")


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "out"
