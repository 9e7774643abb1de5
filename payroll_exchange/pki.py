"""The bank's PKI: a root CA, the bank's certificate, one enterprise certificate per agreement,
the enterprise's software USB key (PKCS#12) and the revocation list (X.509 CRL).

Everything is standard X.509 so that ``openssl`` can check any file either side writes. ``now``
is always passed in (the business clock): nothing here reads the wall clock, so tests and the
demo can issue, expire and revoke certificates at the instants they choose.

``chain_verify`` is the one place that decides whether a certificate is trusted: a path from the
certificate up to a root the caller trusts explicitly (``TrustStore``), never a root that a file
brings along.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from payroll_exchange.certs import (  # noqa: F401 — part of this module's API (docs/exchange-contract.md)
    cert_fingerprint,
    cert_load,
    cert_load_pem,
    cert_parse,
    cert_pem,
    crl_load,
    crl_pem,
    fingerprint_display,
)
from payroll_exchange.errors import ExchangeError

Role = Literal["bank", "enterprise"]
ROLES: tuple[Role, ...] = ("bank", "enterprise")

# 3072 bits for the root: it lives 20 years, so it gets the NIST size recommended beyond 2030.
# 2048 bits for leaves: two-year certificates, and every file is signed or opened with them.
ROOT_KEY_BITS = 3072
LEAF_KEY_BITS = 2048
# PBKDF2 rounds for the USB key: slows a PIN guesser down while a PIN entry stays well under a second.
PKCS12_KDF_ROUNDS = 100_000
# A path longer than root → (intermediate) → leaf is not something our bank issues; the bound
# also stops a file from making the verifier walk a long, looping list of certificates.
MAX_PATH_LENGTH = 4
# Extensions that chain_verify understands; any other extension marked critical refuses the cert
# (RFC 5280 §4.2: a verifier must reject a critical extension it does not process).
_UNDERSTOOD_EXTENSIONS = {
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
}
_STRONG_HASHES = (hashes.SHA256, hashes.SHA384, hashes.SHA512)


@dataclass(frozen=True, slots=True)
class Identity:
    """A private key with its certificate. ``chain`` holds the issuing certificates, nearest
    first, up to and including the root (empty for the root itself)."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    chain: list[x509.Certificate] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        return cert_fingerprint(self.cert)


@dataclass(frozen=True, slots=True)
class TrustStore:
    """What the verifier trusts: roots imported explicitly (证书导入) and the CRLs it knows.

    ``require_crl``: the bank side always holds a current CRL from its certificate table, so it
    sets this and a missing CRL is refused; the offline client has none and leaves it False.
    """

    roots: list[x509.Certificate]
    crls: list[x509.CertificateRevocationList] = field(default_factory=list)
    require_crl: bool = False


def _error(code: str, zh: str, en: str) -> ExchangeError:
    return ExchangeError(code, zh, en)


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        # A naive instant would be read in the machine's zone: refuse it instead of guessing.
        raise ValueError("now must be an aware datetime (use payroll_exchange.clock.business_now())")
    return now.astimezone(UTC)


