"""代理业务核对清单: the checklist the agent prints, stamps and carries to the bank.

The kiosk shows the same count, total, expected fee and digest in its validation report; the
agent compares the two before confirming. Rendered as text and as a PDF whose Chinese font is
embedded (a subset), so that it prints the same on any PC.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from payroll_exchange.clock import BUSINESS_TZ
from payroll_exchange.errors import ExchangeError

FONT_ENV = "PAYROLL_CLIENT_FONT"  # a TrueType font file (path, or path#index for a .ttc) to use instead
FONT_NAME = "PayrollCJK"
MONO_NAME = "PayrollMono"
# Monospaced, for the digest: each character the same width so groups line up and 0/O, 1/l differ.
MONO_CANDIDATES: list[tuple[str, int]] = [
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 1),  # WenQuanYi Zen Hei Mono
    ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 0),
    ("/usr/share/fonts/truetype/liberation2/LiberationMono-Regular.ttf", 0),
    ("C:/Windows/Fonts/consola.ttf", 0),
    ("C:/Windows/Fonts/cour.ttf", 0),
]
DIGEST_GROUP = 4
DIGEST_GROUPS_PER_LINE = 8
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
    settlement_account: str = ""
    sheet_read: str = ""
    hidden_rows: str = ""
    check_code: str = ""  # 核对码: in the encrypted file and here, never on the kiosk's screens
    qr_text: str = ""  # the signed PRC1 text of the QR (payroll_exchange/checkcode.py)


def shanghai_time(instant: datetime) -> str:
    """Times printed for the bank: Beijing time whatever the PC's zone is set to."""
    return instant.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S") + " 北京时间 (UTC+8)"


def digest_lines(digest: str) -> list[str]:
    """64 hex digits as two lines of eight groups of four: easy to compare aloud at the counter."""
    groups = [digest[i:i + DIGEST_GROUP] for i in range(0, len(digest), DIGEST_GROUP)]
    return [" ".join(groups[i:i + DIGEST_GROUPS_PER_LINE])
            for i in range(0, len(groups), DIGEST_GROUPS_PER_LINE)] or [""]


def code_grouped(code: str) -> str:
    """The 核对码 in two groups of five, as the kiosk's field accepts it typed either way."""
    return f"{code[:5]} {code[5:]}" if len(code) == 10 else code


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
    """Label/value lines; the digest is printed apart, grouped, in monospaced type."""
    c = checklist
    lines = [
        ("企业名称 Company", c.company_name),
        ("协议编号 Agreement", c.agreement_no),
        ("发薪单位号 Payer unit", c.payer_unit_no),
        ("结算账号 Settlement account", c.settlement_account),
        ("批次号 Batch", c.batch_no),
        ("发薪日期 Pay date", c.pay_date.isoformat()),
        ("用途 Purpose", c.purpose),
        ("总笔数 Count", str(c.record_count)),
        ("总金额 Total (元)", money_text(c.total_amount)),
        ("金额大写 In words", amount_in_words(c.total_amount)),
        ("每笔手续费 Fee per payment", money_text(c.fee_per_payment)),
        ("预计手续费 Expected fee", money_text(c.expected_fee)),
        ("文件名 File", c.file_name),
    ]
    if c.sheet_read:
        lines.append(("读取表格 Sheet read", c.sheet_read))
    if c.hidden_rows:
        lines.append(("隐藏行 Hidden rows", c.hidden_rows))
    if c.check_code:
        lines.append(("核对码 Check code", code_grouped(c.check_code)))
    lines += [
        ("制作人 Operator", c.operator),
        ("复核人 Reviewer", c.reviewer),
        ("制作时间 Time", c.made_at),
    ]
    return lines


SIGNATURES = ["经办人签字 Operator: ________________", "复核人签字 Reviewer: ________________"]
NOTES = ["请核对以上内容与自助平台报告一致, 打印, 签字并加盖公章。",
         "Compare with the kiosk's report, print, sign, and stamp with the company seal."]


