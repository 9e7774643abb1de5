"""核对清单核对 at the kiosk (issue 13): the scanned QR or the typed 核对码 against the file.

A scanned QR is verified with the certificate bound to the agreement, then each fact is compared
with the batch; a typed code is compared (as a keyed hash) with the code inside the file. The
result names ✓/✗ per figure; a mismatch is audited and explained. The code is never shown.
The kiosk confirms nothing without such a check: a file without a 核对码 and without a signed QR
(an older client's) is confirmed by bank staff with a reason (apps/payroll/services/staff_confirm.py).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from django.conf import settings

from apps.core.errors import ServiceError
from apps.core.services import audit_record
from apps.intake.actors import Actor
from apps.payroll.models import ConfirmedHow, PayrollBatch
from payroll_exchange import checkcode, pki
from payroll_exchange.errors import ExchangeError

FIGURES = ("count", "total", "fee", "digest")
OTHER_FILE_ZH = "这份核对清单对应的是另一个文件。请取与本文件一起打印的核对清单；没有时请撤消，或请银行柜台员工确认。"
OTHER_FILE_EN = ("This checklist belongs to another file. Use the checklist printed with this file; without it, "
                 "revoke, or ask the bank's counter staff to confirm.")


# A file without a 核对码 was made by a client older than the code (its checklist has no QR either) or
# is a pain.001 (its checklist has a signed QR with an empty code). Without that QR the kiosk has nothing
# to verify: the agent revokes the file (and makes it again with the current client), or bank staff
# confirm it in the admin with a reason.
NO_CODE_ZH = ("此文件不含核对码（由旧版企业客户端制作），自助终端无法核对核对清单，不能在此确认入库。"
              "请点击“撤消”，用新版企业客户端重新制作文件后再提交；或请银行柜台员工在后台确认入库并注明原因。"
              "（ISO 20022 文件请扫描其核对清单上的二维码。）")
NO_CODE_EN = ("This file carries no check code (it was made by an older enterprise client): the kiosk cannot verify "
              "its checklist, so it cannot be confirmed here. Press 撤消 and make the file again with the current "
              "client, or ask the bank's counter staff to confirm it in the back office with a reason. "
              "(For an ISO 20022 file, scan the QR on its checklist.)")


def check_code_hash(code: str) -> str:
    """HMAC-SHA256 of the normalised code under a key derived from SECRET_KEY."""
    key = hashlib.sha256(b"payroll-check-code|" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, checkcode.code_normalize(code).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class ChecklistResult:
    how: str  # ConfirmedHow.CHECKLIST_SCANNED or CODE_TYPED
    matched: bool
    figures: dict[str, bool] = field(default_factory=dict)  # count/total/fee/digest → ✓ (True) / ✗
    code_ok: bool = False
    zh: str = ""  # why not, when not matched
    en: str = ""

    def message(self, language: str = "zh-hans") -> str:
        return self.en if language.startswith("en") else self.zh


def checklist_required(*, batch: PayrollBatch) -> bool:
    """Whether the file carries a 核对码 (the client puts one in every payroll sheet it encrypts)."""
    return bool(batch.check_code_hash)


def _scanned(*, batch: PayrollBatch, text: str) -> ChecklistResult:
    how = ConfirmedHow.CHECKLIST_SCANNED
    try:
        cert = pki.cert_load_pem(batch.agreement.certificate.pem.encode("ascii"))
        facts = checkcode.qr_verify(text=text, cert=cert)
    except ExchangeError as exc:
        if exc.code == "checklist_qr_signature":
            return ChecklistResult(how=how, matched=False, figures=dict.fromkeys(FIGURES, False),
                                   zh="核对清单二维码的签名不符：清单内容被改动过，或不是本企业的 USBKEY 制作的。"
                                      "请用与本文件一起打印的核对清单。",
                                   en="The checklist QR's signature does not match: the checklist was altered or not "
                                      "made with this company's USB key. Use the checklist printed with this file.")
        return ChecklistResult(how=how, matched=False, figures=dict.fromkeys(FIGURES, False),
                               zh=exc.zh + "。请重新扫描，或输入核对码。",
                               en=exc.en + ". Scan again, or type the check code.")
    figures = {"count": facts.record_count == batch.record_count,
               "total": facts.total_amount == batch.total_amount,
               "fee": facts.expected_fee == batch.expected_fee,
               "digest": facts.digest == (batch.digest or "")}
    same_file = (facts.agreement_no == batch.agreement.number and facts.batch_no == (batch.batch_no or "")
                 and facts.pay_date == batch.pay_date)
    # A file without a 核对码 (a pain.001: the client signs its QR with an empty code) is proven by the
    # signed QR alone, its digest naming the file; a QR with a code cannot stand for such a file.
    code_ok = (hmac.compare_digest(check_code_hash(facts.code), batch.check_code_hash) if batch.check_code_hash
               else facts.code == "")
    matched = same_file and code_ok and all(figures.values())
    return ChecklistResult(how=how, matched=matched, figures=figures, code_ok=code_ok,
                           zh="" if matched else OTHER_FILE_ZH, en="" if matched else OTHER_FILE_EN)


def _typed(*, batch: PayrollBatch, text: str) -> ChecklistResult:
    if not batch.check_code_hash:
        return ChecklistResult(how=ConfirmedHow.CODE_TYPED, matched=False, zh=NO_CODE_ZH, en=NO_CODE_EN)
    code_ok = hmac.compare_digest(check_code_hash(text), batch.check_code_hash)
    if code_ok:
        return ChecklistResult(how=ConfirmedHow.CODE_TYPED, matched=True, code_ok=True)
    return ChecklistResult(how=ConfirmedHow.CODE_TYPED, matched=False,
                           zh="核对码不符：" + OTHER_FILE_ZH + "（如为输入错误，请重新输入。）",
                           en="The check code does not match. " + OTHER_FILE_EN
                              + " (If you mistyped it, type it again.)")


class ChecklistRefused(ServiceError):
    pass


def no_code_message(*, language: str = "zh-hans") -> str:
    """What the kiosk's page says instead of offering 确认入库 for a file without a 核对码."""
    return NO_CODE_EN if language.startswith("en") else NO_CODE_ZH


