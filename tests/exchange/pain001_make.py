"""A pain.001.001.09 writer for the tests (what an enterprise's ERP would export), kept apart from the
platform's reader so a test can bend one element at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

NS = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"


@dataclass
class Tx:
    name: str
    account: str
    amount: str
    id_number: str
    scheme: str = "<Cd>NIDN</Cd>"
    currency: str = "CNY"
    remark: str = "工资"


def tx_xml(i: int, t: Tx) -> str:
    return f"""
      <CdtTrfTxInf>
        <PmtId><EndToEndId>E2E-{i}</EndToEndId></PmtId>
        <Amt><InstdAmt Ccy="{t.currency}">{t.amount}</InstdAmt></Amt>
        <Cdtr><Nm>{escape(t.name)}</Nm>
          <Id><PrvtId><Othr><Id>{t.id_number}</Id><SchmeNm>{t.scheme}</SchmeNm></Othr></PrvtId></Id>
        </Cdtr>
        <CdtrAcct><Id><Othr><Id>{t.account}</Id></Othr></Id></CdtrAcct>
        <RmtInf><Ustrd>{escape(t.remark)}</Ustrd></RmtInf>
      </CdtTrfTxInf>"""


def payment_xml(*, batch_no: str, pay_date: date, debtor_account: str, txs: list[Tx]) -> str:
    body = "".join(tx_xml(i, t) for i, t in enumerate(txs, start=1))
    return f"""
    <PmtInf>
      <PmtInfId>{batch_no}</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <ReqdExctnDt><Dt>{pay_date.isoformat()}</Dt></ReqdExctnDt>
      <Dbtr><Nm>Company</Nm></Dbtr>
      <DbtrAcct><Id><Othr><Id>{debtor_account}</Id></Othr></Id></DbtrAcct>
      <DbtrAgt><FinInstnId><Nm>Bank</Nm></FinInstnId></DbtrAgt>{body}
    </PmtInf>"""


def pain001_xml(*, batch_no: str, pay_date: date, debtor_account: str, txs: list[Tx],
                ctrl_sum: str | None = None, count: int | None = None, payments: int = 1,
                msg_id: str = "MSG-1") -> bytes:
    total = sum((Decimal(t.amount) for t in txs), Decimal(0)) if ctrl_sum is None else ctrl_sum
    count = len(txs) * payments if count is None else count
    blocks = "".join(payment_xml(batch_no=f"{batch_no}{'' if n == 0 else n}", pay_date=pay_date,
                                 debtor_account=debtor_account, txs=txs) for n in range(payments))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{NS}">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>{msg_id}</MsgId>
      <CreDtTm>2026-12-01T08:00:00</CreDtTm>
      <NbOfTxs>{count}</NbOfTxs>
      <CtrlSum>{total}</CtrlSum>
      <InitgPty><Nm>Company</Nm></InitgPty>
    </GrpHdr>{blocks}
  </CstmrCdtTrfInitn>
</Document>
""".encode()
