"""Payslip PDFs (hrms.payslips.render): they parse with a PDF reader, print what the snapshot says (the net
pay in figures and words, the masked PAN, never more), and are the same bytes every time."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from decimal import Decimal

import pytest
from pypdf import PdfReader

from hrms.payslips.render import Line, Payslip, in_words, money, render

SLIP = Payslip(
    payroll_run_id="7d4c2f4e-1b7a-4b8e-9a51-0c1f3b8d2e11",
    employee_id="3f0a9c1e-5d2b-4c7a-8e6f-2b1d0c9e8a77",
    month=dt.date(2026, 2, 1),
    company_name="Acme (India) Pvt. Ltd.",
    currency="INR",
    processed_at=dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC),
    employee_name="Asha Rao",
    employee_code="EMP-000042",
    department="Engineering",
    designation="Engineer",
    pan_masked="XXXXX1234X",
    paid_days=Decimal("27.50"),
    unpaid_days=Decimal("0.50"),
    days_in_month=28,
    gross=Decimal("35000.00"),
    deductions=Decimal("3000.00"),
    net=Decimal("32000.00"),
    lines=(
        Line("Basic", "earning", Decimal("25000.00")),
        Line("HRA", "earning", Decimal("10000.00")),
        Line("PF", "deduction", Decimal("3000.00")),
    ),
)


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_parses_and_prints_the_snapshot() -> None:
    text = _text(render(SLIP))
    for expected in (
        "Acme (India) Pvt. Ltd.",
        "Payslip for February 2026",
        "Asha Rao",
        "EMP-000042",
        "Engineering",
        "Engineer",
        "XXXXX1234X",
        "Paid days 27.5",
        "Unpaid leave days 0.5",
        "Basic 25,000.00",
        "HRA 10,000.00",
        "PF 3,000.00",
        "Gross earnings 35,000.00",
        "Total deductions 3,000.00",
        "Net pay (INR) 32,000.00",
        "Thirty-two thousand and 00/100 INR",
    ):
        assert expected in text, expected


def test_only_the_masked_pan_is_printed() -> None:
    text = _text(render(SLIP))
    assert "XXXXX1234X" in text
    assert "ABCDE1234F" not in text and "1234" not in text.replace("XXXXX1234X", "")


def test_the_same_snapshot_gives_the_same_bytes_with_no_clock_inside() -> None:
    first = render(SLIP)
    assert render(SLIP) == first
    reader = PdfReader(io.BytesIO(first))
    assert reader.metadata is not None and reader.metadata["/CreationDate"] == "D:20260301093000Z"
    ids = reader.trailer["/ID"]
    other = PdfReader(io.BytesIO(render(replace(SLIP, net=Decimal("32000.01"))))).trailer["/ID"]
    assert ids[0] == other[0]  # the document id is the payslip's (run, employee), not the content's or the time's
    assert render(replace(SLIP, employee_id="00000000-0000-0000-0000-000000000001")) != first


def test_hostile_text_cannot_break_the_page() -> None:
    slip = replace(
        SLIP,
        employee_name="Zoë (O'Brien) \\ ) Tj ET 李雷 😀\n\x07",
        company_name="x" * 500,
        lines=tuple(Line(f"Allowance {n}", "earning", Decimal("1.00")) for n in range(120)),
    )
    reader = PdfReader(io.BytesIO(render(slip)))
    assert len(reader.pages) >= 3  # 120 lines continue on further pages
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Zoë (O'Brien) \\ ) Tj ET ?? ?" in text  # outside Windows-1252: '?'; control characters: a blank
    assert "Allowance 119" in text and "Net pay (INR)" in text


@pytest.mark.parametrize(
    ("amount", "currency", "figures", "words"),
    [
        ("12345678.50", "INR", "1,23,45,678.50",
         "One crore twenty-three lakh forty-five thousand six hundred seventy-eight and 50/100 INR"),
        ("12345678.50", "EUR", "12,345,678.50",
         "Twelve million three hundred forty-five thousand six hundred seventy-eight and 50/100 EUR"),
        ("999.00", "INR", "999.00", "Nine hundred ninety-nine and 00/100 INR"),
        ("0.05", "USD", "0.05", "Zero and 05/100 USD"),
        ("100000.00", "INR", "1,00,000.00", "One lakh and 00/100 INR"),
    ],
)  # fmt: skip
def test_money_in_figures_and_words(amount: str, currency: str, figures: str, words: str) -> None:
    assert money(Decimal(amount), currency) == figures
    assert in_words(Decimal(amount), currency) == words