def _new_key(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def root_create(*, common_name: str, now: datetime, years: int = 20) -> Identity:
    """The bank's self-signed root CA: signs certificates and CRLs, nothing else."""
    start = _utc(now)
    key = _new_key(ROOT_KEY_BITS)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        # 365.25 days a year without calendar arithmetic (no 29 February surprises).
        .not_valid_after(start + timedelta(days=365 * years + years // 4))
        # path_length 0: the root issues leaves only; an intermediate it never issued cannot appear.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Identity(key=key, cert=cert, chain=[])


def _key_usage(*, cert_sign: bool = False, leaf: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=leaf,
        # Non-repudiation: the enterprise's signature on a payroll file is an instruction to pay.
        content_commitment=leaf,
        # Both roles receive files encrypted to them (payroll to the bank, return files back).
        key_encipherment=leaf,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def cert_issue(
    *,
    issuer: Identity,
    common_name: str,
    organization: str,
    role: Role,
    now: datetime,
    days: int = 730,
    serial: int | None = None,
) -> Identity:
    """A leaf certificate for the bank (``role="bank"``) or an enterprise (one per agreement:
    ``organization`` is the company name, ``common_name`` the agreement number or company).

    The role is written as the subject's OU so that a reader can tell a bank signature (return
    files, agreement packages) from an enterprise one without a database.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}")
    start = _utc(now)
    end = start + timedelta(days=days)
    # A certificate must not outlive its issuer: verifiers would refuse the tail end anyway.
    end = min(end, issuer.cert.not_valid_after_utc)
    key = _new_key(LEAF_KEY_BITS)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    issuer_ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(leaf=True), critical=True)
        # emailProtection is the usage S/MIME and CMS verifiers (openssl cms -verify) look for;
        # an enterprise key also authenticates its ERP to the host-to-host API (TLS clientAuth).
        .add_extension(x509.ExtendedKeyUsage(_leaf_usages(role)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), critical=False)
        .sign(issuer.key, hashes.SHA256())
    )
    return Identity(key=key, cert=cert, chain=[issuer.cert, *issuer.chain])


def _leaf_usages(role: str) -> list[x509.ObjectIdentifier]:
    if role == "enterprise":
        return [ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH]
    return [ExtendedKeyUsageOID.EMAIL_PROTECTION]


def cert_client_auth(cert: x509.Certificate) -> bool:
    """Whether ``cert`` may authenticate a TLS client (certificates issued before the
    host-to-host API carry only emailProtection: staff reissue them)."""
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.CLIENT_AUTH in eku


def cert_role(cert: x509.Certificate) -> str | None:
    """``"bank"`` or ``"enterprise"`` as written by ``cert_issue``; None for anything else."""
    values = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    if len(values) != 1 or values[0].value not in ROLES:
        return None
    return str(values[0].value)


# -- the USB key ---------------------------------------------------------------------------------


def pkcs12_dump(*, identity: Identity, pin: str) -> bytes:
    """The software USB key: key, certificate and chain in a PKCS#12 file under the PIN.

    PBES2 (PBKDF2-SHA256, AES-256-CBC) with an HMAC-SHA256 MAC, not the legacy 3DES/RC2 default
    that openssl 1.x wrote: openssl 3 and every current reader open it.
    """
    if not pin:
        raise ValueError("a USB key needs a PIN")
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(PKCS12_KDF_ROUNDS)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(pin.encode("utf-8"))
    )
    friendly = identity.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    name = str(friendly[0].value).encode("utf-8") if friendly else None
    return pkcs12.serialize_key_and_certificates(
        name=name,
        key=identity.key,
        cert=identity.cert,
        cas=identity.chain or None,
        encryption_algorithm=encryption,
    )


def pkcs12_load(*, data: bytes, pin: str) -> Identity:
    """Open the USB key. A wrong PIN and a damaged file look the same to PKCS#12 (the MAC fails
    either way), so both get ``usbkey_pin``."""
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, pin.encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise _error(
            "usbkey_pin",
            "USBKEY 密码错误或证书文件已损坏，请重新输入密码；多次失败请联系开户银行。",
            "Wrong USB key PIN, or the key file is damaged. Type the PIN again; "
            "if it keeps failing, contact your bank branch.",
        ) from None
    usable = (
        isinstance(key, rsa.RSAPrivateKey)
        and cert is not None
        and isinstance(cert.public_key(), rsa.RSAPublicKey)
        and key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]
    )
    if not usable:
        raise _error(
            "usbkey_invalid",
            "USBKEY 中没有可用的 RSA 私钥和对应证书，请联系开户银行重新发放证书。",
            "The USB key holds no usable RSA key with its certificate. Ask your bank branch "
            "to issue the certificate again.",
        )
    return Identity(key=key, cert=cert, chain=list(extra))


# -- revocation ----------------------------------------------------------------------------------


def crl_make(
    *, issuer: Identity, revoked: list[tuple[int, datetime]], now: datetime, days: int = 7
) -> x509.CertificateRevocationList:
    """An X.509 CRL signed by ``issuer`` listing ``(serial, revocation time)``. Verifiers refuse
    it after ``now + days`` (nextUpdate), so the bank must publish a fresh one in time."""
    start = _utc(now)
    issuer_ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(start)
        .next_update(start + timedelta(days=days))
        # A CRL number that only grows: seconds of the business clock are enough for one issuer.
        .add_extension(x509.CRLNumber(int(start.timestamp())), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), critical=False)
    )
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(_utc(when)).build()
        )
    return builder.sign(issuer.key, hashes.SHA256())


# -- path validation -----------------------------------------------------------------------------


def _check_extensions(cert: x509.Certificate, *, as_issuer: bool) -> None:
    invalid = _error(
        "cert_invalid",
        "签名证书或其签发证书的用途、约束或算法不符合银行规定，此文件不能受理，请联系开户银行。",
        "The signing certificate or its issuer does not carry the usage, constraints or algorithm "
        "the bank's profile requires; the file cannot be accepted. Contact your bank branch.",
    )
    for ext in cert.extensions:
        if ext.critical and ext.oid not in _UNDERSTOOD_EXTENSIONS:
            raise invalid
    if not isinstance(cert.signature_hash_algorithm, _STRONG_HASHES):
        raise invalid
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise invalid from None
    if as_issuer:
        if not constraints.ca or not usage.key_cert_sign:
            raise invalid
        return
    if constraints.ca or not usage.digital_signature:
        raise invalid
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if ExtendedKeyUsageOID.EMAIL_PROTECTION not in eku:
        raise invalid


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _check_dates(cert: x509.Certificate, at: datetime) -> None:
    if at < cert.not_valid_before_utc:
        raise _error(
            "cert_not_yet_valid",
            f"证书尚未生效（生效时间 {cert.not_valid_before_utc.date()}），请核对电脑日期或等待证书生效后再试。",
            f"The certificate is not valid yet (valid from {cert.not_valid_before_utc.date()}). "
            "Check the computer's date or try again once it is valid.",
        )
    if at > cert.not_valid_after_utc:
        raise _error(
            "cert_expired",
            f"证书已于 {cert.not_valid_after_utc.date()} 过期，请到开户银行更新证书后重新制作文件。",
            f"The certificate expired on {cert.not_valid_after_utc.date()}. Renew it at your bank "
            "branch, then make the file again.",
        )


def _crl_for(issuer: x509.Certificate, trust: TrustStore, at: datetime) -> x509.CertificateRevocationList | None:
    """The CRL that ``issuer`` signed, checked: signature and nextUpdate."""
    found = None
    for crl in trust.crls:
        if crl.issuer != issuer.subject:
            continue
        if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            raise _error(
                "crl_invalid",
                "证书作废列表（CRL）签名无效，无法确认证书状态，请联系银行系统管理员。",
                "The certificate revocation list (CRL) has an invalid signature, so certificate "
                "status cannot be checked. Contact the bank's system administrator.",
            )
        if crl.next_update_utc is None or at > crl.next_update_utc or at < crl.last_update_utc:
            raise _error(
                "crl_expired",
                "证书作废列表（CRL）已过期，请银行系统管理员发布新的作废列表后再试。",
                "The certificate revocation list (CRL) is out of date. The bank's system "
                "administrator must publish a new one; then try again.",
            )
        for ext in crl.extensions:
            # A delta CRL or a partitioned CRL (critical extensions) is not what the bank issues.
            if ext.critical:
                raise _error(
                    "crl_invalid",
                    "证书作废列表（CRL）格式不符合银行规定，请联系银行系统管理员。",
                    "The certificate revocation list (CRL) is not in the bank's format. "
                    "Contact the bank's system administrator.",
                )
        found = crl
    return found


def chain_verify(
    *,
    cert: x509.Certificate,
    intermediates: list[x509.Certificate],
    trust: TrustStore,
    now: datetime,
) -> list[x509.Certificate]:
    """Build and check the path from ``cert`` up to a root in ``trust``; return it (leaf first,
    trusted root last) or raise ``ExchangeError``.

    ``intermediates`` are what a file brought: usable as links, never as an anchor — a
    self-signed certificate among them ends the search as untrusted. Each link: signature by the
    next, basicConstraints CA and keyCertSign on issuers, digitalSignature on the leaf, dates at
    ``now``, and the issuer's CRL when the store holds one (required when ``require_crl``).
    """
    at = _utc(now)
    path = [cert]
    current = cert
    untrusted = _error(
        "cert_untrusted",
        "文件签名证书不是由已导入的银行根证书签发的，请确认文件来源，或重新导入银行根证书并核对指纹。",
        "The file's signing certificate was not issued under the bank root you imported. Check where "
        "the file came from, or import the bank's root certificate again and compare its fingerprint.",
    )
    while True:
        root = next((r for r in trust.roots if r.subject == current.issuer and _issued_by(current, r)), None)
        if root is not None:
            if not _issued_by(root, root):
                raise untrusted
            path.append(root)
            break
        if len(path) >= MAX_PATH_LENGTH:
            raise untrusted
        link = next(
            (
                c
                for c in intermediates
                if c.subject == current.issuer and c.subject != c.issuer and c not in path and _issued_by(current, c)
            ),
            None,
        )
        if link is None:
            raise untrusted
        path.append(link)
        current = link

    for index, link in enumerate(path):
        is_issuer = index > 0
        _check_extensions(link, as_issuer=is_issuer)
        if is_issuer:
            constraints = link.extensions.get_extension_for_class(x509.BasicConstraints).value
            # Intermediates between this issuer and the leaf: path_length bounds them.
            if constraints.path_length is not None and index - 1 > constraints.path_length:
                raise _check_fail_invalid()
    for link in path:
        _check_dates(link, at)
    for link, issuer in zip(path, path[1:], strict=False):
        crl = _crl_for(issuer, trust, at)
        if crl is None:
            if trust.require_crl:
                raise _error(
                    "crl_missing",
                    "缺少证书作废列表（CRL），无法确认证书状态，请联系银行系统管理员。",
                    "No certificate revocation list (CRL) is available, so certificate status cannot "
                    "be checked. Contact the bank's system administrator.",
                )
            continue
        if crl.get_revoked_certificate_by_serial_number(link.serial_number) is not None:
            raise _error(
                "cert_revoked",
                "签名证书已被银行作废（吊销），此文件不能受理；请到开户银行办理新证书后重新制作文件。",
                "The signing certificate has been revoked by the bank; this file cannot be accepted. "
                "Get a new certificate at your bank branch and make the file again.",
            )
    return path


def _check_fail_invalid() -> ExchangeError:
    return _error(
        "cert_invalid",
        "证书链长度超过银行规定，请联系开户银行。",
        "The certificate chain is longer than the bank's profile allows; contact your bank branch.",
    )
