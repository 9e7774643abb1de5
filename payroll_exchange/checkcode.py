"""核对码 and the checklist's QR text: what links the stamped paper checklist to the file.

The 核对码 is 10 characters drawn with ``secrets`` from an alphabet without the characters people
misread (0/O/D/Q, 1/I/L, 2/Z, 5/S, 8/B, U/V): 21 symbols, about 43.9 bits. The client writes it in
the signed, encrypted payroll file's header and prints it only on the checklist.

The QR holds one line of text, ``PRC1|agreement=…|batch=…|pay_date=…|count=…|total=…|fee=…|
digest=…|code=…|sig=<base64>``: version first, the fields in a fixed order, then an RSA PKCS#1 v1.5
SHA-256 signature by the enterprise key over every byte before ``|sig=``. A keyboard-mode scanner
types it into a text field, so it is ASCII only (agreement and batch numbers are ASCII in the
payroll file). Pure: no Django; bad input raises only ExchangeError.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from payroll_exchange.errors import ExchangeError

ALPHABET = "34679ACEFGHJKMNPRTWXY"  # no 0 O D Q 1 I L 2 Z 5 S 8 B U V
CODE_LENGTH = 10
QR_VERSION = "PRC1"
QR_FIELDS = ("agreement", "batch", "pay_date", "count", "total", "fee", "digest", "code")
_SIG = "sig"
_MAX_TEXT = 2000  # a QR of this kind is ~560 characters; anything far longer is not ours


def code_new() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def code_normalize(text: str) -> str:
    """What an agent typed, as the code is written: case, spaces and dashes do not matter."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")


def code_valid(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code)


@dataclass(frozen=True, slots=True)
class ChecklistFacts:
    """What the checklist states and the QR carries."""

    agreement_no: str
    batch_no: str
    pay_date: date
    record_count: int
    total_amount: Decimal
    expected_fee: Decimal
    digest: str
    code: str


def _bad(zh: str, en: str, code: str = "checklist_qr_unreadable") -> ExchangeError:
    return ExchangeError(code, f"核对清单二维码无法识别：{zh}", f"the checklist QR cannot be read: {en}")


def _body(facts: ChecklistFacts) -> str:
    values = (facts.agreement_no, facts.batch_no, facts.pay_date.isoformat(), str(facts.record_count),
              f"{facts.total_amount.quantize(Decimal('0.01'))}", f"{facts.expected_fee.quantize(Decimal('0.01'))}",
              facts.digest, facts.code)
    for name, value in zip(QR_FIELDS, values, strict=True):
        if not value.isascii() or "|" in value or not value.isprintable():
            raise ExchangeError("checklist_field", f"核对清单字段 {name} 含有无法放入二维码的字符: {value!r}",
                                f"the checklist field {name} holds characters a QR cannot carry: {value!r}")
    return "|".join([QR_VERSION, *(f"{n}={v}" for n, v in zip(QR_FIELDS, values, strict=True))])


def qr_text(*, facts: ChecklistFacts, key: rsa.RSAPrivateKey) -> str:
    body = _body(facts)
    signature = key.sign(body.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{body}|{_SIG}={base64.b64encode(signature).decode('ascii')}"


def qr_read(text: str) -> tuple[ChecklistFacts, bytes, bytes]:
    """(facts, signed bytes, signature) of a QR text, its signature not yet checked."""
    text = text.strip()
    if len(text) > _MAX_TEXT or not text.isascii():
        raise _bad("内容过长或含有非 ASCII 字符。", "too long or not ASCII.")
    body, sep, sig_text = text.rpartition(f"|{_SIG}=")
    parts = body.split("|")
    if not sep or parts[0] != QR_VERSION:
        raise _bad(f"不是 {QR_VERSION} 格式的核对清单二维码。", f"not a {QR_VERSION} checklist QR.")
    pairs = [part.partition("=") for part in parts[1:]]
    if [name for name, _, _ in pairs] != list(QR_FIELDS) or any(not eq for _, eq, _ in pairs):
        raise _bad("字段不完整或顺序不对。", "fields missing or out of order.")
    values = {name: value for name, _, value in pairs}
    try:
        signature = base64.b64decode(sig_text, validate=True)
        facts = ChecklistFacts(
            agreement_no=values["agreement"], batch_no=values["batch"],
            pay_date=date.fromisoformat(values["pay_date"]), record_count=int(values["count"]),
            total_amount=Decimal(values["total"]), expected_fee=Decimal(values["fee"]),
            digest=values["digest"], code=values["code"])
    except (binascii.Error, ValueError, InvalidOperation):
        raise _bad("字段值无法识别。", "a field's value cannot be read.") from None
    if not (facts.total_amount.is_finite() and facts.expected_fee.is_finite()):
        raise _bad("金额不是数字。", "an amount is not a number.")
    return facts, body.encode("ascii"), signature


def qr_verify(*, text: str, cert: x509.Certificate) -> ChecklistFacts:
    """The facts of a QR text signed by ``cert``'s key, or ExchangeError (checklist_qr_signature)."""
    facts, signed, signature = qr_read(text)
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise _bad("证书不是 RSA 证书。", "the certificate is not an RSA certificate.", "checklist_qr_signature")
    try:
        public.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise ExchangeError("checklist_qr_signature",
                            "核对清单二维码的签名与此协议绑定的企业证书不符：清单被改动过，或不是本企业制作的。",
                            "the checklist QR's signature does not match the enterprise certificate bound to "
                            "the agreement: the checklist was altered, or another company made it.") from None
    return facts
