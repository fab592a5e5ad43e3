"""An FPDF document whose `multi_cell` breaks plain text into lines in linear time.

fpdf2 breaks text in `multi_cell` one character at a time and re-measures the whole line
before each character, so a paragraph costs time quadratic in its line length, and a table
cell is laid out twice (once to measure the row, once to draw it). A report's tables are
thousands of cells, which made the layout most of the PDF's time. `Document.multi_cell` keeps
a running sum of the glyph widths instead, and breaks where fpdf2's rules break (at the last
space before the edge, dropping it; inside a word too long for a line), with the same
arithmetic, then draws the lines through fpdf2's own code. When fpdf2 only measures (a table
sizing its rows, which it lays out once to throw away), the lines are not drawn at all: the
position moves as drawing would have moved it. Anything else (a line or page break
character, soft hyphens, Markdown, shaped text, borders or fill, a fallback font, character
spacing) goes to fpdf2's `multi_cell`. The bytes of the PDF are the same either way
(tests/unit/reports/test_pdf_document.py compares them on reports and on generated text).

`blank_document` is where every report's PDF starts: an empty A4 document with the fonts
embedded, which can be prepared before the report is known (`pdf_process`).
"""

from __future__ import annotations

from types import MethodType
from typing import Any, cast

from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, WrapMode, XPos, YPos
from fpdf.fonts import TTFFont
from fpdf.line_break import BREAKING_SPACE_SYMBOLS_STR, Fragment, TextLine
from fpdf.util import FloatTolerance, Padding

from sandbox.reports.documents.fonts import register_fonts

__all__ = ["Document", "blank_document", "prepare", "prepared"]

#: Keywords the fast path follows exactly; any other keyword goes to fpdf2's own path.
_FOLLOWED = frozenset(
    {"align", "new_x", "new_y", "max_line_height", "output", "padding", "link", "wrapmode"}
)
#: Keywords followed while they are off (no border, no fill, no Markdown).
_OFF = frozenset({"border", "fill", "markdown"})
#: Characters the breaker treats specially (line and page breaks, soft hyphens, NBSP).
_SPECIAL = frozenset("\n\r\f\u00ad\u00a0")
_NOT_PLAIN = object()


def blank_document(*, shaping: bool, document: type[FPDF] | None = None) -> FPDF:
    """An empty A4 document (a `Document` unless `document` names another FPDF class) with
    the report's fonts embedded; `shaping` as for `register_fonts`."""
    pdf = (document or Document)(orientation="portrait", unit="mm", format="A4")
    register_fonts(pdf, shaping=shaping)
    return pdf


#: A blank document made ahead by `prepare`, for the next render in this process.
_prepared: list[FPDF] = []


def prepare() -> None:
    """Load the fonts and make a blank document now, for this process's next report (a
    command server does, once: each command forked from it uses its own copy)."""
    from sandbox.reports.documents.fonts import shown_text

    shown_text("")  # the font's character map, for names the font cannot draw
    _prepared[:] = [blank_document(shaping=False)]


def prepared() -> FPDF | None:
    """The blank document `prepare` made, once; None if there is none (left)."""
    return _prepared.pop() if _prepared else None


