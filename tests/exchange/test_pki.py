"""The bank PKI: certificates, the USB key, the CRL and path validation (no database)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import crl as asn1_crl
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from payroll_exchange.errors import ExchangeError
from payroll_exchange.pki import (
    Identity,
    TrustStore,
    cert_fingerprint,
    cert_issue,
    cert_load,
    cert_load_pem,
    cert_pem,
    cert_role,
    chain_verify,
    crl_load,
    crl_make,
    crl_pem,
    fingerprint_display,
    pkcs12_dump,
    pkcs12_load,
)
from tests.fixtures.pki import AGREEMENT_A, COMPANY_A, PKI_NOW, USBKEY_PIN

# DER of the OIDs that tell how a PKCS#12 file is protected.
PBES2_OID = bytes.fromhex("06092a864886f70d01050d")
AES256_CBC_OID = bytes.fromhex("060960864801650304012a")
PBE_SHA1_3DES_OID = bytes.fromhex("060a2a864886f70d010c0103")


def _refused(code: str, **kwargs) -> ExchangeError:
    with pytest.raises(ExchangeError) as caught:
        chain_verify(**kwargs)
    assert caught.value.code == code
    return caught.value


def test_root_is_a_self_signed_ca_for_certificates_and_crls(bank_root: Identity) -> None:
    cert = bank_root.cert
    assert cert.issuer == cert.subject
    cert.verify_directly_issued_by(cert)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign
    assert usage.value.crl_sign
    assert not usage.value.digital_signature
    assert isinstance(bank_root.key, rsa.RSAPrivateKey)
    assert bank_root.key.key_size == 3072
    assert bank_root.chain == []


def test_bank_certificate_signs_and_receives_keys(bank_root: Identity, bank_identity: Identity) -> None:
    cert = bank_identity.cert
    cert.verify_directly_issued_by(bank_root.cert)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.key_encipherment
    assert not usage.key_cert_sign
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    assert cert_role(cert) == "bank"
    assert bank_identity.chain == [bank_root.cert]
    assert bank_identity.key.key_size == 2048


def test_enterprise_certificate_names_company_and_agreement(enterprise_a: Identity) -> None:
    subject = enterprise_a.cert.subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == COMPANY_A
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == AGREEMENT_A
    assert cert_role(enterprise_a.cert) == "enterprise"
    assert enterprise_a.cert.not_valid_after_utc - enterprise_a.cert.not_valid_before_utc == timedelta(days=730)


def test_cert_issue_takes_the_serial_and_the_instant_given(bank_root: Identity) -> None:
    start = datetime(2026, 5, 4, 8, 30, tzinfo=UTC)
    issued = cert_issue(
        issuer=bank_root, common_name="DF1", organization="X", role="enterprise", now=start, days=10, serial=4242
    )
    assert issued.cert.serial_number == 4242
    assert issued.cert.not_valid_before_utc == start
    assert issued.cert.not_valid_after_utc == start + timedelta(days=10)


def test_cert_issue_refuses_a_naive_now_and_an_unknown_role(bank_root: Identity) -> None:
    with pytest.raises(ValueError, match="aware"):
        cert_issue(issuer=bank_root, common_name="x", organization="x", role="enterprise", now=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="role"):
        cert_issue(issuer=bank_root, common_name="x", organization="x", role="admin", now=PKI_NOW)  # type: ignore[arg-type]


def test_usbkey_round_trip_keeps_key_certificate_and_chain(
    enterprise_a: Identity, bank_root: Identity, usbkey_p12: bytes
) -> None:
    loaded = pkcs12_load(data=usbkey_p12, pin=USBKEY_PIN)
    assert loaded.cert == enterprise_a.cert
    assert loaded.key.private_numbers() == enterprise_a.key.private_numbers()
    assert loaded.chain == [bank_root.cert]


def test_usbkey_is_protected_with_pbes2_aes256_not_3des(usbkey_p12: bytes) -> None:
    assert PBES2_OID in usbkey_p12
    assert AES256_CBC_OID in usbkey_p12
    assert PBE_SHA1_3DES_OID not in usbkey_p12


@pytest.mark.parametrize("pin", ["000000", "", "1357901", "１３５７９０"])
def test_usbkey_wrong_pin_is_refused(usbkey_p12: bytes, pin: str) -> None:
    with pytest.raises(ExchangeError) as caught:
        pkcs12_load(data=usbkey_p12, pin=pin)
    assert caught.value.code == "usbkey_pin"
    assert "密码" in caught.value.zh
    assert "PIN" in caught.value.en


def test_usbkey_damaged_file_is_refused_like_a_wrong_pin(usbkey_p12: bytes) -> None:
    damaged = usbkey_p12[:-40] + bytes(40)
    with pytest.raises(ExchangeError) as caught:
        pkcs12_load(data=damaged, pin=USBKEY_PIN)
    assert caught.value.code == "usbkey_pin"


def test_usbkey_needs_a_pin(enterprise_a: Identity) -> None:
    with pytest.raises(ValueError, match="PIN"):
        pkcs12_dump(identity=enterprise_a, pin="")


def test_crl_is_signed_by_the_root_and_lists_the_revoked_serial(
    bank_root: Identity, bank_crl: x509.CertificateRevocationList, revoked_enterprise: Identity
) -> None:
    assert bank_crl.is_signature_valid(bank_root.cert.public_key())
    assert bank_crl.issuer == bank_root.cert.subject
    entry = bank_crl.get_revoked_certificate_by_serial_number(revoked_enterprise.cert.serial_number)
    assert entry is not None
    assert entry.revocation_date_utc == PKI_NOW - timedelta(days=2)
    assert bank_crl.next_update_utc == PKI_NOW - timedelta(hours=1) + timedelta(days=7)
    assert len(bank_crl) == 1


def test_fingerprint_is_sha256_of_der_and_displays_with_colons(enterprise_a: Identity) -> None:
    fp = cert_fingerprint(enterprise_a.cert)
    assert len(fp) == 64
    assert fp == fp.lower()
    shown = fingerprint_display(fp)
    assert shown.count(":") == 31
    assert shown.replace(":", "") == fp.upper()
    assert fingerprint_display("ab:cd:ef") == "AB:CD:EF"


def test_pem_round_trip_and_garbage(bank_root: Identity) -> None:
    assert cert_load_pem(cert_pem(bank_root.cert)) == bank_root.cert
    with pytest.raises(ExchangeError) as caught:
        cert_load_pem(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    assert caught.value.code == "cert_unreadable"


# -- path validation -------------------------------------------------------------------------------


def test_chain_verify_returns_the_path_to_the_trusted_root(
    enterprise_a: Identity, bank_root: Identity, bank_trust: TrustStore
) -> None:
    path = chain_verify(cert=enterprise_a.cert, intermediates=[], trust=bank_trust, now=PKI_NOW)
    assert path == [enterprise_a.cert, bank_root.cert]


def test_chain_to_a_foreign_root_is_untrusted_even_when_the_file_brings_it(
    foreign_enterprise: Identity, foreign_root: Identity, bank_trust: TrustStore
) -> None:
    error = _refused(
        "cert_untrusted",
        cert=foreign_enterprise.cert,
        intermediates=[foreign_root.cert],
        trust=bank_trust,
        now=PKI_NOW,
    )
    assert "根证书" in error.zh


def test_expired_and_not_yet_valid_certificates(
    expired_enterprise: Identity, not_yet_valid_enterprise: Identity, bank_trust: TrustStore
) -> None:
    _refused("cert_expired", cert=expired_enterprise.cert, intermediates=[], trust=bank_trust, now=PKI_NOW)
    _refused("cert_not_yet_valid", cert=not_yet_valid_enterprise.cert, intermediates=[], trust=bank_trust, now=PKI_NOW)


def test_dates_are_checked_at_the_business_now_given(enterprise_a: Identity, client_trust: TrustStore) -> None:
    later = enterprise_a.cert.not_valid_after_utc + timedelta(seconds=1)
    _refused("cert_expired", cert=enterprise_a.cert, intermediates=[], trust=client_trust, now=later)


def test_revoked_certificate_is_refused(revoked_enterprise: Identity, bank_trust: TrustStore) -> None:
    _refused("cert_revoked", cert=revoked_enterprise.cert, intermediates=[], trust=bank_trust, now=PKI_NOW)


def test_crl_past_next_update_is_refused(enterprise_a: Identity, bank_trust: TrustStore) -> None:
    _refused("crl_expired", cert=enterprise_a.cert, intermediates=[], trust=bank_trust, now=PKI_NOW + timedelta(days=7))


def test_crl_signed_by_an_impostor_with_the_root_name_is_refused(
    enterprise_a: Identity, bank_root: Identity, foreign_root: Identity
) -> None:
    forged = crl_make(issuer=foreign_root, revoked=[], now=PKI_NOW)
    assert forged.issuer == bank_root.cert.subject
    trust = TrustStore(roots=[bank_root.cert], crls=[forged])
    _refused("crl_invalid", cert=enterprise_a.cert, intermediates=[], trust=trust, now=PKI_NOW)


def test_missing_crl_is_refused_when_required_and_skipped_offline(
    revoked_enterprise: Identity, bank_root: Identity, client_trust: TrustStore
) -> None:
    required = TrustStore(roots=[bank_root.cert], crls=[], require_crl=True)
    _refused("crl_missing", cert=revoked_enterprise.cert, intermediates=[], trust=required, now=PKI_NOW)
    # The offline client holds no CRL: revocation is the bank's check, on upload.
    assert chain_verify(cert=revoked_enterprise.cert, intermediates=[], trust=client_trust, now=PKI_NOW)


def test_a_leaf_cannot_act_as_an_issuer(enterprise_a: Identity, bank_trust: TrustStore) -> None:
    # Enterprise A's key issues a certificate: signature fine, but A is not a CA.
    child = cert_issue(issuer=enterprise_a, common_name="DF9", organization="X", role="enterprise", now=PKI_NOW)
    _refused("cert_invalid", cert=child.cert, intermediates=[enterprise_a.cert], trust=bank_trust, now=PKI_NOW)


def test_the_root_itself_cannot_sign_files(bank_root: Identity, bank_trust: TrustStore) -> None:
    _refused("cert_invalid", cert=bank_root.cert, intermediates=[], trust=bank_trust, now=PKI_NOW)


def test_every_refusal_speaks_both_languages(expired_enterprise: Identity, bank_trust: TrustStore) -> None:
    error = _refused("cert_expired", cert=expired_enterprise.cert, intermediates=[], trust=bank_trust, now=PKI_NOW)
    assert "过期" in error.zh
    assert "expired" in error.en
    assert error.message("en") == error.en
    assert error.message() == error.zh


# -- loading: every refusal is ExchangeError -------------------------------------------------------


def _crl_resigned(crl: x509.CertificateRevocationList, issuer: Identity, edit) -> bytes:
    tbs = asn1_crl.CertificateList.load(crl.public_bytes(serialization.Encoding.DER))["tbs_cert_list"]
    edit(tbs)
    signature = issuer.key.sign(tbs.dump(force=True), padding.PKCS1v15(), hashes.SHA256())
    return asn1_crl.CertificateList(
        {"tbs_cert_list": tbs, "signature_algorithm": {"algorithm": "sha256_rsa"}, "signature": signature}
    ).dump(force=True)


def test_certificates_pem_and_der_load_whole(bank_root: Identity) -> None:
    der = bank_root.cert.public_bytes(serialization.Encoding.DER)
    assert cert_load(der) == bank_root.cert
    assert cert_load(cert_pem(bank_root.cert)) == bank_root.cert


@pytest.mark.parametrize("poison", ["duplicate_extension", "unknown_version", "negative_serial"])
def test_a_certificate_cryptography_refuses_is_unreadable(poison: str, poison_certs: dict[str, bytes]) -> None:
    der = poison_certs[poison]
    pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    for fn, data in ((cert_load, der), (cert_load, pem), (cert_load_pem, pem)):
        with pytest.raises(ExchangeError) as caught:
            fn(data)
        assert caught.value.code == "cert_unreadable", fn
        assert caught.value.zh
        assert caught.value.en


def test_crls_load_whole_and_a_broken_one_is_unreadable(bank_crl, bank_root: Identity) -> None:
    assert crl_load(crl_pem(bank_crl)) == bank_crl
    assert crl_load(bank_crl.public_bytes(serialization.Encoding.DER)) == bank_crl

    def duplicate(tbs) -> None:
        extensions = list(tbs["crl_extensions"])
        tbs["crl_extensions"] = asn1_crl.TBSCertListExtensions([*extensions, extensions[-1]])

    def unknown_version(tbs) -> None:
        tbs["version"] = 2  # v1 = 0, v2 = 1

    poisons = [
        _crl_resigned(bank_crl, bank_root, duplicate),
        _crl_resigned(bank_crl, bank_root, unknown_version),
        b"-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n",
        b"",
        b"\x30\x03\x02\x01\x00",
    ]
    for data in poisons:
        with pytest.raises(ExchangeError) as caught:
            crl_load(data)
        assert caught.value.code == "crl_unreadable", data[:20]
        assert caught.value.zh
        assert caught.value.en
