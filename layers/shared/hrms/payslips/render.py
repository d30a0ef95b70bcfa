"""One payslip as a one-page A4 PDF, from its snapshot only (`Payslip`), with pydyf.

Why pydyf: it is a small (70 KB), dependency-free, pure-Python PDF writer (the one WeasyPrint writes
with), so the shared layer gains no native code, it imports in a few milliseconds and renders a page in
well under one. fpdf2 and reportlab both depend on Pillow, whose bundled libavif needs libstdc++ (not
in the Lambda runtime, see tests/build); fpdf2 also pulls fontTools (about 30 MB) and takes about
250 ms to import. A payslip needs text, lines and right-aligned figures, which a few content-stream
operators give.

Rules:
- Deterministic: the same snapshot gives the same bytes. No clock is read: the document's creation
  date is the run's processed time, its file identifier is derived from the run and the employee,
  and the content stream is compressed with a fixed zlib level.
- Text is set in the PDF's standard fonts (Helvetica, no font file embedded) with WinAnsiEncoding:
  characters outside Windows-1252 (e.g. Devanagari or CJK names) print as '?' after NFKC
  normalisation. Text is written as hex strings, so no character of a name can break the stream.
- Money is printed with two decimals, grouped the Indian way (12,34,567.00) for INR and in
  thousands otherwise, beside the currency code from the tenant's settings; the net pay is also
  written in words. Only the masked PAN is in the snapshot, so the full PAN cannot be printed.
- Long texts are cut to fit their column (with "..."), and a payslip with more component lines
  than one page holds continues on further pages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pydyf

PAGE_W, PAGE_H = 595, 842  # A4 in points
MARGIN = 48
LINE = 15
PRODUCER = "HRMS Serverless payslips"
# Advance widths (1/1000 em) of Helvetica's glyphs a right-aligned figure uses; others count as 556.
_HELVETICA = {",": 278, ".": 278, " ": 278, "-": 333, "I": 278, "N": 722, "R": 722}
_FONTS = {"F1": "Helvetica", "F2": "Helvetica-Bold"}


@dataclass(frozen=True)
class Line:
    name: str
    kind: str  # earning | deduction
    amount: Decimal


@dataclass(frozen=True)
class Payslip:
    """Everything a payslip prints, as snapshotted when its run was processed."""

    payroll_run_id: str
    employee_id: str
    month: dt.date
    company_name: str
    currency: str
    processed_at: dt.datetime
    employee_name: str
    employee_code: str
    department: str | None
    designation: str | None
    pan_masked: str | None
    paid_days: Decimal
    unpaid_days: Decimal
    days_in_month: int
    gross: Decimal
    deductions: Decimal
    net: Decimal
    lines: tuple[Line, ...]


def render(slip: Payslip) -> bytes:
    """The payslip's PDF."""
    pages = _layout(slip)
    pdf = pydyf.PDF()
    fonts = pydyf.Dictionary()
    for key, base in _FONTS.items():
        font = pydyf.Dictionary(
            {"Type": "/Font", "Subtype": "/Type1", "BaseFont": f"/{base}", "Encoding": "/WinAnsiEncoding"}
        )
        pdf.add_object(font)
        fonts[key] = font.reference
    for content in pages:
        stream = pydyf.Stream(content, compress=True)
        pdf.add_object(stream)
        page = pydyf.Dictionary(
            {
                "Type": "/Page",
                "Parent": pdf.pages.reference,
                "MediaBox": pydyf.Array([0, 0, PAGE_W, PAGE_H]),
                "Contents": stream.reference,
                "Resources": pydyf.Dictionary({"Font": fonts}),
            }
        )
        pdf.add_page(page)
    pdf.info["Title"] = pydyf.String(f"Payslip {slip.month:%Y-%m} {slip.employee_code}")
    pdf.info["Producer"] = pydyf.String(PRODUCER)
    pdf.info["CreationDate"] = pydyf.String(_pdf_date(slip.processed_at))
    out = io.BytesIO()
    pdf.write(out, version=b"1.7", identifier=_document_id(slip).encode("ascii"))
    return out.getvalue()


def file_name(slip: Payslip) -> str:
    return f"payslip-{slip.month:%Y-%m}-{_ascii(slip.employee_code)}.pdf"


# ---------------------------------------------------------------- layout


class _Page:
    """The content stream of one page, written top to bottom."""

    def __init__(self) -> None:
        self.ops: list[bytes] = []
        self.y: float = PAGE_H - MARGIN

    def text(self, x: float, value: str, *, size: float = 10, bold: bool = False, right: bool = False) -> None:
        encoded = _winansi(value)
        if right:
            x -= _width(value, size)
        font = "F2" if bold else "F1"
        self.ops.append(f"BT /{font} {size:g} Tf {x:.2f} {self.y:.2f} Td <{encoded.hex()}> Tj ET".encode("ascii"))

    def rule(self, *, width: float = 0.5) -> None:
        y = self.y + LINE - 11
        self.ops.append(f"{width:g} w {MARGIN} {y:.2f} m {PAGE_W - MARGIN} {y:.2f} l S".encode("ascii"))

    def down(self, lines: float = 1) -> None:
        self.y -= LINE * lines


