"""The agreement package (协议数据包): the bank's description of one agreement, which the client imports.

It has no rows: one ``name|value`` line a field, so any problem refuses it as a whole. Its own module
beside formats.py, whose line-level helpers it shares, so formats.py stays the record files.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import date

from payroll_exchange.formats import (
    SEP,
    _amount_text,
    _decimal_parse,
    _header_value,
    _line_join,
    _lines_encode,
    _lines_split,
    _unreadable,
)
from payroll_exchange.records import FORMAT_VERSION, AgreementPackage

KIND_AGREEMENT = "AGREEMENT"
AGREEMENT_FIELDS = ("company_name", "agreement_no", "payer_unit_no", "start_date", "end_date",
                    "fee_per_payment", "single_limit", "settlement_account",
                    "enterprise_cert_fingerprint", "bank_cert_pem")


def agreement_dump(p: AgreementPackage) -> bytes:
    pem = p.bank_cert_pem.encode("ascii") if isinstance(p.bank_cert_pem, str) else p.bank_cert_pem
    values = (p.company_name, p.agreement_no, p.payer_unit_no, p.start_date.isoformat(),
              p.end_date.isoformat(), _amount_text(p.fee_per_payment), _amount_text(p.single_limit),
              p.settlement_account, p.enterprise_cert_fingerprint,
              # PEM spans lines; base64 of it keeps the package one field per line.
              base64.b64encode(pem).decode("ascii"))
    lines = [f"{KIND_AGREEMENT}{SEP}{FORMAT_VERSION}"]
    for name, value in zip(AGREEMENT_FIELDS, values, strict=True):
        lines.append(_line_join((name, value), ("line", name), None))
    return _lines_encode(lines)


def agreement_load(data: bytes) -> AgreementPackage:
    """The agreement package has no rows: any problem refuses it as a whole."""
    kind_zh, kind_en = "协议数据包", "agreement package"
    _, lines = _lines_split(data, KIND_AGREEMENT, kind_zh, kind_en, 2)
    values: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(SEP)
        if not sep or name not in AGREEMENT_FIELDS or name in values:
            raise _unreadable(kind_zh, kind_en, f"无法识别的行 {line[:40]!r}。请向银行重新索取协议数据包。",
                              f"unexpected line {line[:40]!r}. Ask the bank for the package again.",
                              "file_header")
        values[name] = value
    missing = [name for name in AGREEMENT_FIELDS if name not in values]
    if missing:
        raise _unreadable(kind_zh, kind_en, f"缺少字段 {', '.join(missing)}。请向银行重新索取协议数据包。",
                          f"missing fields {', '.join(missing)}. Ask the bank for the package again.",
                          "file_header")

    def value(parse: Callable[[str], object], name: str) -> object:
        return _header_value(parse, values[name], name, kind_zh, kind_en)

    try:
        pem = base64.b64decode(values["bank_cert_pem"], validate=True)
    except binascii.Error:
        raise _unreadable(kind_zh, kind_en, "银行证书字段已损坏。", "the bank certificate field is damaged.",
                          "file_header") from None
    return AgreementPackage(
        company_name=values["company_name"], agreement_no=values["agreement_no"],
        payer_unit_no=values["payer_unit_no"],
        start_date=value(date.fromisoformat, "start_date"),  # type: ignore[arg-type]
        end_date=value(date.fromisoformat, "end_date"),  # type: ignore[arg-type]
        fee_per_payment=value(_decimal_parse, "fee_per_payment"),  # type: ignore[arg-type]
        single_limit=value(_decimal_parse, "single_limit"),  # type: ignore[arg-type]
        settlement_account=values["settlement_account"],
        enterprise_cert_fingerprint=values["enterprise_cert_fingerprint"], bank_cert_pem=pem)
