"""The PDF's fonts: DejaVu Sans and DejaVu Sans Mono, the Unicode TrueType fonts matplotlib ships.

Group names, pilot names and messages come in any script, so the PDF embeds a Unicode font
rather than the PDF core fonts (Latin-1 only, where two different Arabic names both printed as
``????``). DejaVu covers Latin, Greek, Cyrillic, Arabic, Hebrew and more; when uharfbuzz is
installed the PDF also shapes the text (Arabic letters joined, right-to-left runs ordered). A
character the font has no glyph for (Chinese, Japanese and Korean among them) is written as its
code point, ``U+4E2D``, so two different names never print alike; ``report.html`` shows them as
written.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

__all__ = ["MONO", "SANS", "font_files", "needs_shaping", "register_fonts", "shown_text"]

SANS = "DejaVuSans"
MONO = "DejaVuSansMono"
#: (family, style) -> file name in matplotlib's font folder.
_FILES = {
    (SANS, ""): "DejaVuSans.ttf",
    (SANS, "B"): "DejaVuSans-Bold.ttf",
    (SANS, "I"): "DejaVuSans-Oblique.ttf",
    (MONO, ""): "DejaVuSansMono.ttf",
}


@cache
def _font_folder() -> Path:
    """matplotlib's font folder, found without importing matplotlib (half a second).

    The same folder ``matplotlib.get_data_path()`` names: ``mpl-data`` beside its package.
    """
    from importlib.util import find_spec

    spec = find_spec("matplotlib")
    if spec is None or spec.origin is None:  # pragma: no cover - matplotlib is a dependency
        raise ModuleNotFoundError("matplotlib ships the PDF's fonts; install it")
    return Path(spec.origin).with_name("mpl-data") / "fonts" / "ttf"


def font_files() -> dict[tuple[str, str], Path]:
    """The TrueType file of each (family, style) the PDF uses."""
    folder = _font_folder()
    return {key: folder / name for key, name in _FILES.items()}


@cache
def _covered(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def shown_text(text: str, family: str = SANS) -> str:
    """``text`` with every character the font cannot draw written as its code point."""
    covered = _covered(font_files()[(family, "")])
    return "".join(c if ord(c) in covered or c in "\n\t" else f"U+{ord(c):04X}" for c in text)


def needs_shaping(text: str) -> bool:
    """Whether ``text`` holds a script drawn wrongly without shaping: right-to-left (Arabic,
    Hebrew) or with joining or reordered marks (the Indic and South-East Asian scripts)."""
    return any(
        unicodedata.bidirectional(c) in ("R", "AL") or 0x0900 <= ord(c) <= 0x109F
        for c in set(text)
        if ord(c) >= 0x0590
    )


def register_fonts(pdf: FPDF, *, shaping: bool = True) -> None:
    """Embed the fonts in ``pdf``; with `shaping`, shape text where uharfbuzz is installed.

    Shaping measures every string through HarfBuzz, which makes a table-heavy document several
    times slower to lay out; text in Latin, Greek or Cyrillic reads the same without it.
    """
    for (family, style), path in font_files().items():
        pdf.add_font(family, style=style, fname=str(path))
    if not shaping:
        return
    try:
        import uharfbuzz  # noqa: F401
    except ImportError:
        return  # still Unicode, only unshaped: Arabic letters in their isolated forms
    pdf.set_text_shaping(True)
