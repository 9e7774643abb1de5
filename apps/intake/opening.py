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
from payroll_exchange.envelope import KIND_WORDS, Opened, WrongKind, envelope_open
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


# Where each kind of file belongs, in words (never the internal kind code): a good file put in
# the wrong place is not to be made again, only submitted where it belongs.
WRONG_SLOT = {
    "employees": ("这是员工信息文件，请在“提交员工信息”中提交。文件本身无需重新制作。",
                  "This is an employee information file: submit it under 'Submit employee information'. "
                  "The file itself need not be made again."),
    "payroll": ("这是代发工资文件，请在“提交代发工资”中提交。文件本身无需重新制作。",
                "This is a payroll file: submit it under 'Submit payroll'. The file itself need not be made again."),
    "pain001": ("这是 ISO 20022 代发工资文件（pain.001），请在“提交代发工资”中提交。文件本身无需重新制作。",
                "This is an ISO 20022 payroll file (pain.001): submit it under 'Submit payroll'. The file itself "
                "need not be made again."),
    "account_opening": ("这是批量开户申请文件，请交银行柜台办理批量开户，不在自助平台提交。",
                        "This is an account-opening request: hand it to the bank counter; it is not submitted "
                        "at the kiosk."),
}
BANK_MADE = ("这是银行发给企业的{zh}，请在企业客户端中打开，不在自助平台提交。",
             "This is a {en} the bank sends to the enterprise: open it in the enterprise client; it is not "
             "submitted at the kiosk.")


def wrong_slot_refused(exc: WrongKind) -> FileRefused:
    """A sound file of another kind: say where it belongs."""
    if exc.actual in WRONG_SLOT:
        zh, en = WRONG_SLOT[exc.actual]
    else:
        words_zh, words_en = KIND_WORDS.get(exc.actual, (exc.zh, exc.en))
        zh, en = BANK_MADE[0].format(zh=words_zh), BANK_MADE[1].format(en=words_en)
    return FileRefused(exc.code, zh, en)


def signed_file_open(*, data: bytes, agreement: Agreement, kind: str, now: datetime) -> Opened:
    """Steps 1 and 2 above: the agreement's term, then the envelope and its certificate binding."""
    agreement_term_require(agreement=agreement, day=now.date())
    trust = trust_store(now=now)
    # The bound certificate first, then one it replaced (重新签发) that is not revoked yet; a file
    # signed by none of them is refused as before (envelope_signer_not_bound).
    signers = [agreement.certificate.fingerprint, *agreement.certificate.replaces.filter(
        revoked_at__isnull=True).values_list("fingerprint", flat=True)]
    try:
        for signer in signers[:-1]:
            try:
                return envelope_open(data=data, recipient=bank_identity(), trust=trust, now=now,
                                     expected_kind=kind, expected_signer=signer)
            except ExchangeError as exc:
                if exc.code != "envelope_signer_not_bound":
                    raise
        return envelope_open(data=data, recipient=bank_identity(), trust=trust, now=now,
                             expected_kind=kind, expected_signer=signers[-1])
    except WrongKind as exc:
        raise wrong_slot_refused(exc) from exc
    except ExchangeError as exc:
        raise FileRefused.from_exchange(exc) from exc


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
