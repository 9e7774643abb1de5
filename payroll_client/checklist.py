"""代理业务核对清单: the checklist the agent prints, stamps and carries to the bank.

The kiosk shows the same count, total, expected fee and digest in its validation report; the
agent compares the two before confirming. Rendered as text and as a PDF whose Chinese font is
embedded (a subset), so that it prints the same on any PC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from payroll_exchange.errors import ExchangeError

FONT_NAME = "PayrollCJK"
FONT_CANDIDATES: list[tuple[str, int]] = [
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("C:/Windows/Fonts/simhei.ttf", 0),
    ("C:/Windows/Fonts/msyh.ttc", 0),
]

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_SECTIONS = ["", "万", "亿", "万亿"]


@dataclass(frozen=True, slots=True)
class Checklist:
    company_name: str
    agreement_no: str
    payer_unit_no: str
    batch_no: str
    pay_date: date
    purpose: str
    record_count: int
    total_amount: Decimal
    fee_per_payment: Decimal
    expected_fee: Decimal
    digest: str
    file_name: str
    operator: str
    reviewer: str
    made_at: str


def money_text(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):,}"


def amount_in_words(amount: Decimal) -> str:
    """人民币大写, as banks print beside a total so that it cannot be altered."""
    cents = int((amount.quantize(Decimal("0.01")) * 100).to_integral_value())
    if cents == 0:
        return "零元整"
    yuan, jiao, fen = cents // 100, (cents // 10) % 10, cents % 10
    words = ""
    if yuan:
        groups: list[int] = []
        while yuan:
            groups.append(yuan % 10000)
            yuan //= 10000
        need_zero = False
        for i in range(len(groups) - 1, -1, -1):
            group = groups[i]
            if group == 0:
                need_zero = bool(words)
                continue
            if need_zero or (words and group < 1000):
                words += "零"
            need_zero = False
            part, zero = "", False
            for pos in range(3, -1, -1):
                digit = (group // 10**pos) % 10
                if digit == 0:
                    zero = bool(part)
                    continue
                if zero:
                    part += "零"
                    zero = False
                part += _DIGITS[digit] + _UNITS[pos]
            words += part + _SECTIONS[i]
        words += "元"
    if jiao == 0 and fen == 0:
        return words + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if fen:
        words += _DIGITS[fen] + "分"
    return words


def checklist_lines(*, checklist: Checklist) -> list[tuple[str, str]]:
    c = checklist
    return [
        ("企业名称 Company", c.company_name),
        ("协议编号 Agreement", c.agreement_no),
        ("发薪单位号 Payer unit", c.payer_unit_no),
        ("批次号 Batch", c.batch_no),
        ("发薪日期 Pay date", c.pay_date.isoformat()),
        ("用途 Purpose", c.purpose),
        ("总笔数 Count", str(c.record_count)),
        ("总金额 Total (元)", money_text(c.total_amount)),
        ("金额大写 In words", amount_in_words(c.total_amount)),
        ("每笔手续费 Fee per payment", money_text(c.fee_per_payment)),
        ("预计手续费 Expected fee", money_text(c.expected_fee)),
        ("文件摘要 SHA-256", c.digest),
        ("文件名 File", c.file_name),
        ("制作人 Operator", c.operator),
        ("复核人 Reviewer", c.reviewer),
        ("制作时间 Time", c.made_at),
    ]


def checklist_text(*, checklist: Checklist) -> str:
    lines = ["代理业务核对清单 (Payroll checklist)", "=" * 40]
    lines += [f"{label}: {value}" for label, value in checklist_lines(checklist=checklist)]
    lines += [
        "",
        "请核对以上内容与自助平台报告一致, 打印并加盖公章。",
        "Compare with the kiosk's report, print, and stamp with the company seal.",
        "",
        "+--------------------------------------+",
        "| 加盖公章 Company stamp               |",
        "|                                      |",
        "|                                      |",
        "|                                      |",
        "+--------------------------------------+",
        "经办人签字 Agent signature: ____________",
    ]
    return "\n".join(lines) + "\n"


_registered: str | None = None


def font_register() -> str:
    """Register the first CJK font found; reportlab embeds a subset of it in each PDF."""
    global _registered
    if _registered:
        return _registered
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for path, index in FONT_CANDIDATES:
        if Path(path).exists():
            pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=index))
            _registered = FONT_NAME
            return FONT_NAME
    raise ExchangeError("font_missing", "找不到中文字体 (请安装 fonts-wqy-zenhei 或 fonts-noto-cjk)",
                        "no Chinese font found (install fonts-wqy-zenhei or fonts-noto-cjk)")


def pdf_render(*, title: str, lines: list[tuple[str, str]], footer: list[str], stamp_box: bool) -> bytes:
    """A one-page (or more) A4 form: a title, label/value lines, notes and a stamp box."""
    from io import BytesIO

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    font = font_register()
    buffer = BytesIO()
    # initialFontName: otherwise an unused, unembedded Helvetica is listed in every PDF.
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, initialFontName=font)
    pdf.setTitle(title)
    width, height = A4
    left, y = 50.0, height - 60
    pdf.setFont(font, 16)
    pdf.drawCentredString(width / 2, y, title)
    y -= 30
    for label, value in lines:
        if y < 80:
            pdf.showPage()
            y = height - 60
        pdf.setFont(font, 10)
        pdf.drawString(left, y, label)
        # A digest or long name gets a smaller font rather than running off the page.
        size = 10 if pdf.stringWidth(value, font, 10) < width - left - 230 else 8
        pdf.setFont(font, size)
        pdf.drawString(left + 170, y, value)
        y -= 20
    y -= 10
    pdf.setFont(font, 9)
    for note in footer:
        if y < 60:  # a return list may name thousands of failed rows: continue on a new page
            pdf.showPage()
            pdf.setFont(font, 9)
            y = height - 60
        pdf.drawString(left, y, note)
        y -= 14
    if stamp_box:
        if y < 200:
            pdf.showPage()
            y = height - 60
        box_w, box_h = 200.0, 140.0
        x = width - 50 - box_w
        pdf.rect(x, y - box_h, box_w, box_h)
        pdf.setFont(font, 10)
        pdf.drawString(x + 8, y - 16, "加盖公章 Company stamp")
        pdf.drawString(left, y - box_h + 10, "经办人签字 Agent signature: ______________")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def checklist_pdf(*, checklist: Checklist) -> bytes:
    return pdf_render(
        title="代理业务核对清单",
        lines=checklist_lines(checklist=checklist),
        footer=["请核对以上内容与自助平台报告一致, 打印并加盖公章。",
                "Compare with the kiosk's report, print, and stamp with the company seal."],
        stamp_box=True,
    )
