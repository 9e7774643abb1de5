"""The records carried by each exchange file (see docs/formats.md).

Plain slots dataclasses: a 100,000-row payroll file builds 100,000 rows, and slots keep that
both small and fast. They are not frozen because frozen dataclasses pay an
``object.__setattr__`` per field at construction, which the parse benchmark measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

FORMAT_VERSION = "1"
# Payroll format version 2 (issue 13): a correction of a return file's failed rows. Its header names
# the original batch (and the original file's digest when the return file carried it); each row
# names the original row it pays again. Ordinary payroll files stay version 1; the platform reads both.
PAYROLL_CORRECTION_VERSION = "2"
PAYROLL_VERSIONS = (FORMAT_VERSION, PAYROLL_CORRECTION_VERSION)
# Return format version 2 (issue 13): the header adds the digest of the payroll file it answers.
# The platform writes version 2; the client reads both.
RETURN_DIGEST_VERSION = "2"
RETURN_VERSIONS = (FORMAT_VERSION, RETURN_DIGEST_VERSION)
CURRENCY = "CNY"

# ID types (证件类型): one-character code → the Chinese name the manual uses.
ID_TYPES: dict[str, str] = {
    "0": "居民身份证",
    "1": "护照",
    "2": "军官证",
    "3": "港澳居民来往内地通行证",
    "4": "台湾居民来往大陆通行证",
    "5": "外国人永久居留身份证",
    "9": "其他",
}
ID_TYPE_RESIDENT = "0"

Operation = Literal["add", "delete"]


@dataclass(slots=True)
class PayrollHeader:
    format_version: str
    agreement_no: str
    payer_unit_no: str  # 发薪单位号
    batch_no: str
    pay_date: date
    currency: str
    record_count: int
    total_amount: Decimal
    purpose: str  # 用途: 工资, 奖金, …
    # 核对码 (issue 13): printed only on the checklist; an optional last header field, so files
    # written before it still read. Empty when the file carries none.
    check_code: str = ""
    # Version 2 only (a correction): the batch number and, when known, the payroll file digest of
    # the batch whose failed rows this file pays again. Empty in version 1.
    original_batch_no: str = ""
    original_digest: str = ""

    @property
    def is_correction(self) -> bool:
        return self.format_version == PAYROLL_CORRECTION_VERSION


@dataclass(slots=True)
class PayrollRow:
    seq: int
    account: str
    name: str
    amount: Decimal
    id_type: str  # one-character code, see ID_TYPES
    id_number: str
    remark: str
    original_seq: int = 0  # version 2: the seq of the original batch's failed row; 0 in version 1


@dataclass(slots=True)
class PayrollFile:
    header: PayrollHeader
    rows: list[PayrollRow]


@dataclass(slots=True)
class EmployeeHeader:
    format_version: str
    agreement_no: str
    payer_unit_no: str
    operation: Operation
    record_count: int


@dataclass(slots=True)
class EmployeeRow:
    seq: int
    id_type: str
    id_number: str
    name: str
    account: str


@dataclass(slots=True)
class EmployeeFile:
    header: EmployeeHeader
    rows: list[EmployeeRow]


@dataclass(slots=True)
class ReturnHeader:
    format_version: str
    agreement_no: str
    payer_unit_no: str
    batch_no: str
    pay_date: date
    success_count: int
    success_amount: Decimal
    failure_count: int
    failure_amount: Decimal
    fee_charged: Decimal
    # SHA-256 of the plain payroll file this return file answers (version 2); "" in version 1.
    payroll_digest: str = ""
    # Version 2, a correction's return file (issue 13): the original batch whose failed rows it paid
    # again; an optional last header field, empty for an ordinary batch.
    original_batch_no: str = ""


RESULT_PAID = "0000"


@dataclass(slots=True)
class ReturnRow:
    seq: int
    account: str
    name: str
    amount: Decimal
    # "0000" paid, else an ISO 20022 reason code: AC01 account missing, AC04 closed, AC06 frozen,
    # BE01 name mismatch, AM04 the settlement account cannot cover the batch.
    result_code: str
    message: str


@dataclass(slots=True)
class ReturnFile:
    header: ReturnHeader
    rows: list[ReturnRow]


@dataclass(slots=True)
class AgreementPackage:
    company_name: str
    agreement_no: str
    payer_unit_no: str
    start_date: date
    end_date: date
    fee_per_payment: Decimal  # 元/笔
    single_limit: Decimal  # 单笔发放限额
    settlement_account: str
    enterprise_cert_fingerprint: str  # SHA-256, lowercase hex
    bank_cert_pem: bytes  # the bank's encryption certificate, PEM
