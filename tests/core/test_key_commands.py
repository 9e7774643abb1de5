"""The bank's key commands: create the bank keys once; issue an enterprise USB key file."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from apps.agreements.models import Certificate
from payroll_exchange import pki

pytestmark = pytest.mark.django_db


def test_bank_keys_create_is_idempotent_and_prints_the_root_fingerprint(business_clock, platform_keys, capsys):
    call_command("bank_keys_create")
    call_command("bank_keys_create")
    out = capsys.readouterr().out
    fingerprint = pki.fingerprint_display(pki.cert_fingerprint(platform_keys["root"].cert))
    assert out.count(fingerprint) == 2
    assert Certificate.objects.filter(role="bank").count() == 1


def test_enterprise_key_issue_writes_a_usb_key_that_opens_with_its_pin(
    business_clock, our_agent, tmp_path, monkeypatch
):
    monkeypatch.setenv("ENTERPRISE_KEY_PIN", "778899")
    out = tmp_path / "key.p12"
    call_command("enterprise_key_issue", "--company", our_agent.company.uscc, "--out", str(out))
    identity = pki.pkcs12_load(data=out.read_bytes(), pin="778899")
    assert Certificate.objects.get(fingerprint=pki.cert_fingerprint(identity.cert)).company == our_agent.company
    assert out.stat().st_mode & 0o777 == 0o600


def test_enterprise_key_issue_refuses_an_unknown_company_and_writes_nothing(business_clock, platform_keys, tmp_path,
                                                                            monkeypatch, db):
    monkeypatch.setenv("ENTERPRISE_KEY_PIN", "778899")
    out = tmp_path / "key.p12"
    before = Certificate.objects.count()
    with pytest.raises(CommandError, match="no company"):
        call_command("enterprise_key_issue", "--company", "91310000MA1FL8TQ36", "--out", str(out))
    assert not out.exists()
    assert Certificate.objects.count() == before