def payroll_checklist_check(*, batch: PayrollBatch, actor: Actor, text: str) -> ChecklistResult:
    """What the scanner (or the agent) typed, checked against the batch; a mismatch is audited."""
    text = text.strip()
    scanned = text.startswith(checkcode.QR_VERSION + "|")
    result = _scanned(batch=batch, text=text) if scanned else _typed(batch=batch, text=text)
    if not result.matched:
        audit_record(actor_kind=actor.kind, actor=actor.name, action="payroll_checklist_mismatch", obj=batch,
                     company_id=actor.company_id,
                     detail={"how": result.how, "figures": result.figures, "code_ok": result.code_ok})
    return result


def checklist_confirm_require(*, batch: PayrollBatch, actor: Actor, text: str) -> str:
    """How this 确认入库 is proven (ConfirmedHow), or ChecklistRefused: at the kiosk only a checklist
    checked against the file proves it (the typed 核对码, or the scanned QR); a file without a 核对码 and
    without a scanned QR is refused like a missing checklist, and both refusals are audited. The API's
    certificate is its own proof (银企直连 has no paper)."""
    if actor.card is None:
        return ConfirmedHow.API_CERTIFICATE
    if not text.strip():
        has_code = checklist_required(batch=batch)
        audit_record(actor_kind=actor.kind, actor=actor.name, action="payroll_checklist_missing", obj=batch,
                     company_id=actor.company_id, detail={"file_has_code": has_code})
        if not has_code:
            raise ChecklistRefused("checklist_not_in_file", NO_CODE_ZH, NO_CODE_EN)
        raise ChecklistRefused("checklist_required",
                               "请先扫描盖章的《代理业务核对清单》上的二维码，或输入清单上的核对码，核对一致后才能确认入库。"
                               "没有核对清单时请撤消，或请银行柜台员工确认。",
                               "Scan the QR on the stamped checklist, or type its check code, before confirming. "
                               "Without the checklist, revoke, or ask the bank's counter staff to confirm.")
    result = payroll_checklist_check(batch=batch, actor=actor, text=text)
    if not result.matched:
        raise ChecklistRefused("checklist_mismatch", result.zh, result.en)
    return result.how
