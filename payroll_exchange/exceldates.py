"""Which number formats show a date, a time or a duration, and the value such a cell shows.

Shared by the .xlsx and .xls readers so that the same cell gives the same text in both. The
rules are openpyxl's (``styles/numbers.py``, ``utils/datetime.py``), plus the East Asian built-in
formats (ids 27–36 and 50–58) that openpyxl does not know: Chinese Excel writes them for
``2026年3月5日`` and ``8时30分`` without a format code in the file.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

# openpyxl's date detection: the first section of the format, with quoted literals and
# [colour]/[$locale] brackets removed, has a d, m, h, y or s not escaped by _ or \.
_STRIP = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
_DATE_CHAR = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_TIMEDELTA = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)
BUILTIN_DATES = {14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM",
                 19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm", 45: "mm:ss",
                 46: "[h]:mm:ss", 47: "mmss.0"}
# Excel's zh-CN built-ins (the codes it shows in the Format Cells dialog). 32–35, 55 and 56 are
# times of day: the cell shows only the time, so only the time is read.
EAST_ASIAN_DATES = {27: 'yyyy"年"m"月"', 28: 'm"月"d"日"', 29: 'm"月"d"日"', 30: "m-d-yy",
                    31: 'yyyy"年"m"月"d"日"', 36: 'yyyy"年"m"月"', 50: 'yyyy"年"m"月"', 51: 'm"月"d"日"',
                    52: 'yyyy"年"m"月"', 53: 'm"月"d"日"', 54: 'm"月"d"日"', 57: 'yyyy"年"m"月"',
                    58: 'm"月"d"日"'}
EAST_ASIAN_TIMES = {32: 'h"时"mm"分"', 33: 'h"时"mm"分"ss"秒"', 34: '上午/下午h"时"mm"分"',
                    35: '上午/下午h"时"mm"分"ss"秒"', 55: '上午/下午h"时"mm"分"', 56: '上午/下午h"时"mm"分"ss"秒"'}
WINDOWS_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 - Excel serials are naive local dates
MAC_EPOCH = datetime(1904, 1, 1)  # noqa: DTZ001

DATE, TIME_OF_DAY, DURATION = "date", "time", "duration"


def format_kind(format_id: int, code: str | None) -> str | None:
    """DATE, TIME_OF_DAY, DURATION or None (a plain number) for a cell's number format: the
    built-in ids first (a file may not carry their codes), then the code the file gives."""
    if format_id in EAST_ASIAN_TIMES:
        return TIME_OF_DAY
    if format_id in EAST_ASIAN_DATES:
        return DATE
    code = code or BUILTIN_DATES.get(format_id)
    if not code:
        return None
    first = code.split(";")[0]
    if _TIMEDELTA.search(first):
        return DURATION
    if _DATE_CHAR.search(_STRIP.sub("", first)):
        return DATE
    return None


def from_excel(serial: float, epoch: datetime, kind: str) -> datetime | time | timedelta:
    """openpyxl's ``from_excel``: the value a date-formatted number cell shows. Raises
    OverflowError or ValueError outside the range of dates."""
    if kind == DURATION:
        span = timedelta(days=serial)
        if span.microseconds:
            span = timedelta(seconds=span.total_seconds() // 1, microseconds=round(span.microseconds, -3))
        return span
    day, fraction = divmod(serial, 1)
    diff = timedelta(milliseconds=round(fraction * 86_400_000))
    if kind == TIME_OF_DAY and diff.days == 0:
        minutes, seconds = divmod(diff.seconds, 60)
        return time(minutes // 60, minutes % 60, seconds, diff.microseconds)
    if 0 <= serial < 1 and diff.days == 0:
        minutes, seconds = divmod(diff.seconds, 60)
        return time(minutes // 60, minutes % 60, seconds, diff.microseconds)
    if 0 < serial < 60 and epoch == WINDOWS_EPOCH:
        day += 1  # Excel's phantom 1900-02-29
    return epoch + timedelta(days=day) + diff
