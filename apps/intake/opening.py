"""Opening a signed file, the same for every kind, with one wording and one order:

1. the agreement is within its term (refused before anything is decrypted);
2. the envelope (payroll_exchange.envelope): addressed to the bank, signed by the certificate
   bound to the agreement, that certificate's chain and revocation at the business now;
3. after the kind's loader has read the header: the file names this agreement and payer unit.

Every refusal is a FileRefused; a core ExchangeError is mapped here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from apps.agreements.models import Agreement
from apps.agreements.services import agreement_in_term, bank_identity, trust_store
from apps.intake.errors import FileRefused
from payroll_exchange.envelope import Opened, envelope_open
from payroll_exchange.errors import ExchangeError

T = TypeVar("T")


def exchange_call(function: Callable[..., T], /, *args: object, **kwargs: object) -> T:
    """Call into the pure core; its ExchangeError becomes FileRefused."""
    try:
        return function(*args, **kwargs)
    except ExchangeError as exc:
        raise FileRefused.from_exchange(exc) from exc


def agreement_term_require(*, agreement: Agreement, day: date) -> None:
    if not agreement_in_term(agreement=agreement, day=day):
        raise FileRefused(
            "agreement_out_of_term",
            f"协议 {agreement.number} 不在有效期内（{agreement.start_date} 至 {agreement.end_date}），"
            "请联系银行续签协议。",
            f"Agreement {agreement.number} is outside its term ({agreement.start_date} to {agreement.end_date}); "
            "contact the bank to renew it.",
        )


def signed_file_open(*, data: bytes, agreement: Agreement, kind: str, now: datetime) -> Opened:
    """Steps 1 and 2 above: the agreement's term, then the envelope and its certificate binding."""
    agreement_term_require(agreement=agreement, day=now.date())
    return exchange_call(
        envelope_open, data=data, recipient=bank_identity(), trust=trust_store(now=now), now=now,
        expected_kind=kind, expected_signer=agreement.certificate.fingerprint,
    )


def agreement_header_require(*, agreement: Agreement, agreement_no: str, payer_unit_no: str) -> None:
    """Step 3: the file was made for this agreement."""
    if agreement_no != agreement.number or payer_unit_no != agreement.payer_unit_no:
        raise FileRefused(
            "agreement_mismatch",
            f"文件属于协议 {agreement_no}（发薪单位号 {payer_unit_no}），与所选协议 {agreement.number}"
            f"（发薪单位号 {agreement.payer_unit_no}）不符，请选择正确的协议。",
            f"The file belongs to agreement {agreement_no} (payer unit {payer_unit_no}), not the chosen "
            f"{agreement.number} (payer unit {agreement.payer_unit_no}); choose the right agreement.",
        )
