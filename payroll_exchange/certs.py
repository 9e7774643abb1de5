"""Certificates and CRLs as bytes: fingerprints, PEM, and loaders that parse a certificate or CRL
whole and raise only ``ExchangeError`` (``pki`` re-exports every name; callers use ``pki.*``).

cryptography parses lazily and refuses hostile input with exception types of its own, so every
loader here forces the parse of each part that verification reads and turns any failure into one
code.
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from payroll_exchange.errors import ExchangeError


def _error(code: str, zh: str, en: str) -> ExchangeError:
    return ExchangeError(code, zh, en)


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM)


def cert_fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, lowercase hex: what agreements bind and files name."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def fingerprint_display(fp: str) -> str:
    """``AB:CD:…``: the form the bank prints for the user to compare when importing the root."""
    text = fp.replace(":", "").upper()
    return ":".join(text[i : i + 2] for i in range(0, len(text), 2))


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _unreadable_cert() -> ExchangeError:
    return _error(
        "cert_unreadable",
        "证书无法读取（已损坏或不符合 X.509 标准），请确认使用的是银行提供的证书文件。",
        "The certificate cannot be read (damaged, or not a standard X.509 certificate). Make sure it "
        "is the certificate file the bank gave you.",
    )


def cert_parse(cert: x509.Certificate) -> x509.Certificate:
    """Parse now every part of ``cert`` that verification reads, or raise ``ExchangeError``.

    cryptography parses names, extensions and the public key lazily and refuses a hostile one
    with exception types of its own (``DuplicateExtension``, ``InvalidVersion``,
    ``UnsupportedGeneralNameType``, ``ValueError``, ``UnsupportedAlgorithm``…), which would
    otherwise escape later from deep inside path validation. Failing here gives one code.
    """
    try:
        cert.public_key()
        _ = (cert.version, cert.serial_number, cert.subject, cert.issuer, cert.extensions)
        _ = (cert.signature_hash_algorithm, cert.signature_algorithm_parameters)
        _ = (cert.not_valid_before_utc, cert.not_valid_after_utc)
    except Exception:  # cryptography's lazy parsing raises many types on hostile input; all mean unreadable.
        raise _unreadable_cert() from None
    # RFC 5280 §4.1.2.2: a positive integer. cryptography still loads a negative one (with a
    # deprecation warning) but then refuses it with ValueError in a CRL lookup.
    if cert.serial_number <= 0:
        raise _unreadable_cert()
    return cert


def cert_load(data: bytes) -> x509.Certificate:
    """A certificate from PEM or DER bytes (a root to import, a certificate a file or the database
    brings), parsed whole: raises only ``ExchangeError("cert_unreadable")``."""
    pem = b"-----BEGIN" in data[:4096]
    try:
        cert = x509.load_pem_x509_certificate(data) if pem else x509.load_der_x509_certificate(data)
    except Exception:  # InvalidVersion and ValueError at load; every one means "not a certificate".
        raise _unreadable_cert() from None
    return cert_parse(cert)


def cert_load_pem(data: bytes) -> x509.Certificate:
    """A PEM certificate, parsed whole: raises only ``ExchangeError("cert_unreadable")``."""
    try:
        cert = x509.load_pem_x509_certificate(data)
    except Exception:  # see cert_load
        raise _unreadable_cert() from None
    return cert_parse(cert)


def crl_load(data: bytes) -> x509.CertificateRevocationList:
    """A CRL from PEM or DER bytes, parsed whole (issuer, dates, extensions, every entry):
    raises only ``ExchangeError("crl_unreadable")``. Its signature is ``chain_verify``'s business."""
    try:
        pem = b"-----BEGIN" in data[:4096]
        crl = x509.load_pem_x509_crl(data) if pem else x509.load_der_x509_crl(data)
        _ = (crl.issuer, crl.extensions, crl.last_update_utc, crl.next_update_utc, crl.signature_hash_algorithm)
        for entry in crl:
            _ = (entry.serial_number, entry.revocation_date_utc, entry.extensions)
    except Exception:  # as for certificates: cryptography's own types on hostile input.
        raise _error(
            "crl_unreadable",
            "证书作废列表（CRL）无法读取（已损坏或格式不正确），请银行系统管理员重新发布作废列表。",
            "The certificate revocation list (CRL) cannot be read (damaged or not in the standard "
            "format). The bank's system administrator must publish it again.",
        ) from None
    return crl
