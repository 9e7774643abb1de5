"""Interoperability with the real ``openssl cms`` (OpenSSL 3): our files open in openssl, and
files openssl writes with the documented commands open in ours — or are refused with their own code.

openssl verifies with ``-attime`` at the fixtures' business instant, so the run does not depend
on the machine's date. No ``-purpose any`` is needed: our leaf certificates carry keyUsage
digitalSignature and extendedKeyUsage emailProtection, which is what openssl's default S/MIME
signing purpose checks.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from payroll_exchange.envelope import envelope_open, envelope_seal, header_make, signed_open
from payroll_exchange.errors import ExchangeError
from payroll_exchange.pki import Identity, TrustStore, cert_fingerprint, cert_pem, crl_pem
from tests.fixtures.pki import PKI_NOW

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")

PAYLOAD = "D|1|6222020200112345678|王小明|8800.00|0|110101199003070019|十二月工资\n".encode()
ATTIME = str(int(PKI_NOW.timestamp()))


def _openssl(*args: str | Path) -> bytes:
    done = subprocess.run(["openssl", *map(str, args)], capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        raise AssertionError(f"openssl {' '.join(map(str, args))} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout


def _write_identity(directory: Path, name: str, identity: Identity) -> tuple[Path, Path]:
    cert = directory / f"{name}.pem"
    key = directory / f"{name}.key"
    cert.write_bytes(cert_pem(identity.cert))
    key.write_bytes(
        identity.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert, key


def _openssl_envelope(
    directory: Path, *, signer: Identity, recipient: Identity, cipher: str = "-aes256", content: bytes | None = None
) -> bytes:
    """sign -binary -nodetach -md sha256, then encrypt -binary with ``cipher``, all DER."""
    signer_cert, signer_key = _write_identity(directory, "signer", signer)
    recipient_cert = directory / "recipient.pem"
    recipient_cert.write_bytes(cert_pem(recipient.cert))
    if content is None:
        content = header_make(kind="payroll", file_id="openssl1", recipient=cert_fingerprint(recipient.cert)) + PAYLOAD
    (directory / "content.bin").write_bytes(content)
    _openssl(
        "cms", "-sign", "-binary", "-nodetach", "-md", "sha256", "-in", directory / "content.bin",
        "-signer", signer_cert, "-inkey", signer_key, "-outform", "DER", "-out", directory / "signed.der",
    )  # fmt: skip
    _openssl(
        "cms", "-encrypt", cipher, "-binary", "-in", directory / "signed.der",
        "-outform", "DER", "-out", directory / "enveloped.der", recipient_cert,
    )  # fmt: skip
    return (directory / "enveloped.der").read_bytes()


def _bank_open(data: bytes, bank: Identity, trust: TrustStore, expected_signer: str | None) -> str:
    with pytest.raises(ExchangeError) as caught:
        envelope_open(
            data=data,
            recipient=bank,
            trust=trust,
            now=PKI_NOW,
            expected_kind="payroll",
            expected_signer=expected_signer,
        )
    return caught.value.code


def test_our_envelope_decrypts_and_verifies_with_openssl(
    tmp_path: Path,
    enterprise_a: Identity,
    bank_identity: Identity,
    bank_root: Identity,
    bank_crl,
) -> None:
    data = envelope_seal(payload=PAYLOAD, kind="payroll", signer=enterprise_a, recipient_cert=bank_identity.cert)
    (tmp_path / "file.p7m").write_bytes(data)
    bank_cert, bank_key = _write_identity(tmp_path, "bank", bank_identity)
    # openssl cms has no -CRLfile: the CA file carries the CRL beside the root.
    (tmp_path / "root.pem").write_bytes(cert_pem(bank_root.cert) + crl_pem(bank_crl))
    _openssl(
        "cms", "-decrypt", "-binary", "-inform", "DER", "-in", tmp_path / "file.p7m",
        "-recip", bank_cert, "-inkey", bank_key, "-out", tmp_path / "signed.der",
    )  # fmt: skip
    content = _openssl(
        "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp_path / "signed.der",
        "-CAfile", tmp_path / "root.pem", "-crl_check", "-attime", ATTIME,
    )  # fmt: skip
    header = header_make(kind="payroll", file_id="x", recipient=cert_fingerprint(bank_identity.cert))
    assert content.startswith(header.split(b"file-id")[0])
    assert content.endswith(PAYLOAD)


def test_openssl_refuses_our_file_from_a_revoked_signer_too(
    tmp_path: Path, revoked_enterprise: Identity, bank_identity: Identity, bank_root: Identity, bank_crl
) -> None:
    # The same CRL means the same answer on both sides.
    data = envelope_seal(payload=PAYLOAD, kind="payroll", signer=revoked_enterprise, recipient_cert=bank_identity.cert)
    bank_cert, bank_key = _write_identity(tmp_path, "bank", bank_identity)
    (tmp_path / "file.p7m").write_bytes(data)
    # openssl cms has no -CRLfile: the CA file carries the CRL beside the root.
    (tmp_path / "root.pem").write_bytes(cert_pem(bank_root.cert) + crl_pem(bank_crl))
    _openssl(
        "cms", "-decrypt", "-binary", "-inform", "DER", "-in", tmp_path / "file.p7m",
        "-recip", bank_cert, "-inkey", bank_key, "-out", tmp_path / "signed.der",
    )  # fmt: skip
    with pytest.raises(AssertionError, match="revoked"):
        _openssl(
            "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp_path / "signed.der",
            "-CAfile", tmp_path / "root.pem", "-crl_check", "-attime", ATTIME,
        )  # fmt: skip


def test_openssl_made_file_is_accepted(
    tmp_path: Path, enterprise_a: Identity, bank_identity: Identity, bank_trust: TrustStore
) -> None:
    data = _openssl_envelope(tmp_path, signer=enterprise_a, recipient=bank_identity)
    opened = envelope_open(
        data=data,
        recipient=bank_identity,
        trust=bank_trust,
        now=PKI_NOW,
        expected_kind="payroll",
        expected_signer=cert_fingerprint(enterprise_a.cert),
    )
    assert opened.payload == PAYLOAD
    assert opened.file_id == "openssl1"
    assert opened.signer == enterprise_a.cert


def test_openssl_signed_agreement_package_is_accepted(
    tmp_path: Path, bank_identity: Identity, client_trust: TrustStore
) -> None:
    cert, key = _write_identity(tmp_path, "bank", bank_identity)
    (tmp_path / "agreement.txt").write_bytes(header_make(kind="agreement", file_id="a1", recipient="*") + b"A|1\n")
    _openssl(
        "cms", "-sign", "-binary", "-nodetach", "-md", "sha256", "-in", tmp_path / "agreement.txt",
        "-signer", cert, "-inkey", key, "-outform", "DER", "-out", tmp_path / "agreement.p7s",
    )  # fmt: skip
    opened = signed_open(
        data=(tmp_path / "agreement.p7s").read_bytes(), trust=client_trust, now=PKI_NOW, expected_kind="agreement"
    )
    assert opened.payload == b"A|1\n"


@pytest.mark.parametrize("cipher", ["-des3", "-aes128"])
def test_openssl_weak_ciphers_are_refused(
    cipher: str, tmp_path: Path, enterprise_a: Identity, bank_identity: Identity, bank_trust: TrustStore
) -> None:
    data = _openssl_envelope(tmp_path, signer=enterprise_a, recipient=bank_identity, cipher=cipher)
    assert _bank_open(data, bank_identity, bank_trust, None) == "envelope_weak_cipher"


def test_openssl_file_for_another_recipient(
    tmp_path: Path, enterprise_a: Identity, enterprise_b: Identity, bank_identity: Identity, bank_trust: TrustStore
) -> None:
    data = _openssl_envelope(tmp_path, signer=enterprise_a, recipient=enterprise_b)
    assert _bank_open(data, bank_identity, bank_trust, None) == "envelope_wrong_recipient"


def test_openssl_file_signed_under_another_agreement(
    tmp_path: Path, enterprise_a: Identity, enterprise_b: Identity, bank_identity: Identity, bank_trust: TrustStore
) -> None:
    data = _openssl_envelope(tmp_path, signer=enterprise_b, recipient=bank_identity)
    assert (
        _bank_open(data, bank_identity, bank_trust, cert_fingerprint(enterprise_a.cert)) == "envelope_signer_not_bound"
    )


@pytest.mark.parametrize(
    ("signer_fixture", "code"),
    [
        ("foreign_enterprise", "cert_untrusted"),
        ("expired_enterprise", "cert_expired"),
        ("revoked_enterprise", "cert_revoked"),
    ],
)
def test_openssl_file_with_an_unacceptable_signer(
    signer_fixture: str,
    code: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    bank_identity: Identity,
    bank_trust: TrustStore,
) -> None:
    signer: Identity = request.getfixturevalue(signer_fixture)
    data = _openssl_envelope(tmp_path, signer=signer, recipient=bank_identity)
    assert _bank_open(data, bank_identity, bank_trust, cert_fingerprint(signer.cert)) == code