def _box(title: str, body: tuple[str, ...] = ("", "", ""), width: int = 38) -> list[str]:
    width = max(width, *(_display_width(line) + 2 for line in (title, *body)))

    def row(text: str) -> str:
        return f"| {text}{' ' * (width - 2 - _display_width(text))} |"

    return ["+" + "-" * width + "+", row(title), *(row(line) for line in body), "+" + "-" * width + "+"]


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def checklist_text(*, checklist: Checklist) -> str:
    lines = ["代理业务核对清单 (Payroll checklist)", "=" * 40]
    lines += [f"{label}: {value}" for label, value in checklist_lines(checklist=checklist)]
    # In full on one line (to copy and search), then in groups of four to compare by eye.
    lines += [f"文件摘要 SHA-256: {checklist.digest}", *(f"    {line}" for line in digest_lines(checklist.digest))]
    if checklist.qr_text:
        # The PDF's QR holds exactly this line; a scanner at the kiosk types it.
        lines += ["二维码内容 QR text (扫码核对 scanned at the kiosk):", checklist.qr_text]
    lines += ["", *NOTES, "", *SIGNATURES, "", *_box("加盖公章 Company stamp"),
              *_box("银行受理 For the bank", ("受理人 Clerk:", "日期 Date:", "业务章 Bank stamp:", ""))]
    return "\n".join(lines) + "\n"


_registered: dict[str, str] = {}


def _font_file(*, name: str, candidates: list[tuple[str, int]]) -> str | None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    given = os.environ.get(FONT_ENV, "").strip()
    if given:
        path, _, index = given.partition("#")
        if not Path(path).is_file():
            raise ExchangeError("font_missing", f"{FONT_ENV} 指定的字体文件不存在: {path}",
                                f"the font file {FONT_ENV} names does not exist: {path}")
        candidates = [(path, int(index) if index.isdigit() else 0)]
    for path, index in candidates:
        if Path(path).is_file():
            try:
                pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
            except (TTFError, OSError, ValueError) as exc:
                raise ExchangeError("font_unreadable", f"字体文件无法使用: {path} ({exc})",
                                    f"the font file cannot be used: {path} ({exc})") from None
            return name
    return None


def font_register() -> str:
    """Register the first CJK font found; reportlab embeds a subset of it in each PDF."""
    if "cjk" in _registered:
        return _registered["cjk"]
    font = _font_file(name=FONT_NAME, candidates=FONT_CANDIDATES)
    if font is None:
        raise ExchangeError("font_missing", "找不到中文字体, 未写入任何文件 (请安装 fonts-wqy-zenhei 或 "
                            f"fonts-noto-cjk, 或用 {FONT_ENV} 指定字体文件)",
                            "no Chinese font found; nothing was written (install fonts-wqy-zenhei or "
                            f"fonts-noto-cjk, or name a font file in {FONT_ENV})")
    _registered["cjk"] = font
    return font


def mono_register() -> str:
    """A monospaced font for the digest; the CJK font when none is installed."""
    if "mono" not in _registered:
        given = bool(os.environ.get(FONT_ENV, "").strip())
        mono = None if given else _font_file(name=MONO_NAME, candidates=MONO_CANDIDATES)
        _registered["mono"] = mono or font_register()
    return _registered["mono"]


