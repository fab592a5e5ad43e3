"""`Document` lays text out exactly as fpdf2's own `multi_cell` does, only faster."""

from __future__ import annotations

from datetime import UTC, datetime

from fpdf import FPDF
from fpdf.enums import MethodReturnValue
from fpdf.errors import FPDFException
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.reports.documents.fonts import SANS, register_fonts
from sandbox.reports.documents.pdf_document import Document

_WHEN = datetime(2026, 1, 1, tzinfo=UTC)
# Latin with accents, Greek, Cyrillic, digits, punctuation and spaces; now and then also the
# characters fpdf2 treats specially (newline, soft hyphen, NBSP), which Document leaves to it.
_PLAIN = list("aeiouxyzMW0123456789.,;-/()[] éñßΩλжЖ   ")
_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(_PLAIN), max_size=400),
    st.text(alphabet=st.sampled_from([*_PLAIN, "\u00a0", "\u00ad", "\n"]), max_size=60),
)
_CELL = st.fixed_dictionaries(
    {
        "text": _TEXT,
        "w": st.sampled_from([0, 8.0, 20.0, 45.5, 120.0]),
        "h": st.sampled_from([None, 3.0, 4.8, 12.0]),
        "align": st.sampled_from(["L", "R", "C", "J"]),
        "padding": st.sampled_from([0, 1, (0.5, 2), (1, 2, 3, 0)]),
        "new_x": st.sampled_from(["RIGHT", "LMARGIN", "LEFT"]),
        "new_y": st.sampled_from(["NEXT", "TOP", "LAST"]),
        "max_line_height": st.sampled_from([None, 2.5]),
        "size": st.sampled_from([7.5, 9.5, 14.0]),
        "style": st.sampled_from(["", "B"]),
        "y": st.sampled_from([15.0, 150.0, 270.0]),
    }
)


def _layout(document: type[FPDF], cells: list[dict]) -> tuple[bytes, list]:
    pdf = document(orientation="portrait", unit="mm", format="A4")
    register_fonts(pdf, shaping=False)
    pdf.set_creation_date(_WHEN)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    returned = []
    for cell in cells:
        pdf.set_font(SANS, style=cell["style"], size=cell["size"])
        pdf.set_y(cell["y"])
        try:
            result = pdf.multi_cell(
                cell["w"],
                cell["h"],
                text=cell["text"],
                align=cell["align"],
                padding=cell["padding"],
                new_x=cell["new_x"],
                new_y=cell["new_y"],
                max_line_height=cell["max_line_height"],
                output=MethodReturnValue.PAGE_BREAK | MethodReturnValue.HEIGHT,
            )
        except FPDFException as error:  # a column narrower than one character: the same error
            returned.append(str(error))
            break
        returned.append((result, pdf.x, pdf.y, pdf.page))
    return bytes(pdf.output()), returned


# Each example embeds the fonts twice (about 0.2 s), so the cases are few and long.
@settings(max_examples=60, deadline=None)
@given(cells=st.lists(_CELL, min_size=1, max_size=10))
def test_the_same_bytes_positions_and_results_as_fpdf(cells: list[dict]) -> None:
    assert _layout(Document, cells) == _layout(FPDF, cells)


def test_a_table_renders_to_the_same_bytes() -> None:
    def table(document: type[FPDF]) -> bytes:
        pdf = document()
        register_fonts(pdf, shaping=False)
        pdf.set_creation_date(_WHEN)
        pdf.add_page()
        pdf.set_font(SANS, size=8.5)
        with pdf.table(col_widths=(45, 15, 60, 60), line_height=4.1, padding=1) as rows:
            rows.row(["Group", "Rows", "Selection rate", "A long note"])
            for n in range(120):
                note = "a note that runs over more than one line of its column " * (n % 3)
                rows.row([f"group {n}", f"{n * 37:,}", f"0.{n:03d} [0.1, 0.9]", note])
        return bytes(pdf.output())

    assert table(Document) == table(FPDF)