class Document(FPDF):
    """FPDF with a linear-time `multi_cell` for plain text."""

    def multi_cell(
        self, w: float, h: float | None = None, text: str = "", *args: Any, **kwargs: Any
    ) -> Any:
        if args or not self._followed(kwargs) or not self._plain(text):
            return super().multi_cell(w, h, text, *args, **kwargs)
        done = self._plain_cell(w, h, text, **kwargs)
        return super().multi_cell(w, h, text, **kwargs) if done is _NOT_PLAIN else done

    @staticmethod
    def _followed(kwargs: dict[str, Any]) -> bool:
        return all(key in _FOLLOWED or (key in _OFF and not value) for key, value in kwargs.items())

    def _plain(self, text: str) -> bool:
        return (
            bool(self.page)
            and isinstance(text, str)
            and bool(text)
            and not self.text_shaping
            and _SPECIAL.isdisjoint(text)
        )

    def _plain_cell(
        self,
        w: float,
        h: float | None,
        text: str,
        *,
        align: str | Align = Align.J,
        new_x: str | XPos = XPos.RIGHT,
        new_y: str | YPos = YPos.NEXT,
        max_line_height: float | None = None,
        output: str | MethodReturnValue = MethodReturnValue.PAGE_BREAK,
        padding: Any = 0,
        link: Any = None,
        wrapmode: str | WrapMode = WrapMode.WORD,
        **_: Any,  # border, fill and markdown, all off
    ) -> Any:
        """What fpdf2's `multi_cell` does for plain text without border or fill, or
        `_NOT_PLAIN` (nothing drawn, nothing moved) when the text is not such a text."""
        align, new_x, new_y = Align.coerce(align), XPos.coerce(new_x), YPos.coerce(new_y)
        output = MethodReturnValue.coerce(output)
        if (
            align == Align.X
            or output & MethodReturnValue.LINES
            or WrapMode.coerce(wrapmode) != WrapMode.WORD
        ):
            return _NOT_PLAIN
        fragments = self._preload_font_styles(self.normalize_text(text), False)
        if len(fragments) != 1 or not _measurable(fragments[0]):
            return _NOT_PLAIN
        padding = Padding.new(padding)
        h = self.font_size if h is None else h
        width = (self.w - self.r_margin - self.x if w == 0 else w) - padding.right - padding.left
        clearance = sum(self.c_margin for side in (padding.left, padding.right) if not side)
        lines = _break_lines(fragments[0], width, width - clearance, align)
        if lines is None:
            return _NOT_PLAIN
        line_height = h if max_line_height is None or len(lines) == 1 else min(h, max_line_height)
        prev_y = self.y
        self.x += padding.left
        self.y += padding.top
        page_break, height = False, 0.0
        for number, line in enumerate(lines, start=1):
            if self._perform_page_break_if_need_be(h + padding.bottom):
                page_break = True
                self.y += padding.top
            last = number == len(lines)
            line_x = new_x if last else XPos.LEFT
            line_y = new_y if last else YPos.NEXT
            if not self._measuring() or not self._move_past(line, line_height, line_x, line_y):
                self._render_styled_text_line(
                    line,
                    h=line_height,
                    new_x=line_x,
                    new_y=line_y,
                    border=0,
                    fill=False,
                    link=link,
                    padding=Padding(0, padding.right, 0, padding.left),
                    prevent_font_change=False,
                )
            height += line_height  # summed line by line, as fpdf2 does, for the same rounding
        if height < h:
            if new_y == YPos.NEXT:
                self.y += h - height
            height = h
        if new_y == YPos.TOP and not page_break:  # after a page break, TOP is the new page's
            self.y = prev_y
        elif new_y == YPos.NEXT:
            self.y += padding.bottom
        if new_x == XPos.RIGHT:
            self.x += padding.right
        elif new_x == XPos.LEFT:
            self.x -= padding.left
        returned: tuple[Any, ...] = ()
        if output & MethodReturnValue.PAGE_BREAK:
            returned += (page_break,)
        if output & MethodReturnValue.HEIGHT:
            returned += (height + padding.top + padding.bottom,)
        return returned[0] if len(returned) == 1 else returned

    def _measuring(self) -> bool:
        """Whether fpdf2 is measuring rather than drawing (a table sizing its rows first, in
        `_disable_writing`, which discards whatever is drawn and restores the position)."""
        return not isinstance(self._out, MethodType)

    def _move_past(self, line: TextLine, h: float, new_x: XPos, new_y: YPos) -> bool:
        """Move as `_render_styled_text_line` would after drawing `line`, without building the
        drawing a measurement throws away; False (nothing done) for a move it leaves to fpdf2."""
        if (
            line.max_width is None
            or new_x not in (XPos.LEFT, XPos.RIGHT)
            or new_y not in (YPos.NEXT, YPos.TOP)
        ):
            return False
        self._perform_page_break_if_need_be(h)
        self._lasth = h or self.font_size
        if new_x == XPos.RIGHT:
            self.x += line.max_width
        if new_y == YPos.NEXT:
            self.y += h
        return True


def _measurable(fragment: Fragment) -> bool:
    """A fragment whose width is its glyphs' widths summed (an embedded, unstretched font)."""
    font = fragment.font
    return (
        isinstance(font, TTFFont)
        and not font.is_symbol
        and fragment.char_spacing == 0
        and fragment.graphics_state.font_stretching == 100
    )


def _break_lines(
    fragment: Fragment, max_width: float, room: float, align: Align
) -> list[TextLine] | None:
    """The lines fpdf2's `MultiLineBreak` makes of one plain fragment in WORD mode, or None for a
    case left to it (a character wider than the line, an empty line).

    Widths are computed as fpdf2 computes them (the glyph widths summed from the start of the
    line, times the size, over the scale factor), so every comparison comes out the same."""
    characters = fragment.characters
    size, k = fragment.font_size_pt, fragment.k
    glyphs = cast(TTFFont, fragment.font).cw  # `_measurable`
    lines: list[TextLine] = []

    def mm(units: float) -> float:  # fpdf2's order of operations, for the same rounding
        return units * size * 0.001 / k

    def line(start: int, end: int, units: float, line_align: Align) -> None:
        part = characters[start:end]
        lines.append(
            TextLine(
                [fragment.clone(characters=part, link=fragment.link)],
                text_width=mm(units),
                number_of_spaces=sum(c in BREAKING_SPACE_SYMBOLS_STR for c in part),
                align=line_align,
                height=fragment.font_size,
                max_width=max_width,
            )
        )

    start, count = 0, len(characters)
    last_align = Align.L if align == Align.J else align
    while start < count:
        units = 0.0  # the line's glyph widths so far, summed as fpdf2 sums them
        space: tuple[int, float] | None = None  # the last space: position, units before it
        position = start
        while position < count:
            character = characters[position]
            glyph = glyphs[ord(character)]
            if FloatTolerance.greater_than(mm(units) + mm(glyph), room):
                break
            if character in BREAKING_SPACE_SYMBOLS_STR:
                space = (position, units)
            units += glyph
            position += 1
        if position == count:  # the rest fits: the last line
            if not units:
                return None
            line(start, count, units, last_align)
            break
        if characters[position] in BREAKING_SPACE_SYMBOLS_STR:  # break here, drop the space
            line(start, position, units, align)
            start = position + 1
        elif space is not None:  # break at the last space, drop it
            line(start, space[0], space[1], align)
            start = space[0] + 1
        elif position > start:  # a word longer than the line: cut it
            line(start, position, units, last_align)
            start = position
        else:
            return None
        if not lines[-1].fragments[0].characters:
            return None
    return lines