def _layout(slip: Payslip) -> list[list[bytes]]:
    pages = [_Page()]
    page = pages[0]
    right = PAGE_W - MARGIN
    page.text(MARGIN, _fit(slip.company_name, 60), size=16, bold=True)
    page.down(1.4)
    page.text(MARGIN, f"Payslip for {slip.month:%B %Y}", size=12)
    page.text(right, f"Amounts in {slip.currency}", size=9, right=True)
    page.down(1.6)
    details = [
        ("Employee", slip.employee_name),
        ("Employee code", slip.employee_code),
        ("Department", slip.department or "-"),
        ("Designation", slip.designation or "-"),
        ("PAN", slip.pan_masked or "-"),
        ("Days in month", str(slip.days_in_month)),
        ("Paid days", _days(slip.paid_days)),
        ("Unpaid leave days", _days(slip.unpaid_days)),
    ]
    for label, value in details:
        page.text(MARGIN, label, bold=True)
        page.text(MARGIN + 120, _fit(value, 70))
        page.down()
    page.down(0.6)
    for kind, heading, total_label, total in (
        ("earning", "Earnings", "Gross earnings", slip.gross),
        ("deduction", "Deductions", "Total deductions", slip.deductions),
    ):
        page.text(MARGIN, heading, size=11, bold=True)
        page.text(right, "Amount", size=11, bold=True, right=True)
        page.down()
        page.rule()
        for line in (item for item in slip.lines if item.kind == kind):
            if page.y < MARGIN + 4 * LINE:
                page = _Page()
                pages.append(page)
                page.text(MARGIN, f"{heading} (continued)", size=11, bold=True)
                page.down()
            page.text(MARGIN, _fit(line.name, 70))
            page.text(right, money(line.amount, slip.currency), right=True)
            page.down()
        page.rule()
        page.text(MARGIN, total_label, bold=True)
        page.text(right, money(total, slip.currency), bold=True, right=True)
        page.down(1.8)
    if page.y < MARGIN + 6 * LINE:
        page = _Page()
        pages.append(page)
    page.rule(width=1)
    page.text(MARGIN, f"Net pay ({slip.currency})", size=13, bold=True)
    page.text(right, money(slip.net, slip.currency), size=13, bold=True, right=True)
    page.down(1.3)
    page.text(MARGIN, _fit(f"In words: {in_words(slip.net, slip.currency)}", 100), size=9)
    page.down(2)
    page.text(
        MARGIN,
        f"Payroll run {slip.payroll_run_id}, processed {slip.processed_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC.",
        size=8,
    )
    page.down(0.8)
    page.text(MARGIN, "A computer-generated payslip; it needs no signature.", size=8)
    return [p.ops for p in pages]


# ---------------------------------------------------------------- text and figures


def money(amount: Decimal, currency: str) -> str:
    """`12,34,567.00` for INR (lakh and crore grouping), `1,234,567.00` otherwise."""
    value = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    whole, _, cents = f"{abs(value):.2f}".partition(".")
    if currency == "INR" and len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        grouped = ",".join([head, *groups, tail]) if head else ",".join([*groups, tail])
    else:
        grouped = f"{int(whole):,}"
    return f"{sign}{grouped}.{cents}"


# fmt: off
_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
]
# fmt: on
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def in_words(amount: Decimal, currency: str) -> str:
    """`Thirty-two thousand and 50/100 INR`: lakh and crore for INR, thousand/million/billion otherwise."""
    value = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole = int(abs(value))
    cents = int((abs(value) - whole) * 100)
    scales: Sequence[tuple[int, str]] = (
        ((10**7, "crore"), (10**5, "lakh"), (1000, "thousand"))
        if currency == "INR"
        else ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
    )
    words = _words(whole, scales)
    text = f"{'minus ' if value < 0 else ''}{words} and {cents:02d}/100 {currency}"
    return text[0].upper() + text[1:]


def _words(n: int, scales: Sequence[tuple[int, str]]) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else "")
    if n < 1000:
        return f"{_ONES[n // 100]} hundred" + (f" {_words(n % 100, scales)}" if n % 100 else "")
    for size, name in scales:
        if n >= size:
            head = _words(n // size, scales)
            return f"{head} {name}" + (f" {_words(n % size, scales)}" if n % size else "")
    raise AssertionError("unreachable: the smallest scale is a thousand")


def _days(days: Decimal) -> str:
    return f"{days.normalize():f}" if days == days.to_integral_value() else f"{days:.1f}"


def _fit(text: str, limit: int) -> str:
    text = " ".join(text.split())  # no control characters or runs of blanks in a one-line field
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _winansi(text: str) -> bytes:
    """Windows-1252 bytes of `text` (NFKC first); what the standard fonts cannot show becomes '?'."""
    return unicodedata.normalize("NFKC", text).encode("cp1252", errors="replace")


def _ascii(text: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in text)[:40] or "employee"


def _width(text: str, size: float) -> float:
    return sum(_HELVETICA.get(c, 556) for c in text) * size / 1000


def _pdf_date(moment: dt.datetime) -> str:
    return f"D:{moment.astimezone(dt.UTC):%Y%m%d%H%M%S}Z"


def _document_id(slip: Payslip) -> str:
    """The first half of the PDF's /ID: the same for every rendering of this payslip."""
    return hashlib.sha256(f"payslip:{slip.payroll_run_id}:{slip.employee_id}".encode()).hexdigest()[:32]
