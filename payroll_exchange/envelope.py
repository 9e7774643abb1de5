"""CMS envelopes: SignedData (SHA-256, RSA) inside EnvelopedData (AES-256-CBC, RSA key transport).

Writing uses cryptography's PKCS#7 builders. Reading decrypts with cryptography and then verifies
by hand, because cryptography has no CMS verify: asn1crypto parses, cryptography checks the
signature, ``pki.chain_verify`` the path to an explicitly trusted root and the CRL. Nothing of
the payload is returned before all of that passed, so no row is ever parsed from an unverified file.

The signed content is a transport header followed by the payload::

    PAYROLL-EXCHANGE/1\\n
    kind: payroll\\n
    file-id: 3f2a…(32 hex)\\n
    recipient: 9c41…(64 hex, the recipient certificate's SHA-256; "*" when only signed)\\n
    \\n
    <payload bytes>

so a signed file cannot be re-wrapped for another recipient, nor passed off as another kind.

The reader is strict (``cms_profile``): only the CMS we write and what ``openssl cms -sign -binary
-nodetach -md sha256`` then ``openssl cms -encrypt -aes256 -binary`` write is accepted.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7

from payroll_exchange import cms_profile
from payroll_exchange.errors import ExchangeError
from payroll_exchange.pki import Identity, TrustStore, cert_fingerprint, cert_role, chain_verify

KINDS = ("payroll", "employees", "return", "agreement", "account_opening", "account_opening_result", "pain001")
# Files only the bank writes. An enterprise certificate chains to the same root, so without this
# an enterprise could sign its own "agreement package" or a fake return file.
BANK_SIGNED_KINDS = frozenset({"return", "agreement", "account_opening_result"})
ENTERPRISE_SIGNED_KINDS = frozenset({"payroll", "employees", "account_opening", "pain001"})
# Kinds that a slot for ``expected_kind`` also takes (Opened.kind says which it was): an ISO 20022
# pain.001 is a payroll file in another format, signed as its own kind (issue 14).
ALSO_OPENS: dict[str, frozenset[str]] = {"payroll": frozenset({"pain001"})}
ANY_RECIPIENT = "*"

_MAGIC = b"PAYROLL-EXCHANGE/1\n"
_FILE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# The whole header in one fixed form: field order, spelling, single spaces, LF only.
_HEADER = re.compile(
    rb"PAYROLL-EXCHANGE/1\n"
    rb"kind: (?P<kind>[a-z0-9_]{1,32})\n"
    rb"file-id: (?P<file_id>[A-Za-z0-9][A-Za-z0-9._-]{0,63})\n"
    rb"recipient: (?P<recipient>[0-9a-f]{64}|\*)\n"
    rb"\n"
)
_MAX_HEADER = 256


@dataclass(frozen=True, slots=True)
class Opened:
    """A verified file. ``payload`` is the plain file without the transport header; ``digest``
    its SHA-256 (lowercase hex), the value the checklist prints and the kiosk shows."""

    kind: str
    file_id: str
    recipient: str
    payload: bytes
    signer: x509.Certificate
    digest: str


# Each kind in words, for people: a message never shows the internal code ("employees").
KIND_WORDS = {
    "payroll": ("代发工资文件", "payroll file"),
    "employees": ("员工信息文件", "employee information file"),
    "return": ("回盘文件", "return file"),
    "agreement": ("协议数据包", "agreement package"),
    "account_opening": ("批量开户申请文件", "account-opening request file"),
    "account_opening_result": ("批量开户结果文件", "account-opening result file"),
    "pain001": ("ISO 20022 代发工资文件（pain.001）", "ISO 20022 payroll file (pain.001)"),
}


def _error(code: str, zh: str, en: str) -> ExchangeError:
    return ExchangeError(code, zh, en)


class WrongKind(ExchangeError):
    """The file is sound but of another kind than the one asked for; ``actual`` and ``expected``
    (KINDS) let a caller say where it belongs."""

    def __init__(self, *, actual: str, expected: str) -> None:
        actual_zh, actual_en = KIND_WORDS.get(actual, (actual, actual))
        expected_zh, expected_en = KIND_WORDS.get(expected, (expected, expected))
        super().__init__(
            "envelope_wrong_kind",
            f"文件类型不符：这是{actual_zh}，此处需要{expected_zh}，请选择正确的文件。",
            f"Wrong kind of file: this is a {actual_en}, but a {expected_en} is needed here. Choose the right file.",
        )
        self.actual = actual
        self.expected = expected


def header_make(*, kind: str, file_id: str, recipient: str) -> bytes:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {KINDS}")
    if not _FILE_ID.fullmatch(file_id):
        raise ValueError(f"file id {file_id!r} must be 1-64 characters of A-Z a-z 0-9 . _ -")
    if recipient != ANY_RECIPIENT and not re.fullmatch(r"[0-9a-f]{64}", recipient):
        raise ValueError("recipient must be a lowercase SHA-256 fingerprint or '*'")
    return _MAGIC + f"kind: {kind}\nfile-id: {file_id}\nrecipient: {recipient}\n\n".encode("ascii")


def _header_split(content: bytes | memoryview) -> tuple[str, str, str, bytes]:
    match = _HEADER.match(bytes(content[:_MAX_HEADER]))
    if match is None or match.group("kind").decode("ascii") not in KINDS:
        raise _error(
            "envelope_header",
            "文件的传输头格式不正确，不是本系统制作的文件，请用企业客户端重新制作。",
            "The file's transport header is not in the expected form: it was not made by the payroll "
            "client. Make the file again with the enterprise client.",
        )
    return (
        match.group("kind").decode("ascii"),
        match.group("file_id").decode("ascii"),
        match.group("recipient").decode("ascii"),
        # The one copy of the payload: the content is a view of the decrypted SignedData.
        bytes(content[match.end() :]),
    )


def _sign(*, content: bytes, signer: Identity) -> bytes:
    # Binary: no MIME canonicalization, the bytes signed are the bytes given. The signer's
    # certificate is included (the default); the root is not: the reader never trusts it anyway.
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(signer.cert, signer.key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )


def envelope_seal(
    *,
    payload: bytes,
    kind: str,
    signer: Identity,
    recipient_cert: x509.Certificate,
    file_id: str | None = None,
) -> bytes:
    """Sign ``payload`` (behind the transport header) with ``signer``, then encrypt it for
    ``recipient_cert`` with AES-256-CBC. Returns DER."""
    header = header_make(kind=kind, file_id=file_id or uuid.uuid4().hex, recipient=cert_fingerprint(recipient_cert))
    signed = _sign(content=header + payload, signer=signer)
    return (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(signed)
        .add_recipient(recipient_cert)
        # Always 256: the builder's default is AES-128, which our reader refuses.
        .set_content_encryption_algorithm(algorithms.AES256)
        .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )


def signed_seal(*, payload: bytes, kind: str, signer: Identity, file_id: str | None = None) -> bytes:
    """SignedData only (the agreement package): anyone may read it, only the bank can write it."""
    header = header_make(kind=kind, file_id=file_id or uuid.uuid4().hex, recipient=ANY_RECIPIENT)
    return _sign(content=header + payload, signer=signer)


def _undecryptable() -> ExchangeError:
    # One message for every way decryption or its result can fail (wrong key, bad padding,
    # garbage): a reader that told them apart would be a padding oracle.
    return _error(
        "envelope_undecryptable",
        "文件无法解密：文件可能已损坏，或不是用本单位证书加密的。请向发送方索取原文件后重试。",
        "The file cannot be decrypted: it may be damaged, or it was not encrypted for your "
        "certificate. Ask the sender for the original file and try again.",
    )


def _verify_and_split(
    *,
    signed: cms_profile.SignedContent,
    trust: TrustStore,
    now: datetime,
    expected_kind: str,
    expected_signer: str | None,
) -> tuple[str, str, str, bytes, x509.Certificate]:
    signer = cms_profile.signed_data_verify(signed)
    chain_verify(cert=signer, intermediates=signed.certificates, trust=trust, now=now)
    if expected_signer is not None and cert_fingerprint(signer) != expected_signer.lower():
        raise _error(
            "envelope_signer_not_bound",
            "文件签名证书不是该代发协议绑定的证书，请使用本协议对应的 USBKEY 重新制作文件。",
            "The file was signed with a certificate that is not the one bound to this payroll "
            "agreement. Make the file again with the USB key of this agreement.",
        )
    kind, file_id, recipient, payload = _header_split(signed.content)
    if kind != expected_kind and kind not in ALSO_OPENS.get(expected_kind, ()):
        raise WrongKind(actual=kind, expected=expected_kind)
    role = cert_role(signer)
    if (kind in BANK_SIGNED_KINDS and role != "bank") or (kind in ENTERPRISE_SIGNED_KINDS and role != "enterprise"):
        raise _error(
            "envelope_signer_role",
            "文件的签名方身份与文件类型不符（回盘文件、协议数据包和开户结果只能由银行签名，"
            "工资、员工和开户申请文件只能由企业签名），请勿使用此文件。",
            "The signer's role does not fit the kind of file (return files, agreement packages and "
            "account-opening results are signed by the bank only; payroll, employee and account-opening "
            "files by the enterprise only). Do not use this file.",
        )
    return kind, file_id, recipient, payload, signer


def _not_for_you() -> ExchangeError:
    return _error(
        "envelope_not_for_you",
        "该文件是发给其他单位（其他证书）的，不能在此受理，请向发送方索取发给本单位的文件。",
        "This file is addressed to another party (another certificate) and cannot be accepted "
        "here. Ask the sender for the file made for you.",
    )


def envelope_open(
    *,
    data: bytes,
    recipient: Identity,
    trust: TrustStore,
    now: datetime,
    expected_kind: str,
    expected_signer: str | None = None,
) -> Opened:
    """Decrypt with ``recipient``'s key, verify everything, then return the payload.

    Order: profile of the envelope (weak ciphers refused before any decryption) → addressed to
    ``recipient``'s certificate → decrypt → profile and signature of the SignedData → path to a
    trusted root, dates, CRL → agreement binding (``expected_signer``) → header kind and
    recipient. ``expected_signer`` None: the caller checks ``Opened.signer`` itself.
    """
    if expected_kind not in KINDS:
        raise ValueError(f"unknown kind {expected_kind!r}")
    envelope = cms_profile.enveloped_data_parse(data)
    cms_profile.enveloped_data_check_recipient(envelope, recipient.cert)
    try:
        signed_der = pkcs7.pkcs7_decrypt_der(data, recipient.cert, recipient.key, [])
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise _undecryptable() from None
    try:
        signed = cms_profile.signed_data_parse(signed_der)
    except ExchangeError as exc:
        # Garbage after a wrong key or tampered ciphertext is "undecryptable", not "malformed":
        # telling the two apart would reveal whether the padding was right. A well-formed
        # SignedData outside our profile still gets its own error below.
        if exc.code == "envelope_malformed":
            raise _undecryptable() from None
        raise
    kind, file_id, header_recipient, payload, signer = _verify_and_split(
        signed=signed,
        trust=trust,
        now=now,
        expected_kind=expected_kind,
        expected_signer=expected_signer,
    )
    if header_recipient != cert_fingerprint(recipient.cert):
        raise _not_for_you()
    return Opened(
        kind=kind,
        file_id=file_id,
        recipient=header_recipient,
        payload=payload,
        signer=signer,
        digest=hashlib.sha256(payload).hexdigest(),
    )


def signed_open(*, data: bytes, trust: TrustStore, now: datetime, expected_kind: str) -> Opened:
    """Verify a SignedData-only file (the agreement package) and return its payload."""
    if expected_kind not in KINDS:
        raise ValueError(f"unknown kind {expected_kind!r}")
    kind, file_id, header_recipient, payload, signer = _verify_and_split(
        signed=cms_profile.signed_data_parse(data),
        trust=trust,
        now=now,
        expected_kind=expected_kind,
        expected_signer=None,
    )
    if header_recipient != ANY_RECIPIENT:
        # The signed inside of someone's envelope, unwrapped and presented as a public file.
        raise _not_for_you()
    return Opened(
        kind=kind,
        file_id=file_id,
        recipient=header_recipient,
        payload=payload,
        signer=signer,
        digest=hashlib.sha256(payload).hexdigest(),
    )