def pdf_render(*, title: str, lines: list[tuple[str, str]], footer: list[str], stamp_box: bool,
               digest: str | None = None, signatures: list[str] | None = None, bank_box: bool = False,
               qr: str = "") -> bytes:
    """A one-page (or more) A4 form: a title, label/value lines, the digest in monospaced groups,
    notes, signature lines, the company's stamp box and a box for the bank."""
    from io import BytesIO

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    font = font_register()
    mono = mono_register() if digest else font
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
        # A long name gets a smaller font rather than running off the page.
        size = 10 if pdf.stringWidth(value, font, 10) < width - left - 230 else 8
        pdf.setFont(font, size)
        pdf.drawString(left + 170, y, value)
        y -= 20
    if digest:
        pdf.setFont(font, 10)
        pdf.drawString(left, y, "文件摘要 SHA-256")
        for line in digest_lines(digest):
            pdf.setFont(mono, 11)
            pdf.drawString(left + 170, y, line)
            y -= 16
        y -= 4
    y -= 10
    pdf.setFont(font, 9)
    for note in footer:
        if y < 60:  # a return list may name thousands of failed rows: continue on a new page
            pdf.showPage()
            pdf.setFont(font, 9)
            y = height - 60
        pdf.drawString(left, y, note)
        y -= 14
    if stamp_box or bank_box or signatures:
        if y < 220:
            pdf.showPage()
            y = height - 60
        y -= 10
        pdf.setFont(font, 10)
        for i, line in enumerate(signatures or []):
            pdf.drawString(left, y - 24 - i * 34, line)
        # With a QR the stamp box is narrower (still wider than a 4.2 cm seal) and the QR sits
        # between the signatures and the stamp, so the form stays on one page.
        box_w, box_h = (150.0 if qr else 200.0), 130.0
        if stamp_box:
            x = width - 50 - box_w
            pdf.rect(x, y - box_h, box_w, box_h)
            pdf.drawString(x + 8, y - 16, "加盖公章 Company stamp")
        if qr:
            _qr_draw(pdf, text=qr, x=width - 50 - box_w - 12 - QR_SIZE, top=y, font=font, caption_x=left,
                     caption_top=y - 24 - 2 * 34)
        if bank_box:
            by = y - box_h - 20
            pdf.rect(left, by - box_h, width - 100, box_h)
            pdf.drawString(left + 8, by - 16, "银行受理 For the bank")
            pdf.setFont(font, 9)
            pdf.drawString(left + 8, by - box_h + 12,
                           "受理人 Clerk: __________   日期 Date: __________   业务章 Bank stamp:")
        if not signatures and stamp_box:
            pdf.drawString(left, y - box_h + 10, "经办人签字 Agent signature: ______________")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


QR_SIZE = 130.0  # points: 4.6 cm, modules about 0.5 mm, for the counter's 2-D scanner


def _qr_draw(pdf, *, text: str, x: float, top: float, font: str, caption_x: float,  # noqa: ANN001
             caption_top: float) -> None:
    """The checklist's QR (error correction M) at (x, top), its caption under the signatures."""
    from reportlab.graphics.barcode.qr import QrCodeWidget

    # The widget's encoder, its modules drawn as filled squares straight on the canvas: renderPDF
    # would also set (and list, unembedded) a Helvetica the page never uses.
    qr = QrCodeWidget(text, barLevel="M").qr
    qr.make()
    count = qr.getModuleCount()
    box = QR_SIZE / (count + 8)  # a quiet zone of four modules on each side
    pdf.setFillGray(0)
    # One rectangle per horizontal run of dark modules, not one per module: the same picture with
    # about half the rectangles (a 100k-row checklist's QR has ~3,900 dark modules, and reportlab
    # formats every coordinate in Python), and no hairline seams between neighbours.
    for r, row in enumerate(qr.modules):
        c, count_row = 0, len(row)
        while c < count_row:
            if not row[c]:
                c += 1
                continue
            start = c
            while c < count_row and row[c]:
                c += 1
            pdf.rect(x + (start + 4) * box, top - (r + 5) * box, (c - start) * box, box, stroke=0, fill=1)
    pdf.setFont(font, 8)
    for i, caption in enumerate(("核对二维码: 在自助平台预校验结果页扫描,", "或输入上面的核对码。",
                                 "QR: scan it at the kiosk's result,", "or type the check code above.")):
        pdf.drawString(caption_x, caption_top - i * 11, caption)


def checklist_pdf(*, checklist: Checklist) -> bytes:
    return pdf_render(title="代理业务核对清单", lines=checklist_lines(checklist=checklist), footer=NOTES,
                      stamp_box=True, digest=checklist.digest, signatures=SIGNATURES, bank_box=True,
                      qr=checklist.qr_text)
