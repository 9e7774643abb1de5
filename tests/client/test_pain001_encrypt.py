"""文件加密 of an ISO 20022 pain.001 XML: checked, reviewed, signed and encrypted as its own envelope
kind; the bank opens it in the payroll slot and reads the same rows; a refused file writes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from payroll_exchange import envelope
from payroll_exchange.iso20022 import pain001_read
from tests.client.conftest import AGREEMENT_A, Client
from tests.client.test_payroll import BANK_NOW, REVIEW
from tests.exchange.pain001_make import Tx, pain001_xml
from tests.factories import resident_id, unionpay_account

SETTLEMENT = "1001200300400500"  # the client fixture's agreement package
TXS = [Tx(f"员工{i}", unionpay_account(i), "1000.00", resident_id(i)) for i in range(1, 4)]


def xml(**kwargs) -> bytes:
    return pain001_xml(**{"batch_no": "ISO202612", "pay_date": date(2026, 12, 5), "debtor_account": SETTLEMENT,
                          "txs": TXS, **kwargs})


def test_a_pain001_is_signed_and_encrypted_for_the_bank(client: Client, tmp_path: Path, out_dir: Path,
                                                        bank_identity, bank_trust, enterprise_a) -> None:
    source = tmp_path / "erp-export.xml"
    source.write_bytes(xml())
    result = client.run("encrypt", str(source), "--out", str(out_dir), env=REVIEW)
    assert result.returncode == 0, result.stderr
    stem = f"PAY_{AGREEMENT_A}_ISO202612_20261205"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        [f"{stem}.p7m", f"{stem}_核对清单.pdf", f"{stem}_核对清单.txt"])
    # The payroll slot opens it (its own kind), with the XML itself as the payload.
    opened = envelope.envelope_open(data=(out_dir / f"{stem}.p7m").read_bytes(), recipient=bank_identity,
                                    trust=bank_trust, now=BANK_NOW, expected_kind="payroll",
                                    expected_signer=enterprise_a.fingerprint)
    assert opened.kind == "pain001"
    assert opened.payload == source.read_bytes()
    payroll, errors, _ = pain001_read(opened.payload, agreement_no=AGREEMENT_A, payer_unit_no="x",
                                      settlement_account=SETTLEMENT)
    assert errors == []
    assert payroll.header.total_amount == Decimal("3000.00")
    text = (out_dir / f"{stem}_核对清单.txt").read_text(encoding="utf-8")
    for expected in (AGREEMENT_A, "ISO202612", "2026-12-05", "3,000.00", opened.digest):
        assert expected in text


def test_a_pain001_with_errors_writes_nothing(client: Client, tmp_path: Path, out_dir: Path) -> None:
    source = tmp_path / "erp-export.xml"
    source.write_bytes(xml(ctrl_sum="3000.01"))
    result = client.run("encrypt", str(source), "--out", str(out_dir), env=REVIEW)
    assert result.returncode == 2
    assert "total" in result.stderr or "总金额" in result.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_another_debtor_account_writes_nothing(client: Client, tmp_path: Path, out_dir: Path) -> None:
    source = tmp_path / "erp-export.xml"
    source.write_bytes(xml(debtor_account="9999000011112222"))
    result = client.run("encrypt", str(source), "--out", str(out_dir), env=REVIEW)
    assert result.returncode == 2
    assert "DbtrAcct" in result.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())
