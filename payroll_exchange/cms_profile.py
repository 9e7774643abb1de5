"""The strict CMS reader: exactly the profile we write, and what ``openssl cms`` writes with
``-sign -binary -nodetach -md sha256`` and ``-encrypt -aes256 -binary``; nothing else.

Everything is parsed with asn1crypto and must re-encode to the identical DER (``dump(force=True)``
equal to the input), which refuses trailing data, BER indefinite lengths, non-minimal integers
and lengths: a parser differential between us and ``openssl`` cannot hide anything. Then content
types, versions, algorithms and signed attributes are checked one by one.

Three codes describe structure: ``envelope_malformed`` (not DER, not the right CMS type),
``envelope_profile`` (well-formed CMS outside our profile) and ``envelope_certificate`` (a
certificate in the file's set that X.509 parsing refuses). Ciphers get their own code
(``envelope_weak_cipher``) and are checked before anything is decrypted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from asn1crypto import cms, core
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from payroll_exchange import pki
from payroll_exchange.errors import ExchangeError

_NULL = b"\x05\x00"
_AES256_CBC = "2.16.840.1.101.3.4.1.42"
_RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
_SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
_SHA256 = "2.16.840.1.101.3.4.2.1"
# Attributes both writers put in (cryptography: all four; openssl: all four). Any other signed
# attribute is something neither of our writers makes.
_ALLOWED_ATTRIBUTES = {"content_type", "message_digest", "signing_time", "smime_capabilities"}
_REQUIRED_ATTRIBUTES = {"content_type", "message_digest"}
# The signer and at most a few issuers; more is not a file either writer makes.
_MAX_CERTIFICATES = 4
# Everything but the content (recipient info, certificates, signer info, attributes) is a few KB
# in either writer's files; asn1crypto copies what it parses many times over, so more than this
# is refused before it parses anything.
_MAX_STRUCTURE = 256 * 1024
_CIPHER_NAMES = {
    "1.2.840.113549.3.7": "3DES (DES-EDE3-CBC)",
    "1.3.14.3.2.7": "DES-CBC",
    "1.2.840.113549.3.2": "RC2-CBC",
    "2.16.840.1.101.3.4.1.2": "AES-128-CBC",
    "2.16.840.1.101.3.4.1.22": "AES-192-CBC",
}


def _malformed() -> ExchangeError:
    return ExchangeError(
        "envelope_malformed",
        "文件格式不正确或已损坏（不是有效的加密/签名文件），请向发送方索取原文件。",
        "The file is damaged or is not a valid signed or encrypted file. Ask the sender for the original file.",
    )


def _profile(detail: str) -> ExchangeError:
    return ExchangeError(
        "envelope_profile",
        f"文件的加密/签名格式不符合银行规定（{detail}），请用企业客户端重新制作文件。",
        f"The file's signature or encryption format is outside the bank's profile ({detail}). "
        "Make the file again with the enterprise client.",
    )


def _load_canonical(data: bytes) -> cms.ContentInfo:
    try:
        info = cms.ContentInfo.load(data, strict=True)
        # force=True re-encodes every value from its parsed form (this also parses every nested
        # structure, so a broken inner field surfaces here rather than later).
        if info.dump(force=True) != data:
            raise _malformed()
    except ExchangeError:
        raise
    except Exception:  # asn1crypto raises many types on hostile input; all mean "not our DER".
        raise _malformed() from None
    return info


# -- the content kept out of asn1crypto ----------------------------------------------------------
# asn1crypto copies a value's bytes at every level it parses and again when it re-encodes: a 45 MB
# file cost ~9 copies (~415 MB). So the one large field (the encrypted content of an
# EnvelopedData, the eContent of a SignedData) is found by a small DER walk over the caller's
# bytes, checked to be minimal DER on its whole path, and replaced by an empty value in a "hollow"
# copy that asn1crypto then parses and checks canonically; the content itself stays a memoryview
# of the caller's bytes.


def _tlv(data: bytes, at: int, end: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER value at ``at``: one-byte tags and
    minimal definite lengths only; anything else is malformed."""
    if end - at < 2 or data[at] & 0x1F == 0x1F:
        raise _malformed()
    first = data[at + 1]
    start = at + 2
    if first < 0x80:
        size = first
    else:
        count = first & 0x7F
        if not 1 <= count <= 4 or start + count > end or data[start] == 0:
            raise _malformed()
        size = int.from_bytes(data[start : start + count], "big")
        start += count
        if size < 0x80:
            raise _malformed()
    if start + size > end:
        raise _malformed()
    return data[at], start, start + size


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(at, tag, content start, content end) of each value in ``data[start:end]``."""
    found = []
    at = start
    while at < end:
        tag, content_start, content_end = _tlv(data, at, end)
        found.append((at, tag, content_start, content_end))
        at = content_end
    return found


def _header(tag: int, size: int) -> bytes:
    if size < 0x80:
        return bytes([tag, size])
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(body)]) + body


def _hollow(data: bytes, path: list[tuple[int, int, int, int]]) -> bytes:
    """``data`` with the content of the last value of ``path`` (outermost first) emptied and every
    enclosing length re-encoded."""
    at, tag, start, end = path[-1]
    rebuilt = _header(tag, 0)
    for at_outer, tag_outer, start_outer, end_outer in reversed(path[:-1]):
        body = data[start_outer:at] + rebuilt + data[end:end_outer]
        rebuilt = _header(tag_outer, len(body)) + body
        at, end = at_outer, end_outer
    return rebuilt


def _hollow_load(data: bytes, *, inner: tuple[int, ...]) -> tuple[cms.ContentInfo, memoryview | None]:
    """Parse a ContentInfo whose large content sits at ``inner`` (the tags from the content's
    structure, e.g. EnvelopedData's encryptedContentInfo, down to the value holding the bytes):
    canonically, with that value's bytes left out of asn1crypto. Returns the parsed hollow
    structure and a view of the content (None when the structure has no such value; then
    nothing was left out)."""
    try:
        if data[:1] != b"\x30":
            raise _malformed()
        root = _children(data, 0, len(data))
        if len(root) != 1:  # trailing data
            raise _malformed()
        path = [root[0]]
        # ContentInfo: contentType, [0] EXPLICIT content → the content's SEQUENCE.
        for tag in (0xA0, 0x30, *inner):
            at, _tag, start, end = path[-1]
            step = next((c for c in _children(data, start, end) if c[1] == tag), None)
            if step is None:
                if len(data) > _MAX_STRUCTURE:
                    raise _malformed()
                return _load_canonical(bytes(data)), None
            path.append(step)
    except ExchangeError:
        raise
    except Exception:  # indexing hostile bytes: all mean "not our DER"
        raise _malformed() from None
    _at, _tag, start, end = path[-1]
    hollow = _hollow(data, path)
    if len(hollow) > _MAX_STRUCTURE:
        raise _profile("size of the signature and certificate structures")
    return _load_canonical(hollow), memoryview(data)[start:end]


def _absent(value: core.Asn1Value) -> bool:
    return isinstance(value, core.Void)


def _params_null_or_absent(algorithm: core.Sequence) -> bool:
    params = algorithm["parameters"]
    return _absent(params) or params.dump() == _NULL


# -- EnvelopedData -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnvelopeInfo:
    recipient_issuer_der: bytes
    recipient_serial: int


def enveloped_data_parse(data: bytes) -> EnvelopeInfo:
    """Check the outer EnvelopedData against the profile; nothing is decrypted here."""
    # EnvelopedData → encryptedContentInfo → encryptedContent [0] IMPLICIT (primitive).
    info, encrypted_bytes = _hollow_load(data, inner=(0x30, 0x80))
    if info["content_type"].dotted != "1.2.840.113549.1.7.3" or _absent(info["content"]):
        raise _malformed()
    env = info["content"]
    encrypted = env["encrypted_content_info"]
    # The cipher first: a 3DES file (openssl's default) gets the clear "re-encrypt with AES-256"
    # answer rather than a generic profile error.
    cipher = encrypted["content_encryption_algorithm"]
    cipher_oid = cipher["algorithm"].dotted
    if cipher_oid != _AES256_CBC:
        name = _CIPHER_NAMES.get(cipher_oid, cipher_oid)
        raise ExchangeError(
            "envelope_weak_cipher",
            f"文件使用了银行不接受的加密算法 {name}，只接受 AES-256；请用企业客户端重新加密文件"
            "（openssl 需加 -aes256 参数）。",
            f"The file is encrypted with {name}, which the bank does not accept: only AES-256 is. "
            "Encrypt the file again with the enterprise client (with openssl: add -aes256).",
        )
    iv = cipher["parameters"]
    if not isinstance(iv.parsed if isinstance(iv, core.Any) else iv, core.OctetString):
        raise _profile("AES IV")
    iv_bytes = (iv.parsed if isinstance(iv, core.Any) else iv).native
    if len(iv_bytes) != 16:
        raise _profile("AES IV")
    if env["version"].native != "v0" or not _absent(env["originator_info"]):
        raise _profile("EnvelopedData version")
    if not _absent(env["unprotected_attrs"]):
        raise _profile("unprotected attributes")
    if encrypted["content_type"].dotted != "1.2.840.113549.1.7.1":
        raise _profile("encrypted content type")
    if encrypted_bytes is None or not len(encrypted_bytes) or len(encrypted_bytes) % 16:
        raise _profile("encrypted content")
    recipients = env["recipient_infos"]
    if len(recipients) != 1 or recipients[0].name != "ktri":
        raise _profile("one RSA key-transport recipient")
    ktri = recipients[0].chosen
    if ktri["version"].native != "v0" or ktri["rid"].name != "issuer_and_serial_number":
        raise _profile("recipient identifier")
    key_alg = ktri["key_encryption_algorithm"]
    if key_alg["algorithm"].dotted != _RSA_ENCRYPTION or key_alg["parameters"].dump() != _NULL:
        raise _profile("RSA key transport")
    rid = ktri["rid"].chosen
    return EnvelopeInfo(recipient_issuer_der=rid["issuer"].dump(), recipient_serial=rid["serial_number"].native)


def enveloped_data_check_recipient(info: EnvelopeInfo, cert: x509.Certificate) -> None:
    """Refuse before trying to decrypt when the file names another certificate."""
    if info.recipient_issuer_der != cert.issuer.public_bytes() or info.recipient_serial != cert.serial_number:
        raise ExchangeError(
            "envelope_wrong_recipient",
            "该文件不是用本单位（本机）的证书加密的，无法打开；请确认文件来源，或请发送方用本单位证书重新加密。",
            "This file was encrypted for another certificate, not yours, so it cannot be opened. "
            "Check where it came from, or ask the sender to encrypt it for your certificate.",
        )


def _certificate_load(der: bytes) -> x509.Certificate:
    """Load a certificate of the file's certificate set and parse now every part that
    verification reads (``pki.cert_parse``).

    A certificate cryptography refuses (a duplicate extension, an unknown version, a damaged
    name or key) gets one code of its own, ``envelope_certificate``: the file is refused at once
    and for good, whatever exception type the parser chose.
    """
    try:
        return pki.cert_load(der)
    except ExchangeError:
        raise ExchangeError(
            "envelope_certificate",
            "文件所附的证书无法读取（已损坏或不符合 X.509 标准），此文件不能受理；"
            "请用企业客户端和银行发放的 USBKEY 重新制作文件。",
            "A certificate inside the file cannot be read (damaged, or not a standard X.509 "
            "certificate), so the file cannot be accepted. Make the file again with the enterprise "
            "client and the USB key the bank issued.",
        ) from None


# -- SignedData ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedContent:
    # A view of the caller's bytes (never copied: it may be tens of MB).
    content: memoryview
    certificates: list[x509.Certificate]
    signer_issuer_der: bytes
    signer_serial: int
    message_digest: bytes
    signed_attrs_der: bytes
    signature: bytes


def signed_data_parse(data: bytes) -> SignedContent:
    """Check a SignedData against the profile and pull out what verification needs."""
    # SignedData → encapContentInfo → eContent [0] EXPLICIT → OCTET STRING.
    info, content = _hollow_load(data, inner=(0x30, 0xA0, 0x04))
    if info["content_type"].dotted != "1.2.840.113549.1.7.2" or _absent(info["content"]):
        raise _malformed()
    sd = info["content"]
    if sd["version"].native != "v1":
        raise _profile("SignedData version")
    digests = sd["digest_algorithms"]
    if len(digests) != 1 or digests[0]["algorithm"].dotted != _SHA256 or not _params_null_or_absent(digests[0]):
        raise _profile("SHA-256")
    encap = sd["encap_content_info"]
    if encap["content_type"].dotted != "1.2.840.113549.1.7.1" or _absent(encap["content"]) or content is None:
        raise _profile("attached data content")
    if not _absent(sd["crls"]):
        raise _profile("CRLs inside the file")
    certs_field = sd["certificates"]
    if _absent(certs_field) or not 1 <= len(certs_field) <= _MAX_CERTIFICATES:
        raise _profile("signer certificate")
    certificates = []
    seen_der: set[bytes] = set()
    for choice in certs_field:
        der = choice.chosen.dump() if choice.name == "certificate" else b""
        # Neither writer repeats a certificate: a copy is someone's edit, not our file.
        if not der or der in seen_der:
            raise _profile("signer certificate")
        seen_der.add(der)
        certificates.append(_certificate_load(der))
    signers = sd["signer_infos"]
    if len(signers) != 1:
        raise _profile("exactly one signer")
    si = signers[0]
    if si["version"].native != "v1" or si["sid"].name != "issuer_and_serial_number":
        raise _profile("signer identifier")
    if si["digest_algorithm"]["algorithm"].dotted != _SHA256 or not _params_null_or_absent(si["digest_algorithm"]):
        raise _profile("SHA-256")
    sig_alg = si["signature_algorithm"]
    if sig_alg["algorithm"].dotted not in (_RSA_ENCRYPTION, _SHA256_WITH_RSA) or not _params_null_or_absent(sig_alg):
        raise _profile("RSA signature")
    if not _absent(si["unsigned_attrs"]):
        raise _profile("unsigned attributes")
    attrs = si["signed_attrs"]
    if _absent(attrs):
        raise _profile("signed attributes")
    seen: dict[str, core.Asn1Value] = {}
    for attr in attrs:
        name = attr["type"].native
        if name not in _ALLOWED_ATTRIBUTES or name in seen or len(attr["values"]) != 1:
            raise _profile(f"signed attribute {name}")
        seen[name] = attr["values"][0]
    if not _REQUIRED_ATTRIBUTES.issubset(seen):
        raise _profile("signed attributes")
    if seen["content_type"].dotted != "1.2.840.113549.1.7.1":
        raise _profile("content type attribute")
    digest = seen["message_digest"].native
    if len(digest) != 32:
        raise _profile("message digest")
    sid = si["sid"].chosen
    attrs_der = attrs.dump()
    return SignedContent(
        content=content,
        certificates=certificates,
        signer_issuer_der=sid["issuer"].dump(),
        signer_serial=sid["serial_number"].native,
        message_digest=digest,
        # The signature covers the attributes as a SET OF (tag 0x31), not as the [0] IMPLICIT
        # field they are stored in (RFC 5652 §5.4).
        signed_attrs_der=b"\x31" + attrs_der[1:],
        signature=si["signature"].native,
    )


def signed_data_verify(signed: SignedContent) -> x509.Certificate:
    """The content matches messageDigest and the signer's key signed the attributes. Returns the
    signer's certificate; its trust is ``pki.chain_verify``'s business."""
    bad = ExchangeError(
        "envelope_bad_signature",
        "文件签名验证失败：文件在签名后被改动过或已损坏，不能受理；请向发送方索取原文件。",
        "The file's signature does not verify: it was changed after signing or is damaged, and "
        "cannot be accepted. Ask the sender for the original file.",
    )
    if hashlib.sha256(signed.content).digest() != signed.message_digest:
        raise bad
    signer = next(
        (
            c
            for c in signed.certificates
            if c.serial_number == signed.signer_serial and c.issuer.public_bytes() == signed.signer_issuer_der
        ),
        None,
    )
    if signer is None:
        raise _profile("signer certificate")
    key = signer.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise _profile("RSA signature")
    try:
        key.verify(signed.signature, signed.signed_attrs_der, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise bad from None
    return signer
