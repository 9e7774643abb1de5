"""Field labels in the user's words and the one way to build a RowError.

Every message names where the problem is in the words the user sees on screen
("第 12 行 账号：…" / "row 12, account: …") so a clerk can find it without knowing our keys.
"""

from __future__ import annotations

from payroll_exchange.errors import RowError

# field key → (zh-hans label, English label)
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "seq": ("序号", "sequence number"),
    "account": ("账号", "account number"),
    "name": ("户名", "account name"),
    "amount": ("金额", "amount"),
    "id_type": ("证件类型", "ID type"),
    "id_number": ("证件号码", "ID number"),
    "remark": ("备注", "remark"),
    "result_code": ("结果码", "result code"),
    "message": ("说明", "message"),
    "format_version": ("格式版本", "format version"),
    "agreement_no": ("协议号", "agreement number"),
    "payer_unit_no": ("发薪单位号", "payer unit number"),
    "batch_no": ("批次号", "batch number"),
    "pay_date": ("发薪日期", "pay date"),
    "currency": ("币种", "currency"),
    "record_count": ("记录总数", "record count"),
    "total_amount": ("总金额", "total amount"),
    "purpose": ("用途", "purpose"),
    "operation": ("操作类型", "operation"),
    "success_count": ("成功笔数", "success count"),
    "success_amount": ("成功金额", "success amount"),
    "failure_count": ("失败笔数", "failure count"),
    "failure_amount": ("失败金额", "failure amount"),
    "fee_charged": ("手续费", "fee charged"),
    "line": ("整行", "whole line"),
    "original_seq": ("原序号", "original sequence number"),
    "original_batch_no": ("原批次号", "original batch number"),
    "original_digest": ("原文件摘要", "original file digest"),
}


def field_label(field: str | None, language: str = "zh-hans") -> str:
    if field is None:
        return ""
    zh, en = FIELD_LABELS.get(field, (field, field))
    return en if language.startswith("en") else zh


def row_error(code: str, row: int | None, field: str | None, zh: str, en: str) -> RowError:
    """A RowError whose messages start with where the problem is: the row (or the header) and
    the field, then the detail, which should say what to do next."""
    zh_label, en_label = FIELD_LABELS.get(field, (field, field)) if field else ("", "")
    if row is None:
        zh_where = f"文件头 {zh_label}：" if field else ""
        en_where = f"header, {en_label}: " if field else ""
    else:
        zh_where = f"第 {row} 行 {zh_label}：" if field else f"第 {row} 行："
        en_where = f"row {row}, {en_label}: " if field else f"row {row}: "
    return RowError(code=code, row=row, field=field, zh=zh_where + zh, en=en_where + en)
