"""Rows and headers of a payroll sheet that are not payments: total rows and amounts not in yuan.

HR sheets often end with a 合计 row (a label and =SUM(...)), or a bare sum under the amount column.
Read as a record it would pay the whole payroll a second time to nobody in particular, so a
trailing row labelled 合计 / 总计 / 小计 in any cell, or whose amount equals the sum of the rows
above it, is refused *as a total row*, saying to delete it or give 记录总数 (``--count``). When the
record count is given and the total rows lie past it, the count is honoured: they are left out.

An amount column whose header says 万元 or 千元 holds amounts 10,000 or 1,000 times too small:
refused, amounts must be in yuan.

Pure functions over (sheet row number, cells) lists, the PayrollRows read from them and the
header texts (1-based column → text), so the sheet reader only calls ``payroll_totals_check``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from payroll_exchange.errors import RowError
from payroll_exchange.messages import row_error
from payroll_exchange.records import PayrollRow

TOTAL_LABELS = ("合计", "总计", "小计")
MAX_TRAILING_TOTALS = 3  # 小计, 合计, 总计 under one another
_UNITS = (("万元", "ten thousands of yuan", "0.85 万元 is 8500.00"),
          ("千元", "thousands of yuan", "8.5 千元 is 8500.00"))
_BARE_UNIT = re.compile(r"[(（\[【]\s*([万千])\s*[)）\]】]")  # 金额（万）
_BLANKS = str.maketrans("", "", " \u3000\xa0\t")


def total_label(cells: Sequence[str | None]) -> str | None:
    """The cell that makes a row a total row (合计, 合 计, 合计：, 总计金额 …), or None."""
    for cell in cells:
        if cell and cell.translate(_BLANKS).startswith(TOTAL_LABELS):
            return cell.strip()
    return None


def amount_unit_error(header: str | None, header_row: int) -> RowError | None:
    """A RowError when the amount column's header says 万元 or 千元 (row = the header row)."""
    if not header:
        return None
    text = header.translate(_BLANKS)
    bare = _BARE_UNIT.search(text)
    for unit, unit_en, example in _UNITS:
        example_zh = example.replace(" is ", " 写作 ")
        if unit in text or (bare and bare.group(1) == unit[0]):
            return row_error("amount_unit", header_row, "amount",
                             f"表头“{header.strip()}”表明金额以{unit}为单位，代发金额必须以元为单位。"
                             f"请把该列换算成元（如 {example_zh}），表头改为“金额（元）”后重新导入。",
                             f"the header \"{header.strip()}\" says the amounts are in {unit_en} ({unit}); payroll "
                             f"amounts must be in yuan. Convert the column to yuan ({example}), name it 金额（元） "
                             "and import again.")
    return None


def _total_error(number: int, data_rows: int, label: str | None, amount: Decimal | None) -> RowError:
    advice_zh = (f"请删除该行后重新导入；或填写记录总数（--count {data_rows}），只读上面的 {data_rows} 行数据。")
    advice_en = (f"Delete the row and import again, or give the record count (--count {data_rows}) to read only "
                 f"the {data_rows} rows of data above it.")
    if label is not None:
        return row_error("total_row", number, None,
                         f"是合计行（“{label}”），不是一笔代发，不能当作发放记录读取。{advice_zh}",
                         f"is a total row (\"{label}\"), not a payment, and cannot be read as one. {advice_en}")
    return row_error("total_row", number, "amount",
                     f"{amount} 等于上面 {data_rows} 行金额之和，是合计行，不是一笔代发。{advice_zh}",
                     f"{amount} equals the sum of the {data_rows} rows above it: a total row, not a payment. "
                     f"{advice_en}")


def _trailing_totals(sheet: Sequence[tuple[int, list[str | None]]],
                     rows: Sequence[PayrollRow]) -> list[tuple[int, str | None, Decimal | None]]:
    """(row number, label, amount) of the total rows at the end of the sheet: a labelled row has
    no amount here, a bare sum no label."""
    found: list[tuple[int, str | None, Decimal | None]] = []
    for number, cells in reversed(sheet):
        label = total_label(cells)
        if label is None or len(found) == MAX_TRAILING_TOTALS:
            break
        found.append((number, label, None))
    if found:
        return found[::-1]
    # A bare sum: the last row's amount is the sum of all the rows above, every one of them read
    # (with fewer than two rows above, an equal amount is as likely a second equal salary).
    number = sheet[-1][0]
    if len(rows) < 3 or len(rows) != len(sheet) or rows[-1].seq != number:
        return []
    last = rows[-1].amount
    above = sum((r.amount for r in rows[:-1]), Decimal(0))
    return [(number, None, last)] if last == above and last > 0 else []


def payroll_totals_check(*, sheet: Sequence[tuple[int, list[str | None]]], rows: list[PayrollRow],
                         errors: list[RowError], headers: dict[int, str], amount_column: int,
                         first_row: int, record_count: int | None) -> int:
    """Refuse the amount column's unit and trailing total rows (appending to ``errors``; a total
    row's own record and reading errors are taken out of ``rows``/``errors``). Returns how many
    rows were left out because the record count stops before them."""
    unit = amount_unit_error(headers.get(amount_column), first_row - 1)
    if unit is not None:
        errors.insert(0, unit)  # the cause of every odd amount below it: said first
    if not sheet:
        return 0
    totals = _trailing_totals(sheet, rows)
    if not totals:
        return 0
    numbers = {number for number, _, _ in totals}
    while rows and rows[-1].seq in numbers:
        rows.pop()
    errors[:] = [e for e in errors if e.row not in numbers]
    data_rows = len(sheet) - len(totals)
    if record_count is not None and record_count <= data_rows:
        return len(totals)  # the count the user gave ends before them: honour it
    for number, label, amount in totals:
        errors.append(_total_error(number, data_rows, label, amount))
    return 0
