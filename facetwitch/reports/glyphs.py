"""What the PDF can draw: the characters of its font, left to right, one glyph each.

The PDF is set with matplotlib in DejaVu Sans (the font matplotlib ships; nothing else is
installed with it). DejaVu has Latin, Greek, Cyrillic, Hebrew and Arabic letters and many
symbols, but no Chinese, Japanese or Korean, no Indic scripts; and matplotlib lays text out
glyph by glyph, left to right, without the shaping and reordering that Arabic and Hebrew need
(it would print Arabic letters unjoined and in reverse order). Where a patient's words cannot be
drawn as written, the PDF says so in plain words and points to report.html, which shows them
as written (a browser has the fonts and the layout), rather than print empty boxes or a
garbled line; a character-for-character note would be worse than useless to a clinician.

Embedding a font with those glyphs was considered: no well-kept font package for CJK is on
PyPI (the Noto CJK repackagings there are unofficial and unmaintained, 16-20 MB a weight), and
a font would not fix right-to-left scripts, which matplotlib cannot lay out.
"""

from __future__ import annotations

import functools
import unicodedata

#: Replaces a run of characters the PDF cannot draw, in names and in facetwitch's own lines.
ELIDED = "…"


@functools.cache
def _font_chars() -> frozenset[int]:
    """Code points of the report font (DejaVu Sans, shipped with matplotlib)."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from .plots import RC

    path = font_manager.findfont(font_manager.FontProperties(family=RC["font.family"]))
    return frozenset(FT2Font(path).get_charmap())


def _rtl(ch: str) -> bool:
    return unicodedata.bidirectional(ch) in ("R", "AL")


def _drawable(ch: str) -> bool:
    """Return whether the PDF draws one character as it should look.

    One character the PDF draws as it should look (a space, or a left-to-right glyph the
    font has).
    """
    return ch.isspace() or (ord(ch) in _font_chars() and not _rtl(ch))


def _invisible(ch: str) -> bool:
    """Return whether ``ch`` is a format character the font lacks.

    A format character the font lacks (zero-width joiner, bidi isolate): nothing to draw.
    """
    return unicodedata.category(ch) == "Cf" and ord(ch) not in _font_chars()


def pdf_line(text: str) -> str:
    """Return ``text`` as the PDF can draw it.

    ``text`` as the PDF can draw it: composed (NFC, so that "e" + combining accent is one
    glyph), format characters the font lacks dropped, and each run of characters it cannot
    draw (Chinese, right-to-left letters, control characters) as one :data:`ELIDED`.
    """
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", str(text)):
        if ch == " " or (_drawable(ch) and unicodedata.category(ch) != "Cc"):
            out.append(ch)
        elif _invisible(ch):
            continue
        elif not out or out[-1] != ELIDED:
            out.append(ELIDED)
    return "".join(out)


def scripts_named(text: str) -> str:
    """Name the scripts of ``text``'s letters that the PDF cannot draw.

    The scripts of ``text``'s letters that the PDF cannot draw, in words: ``Chinese or
    Japanese and Arabic``.
    """
    words: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        if _drawable(ch) or _invisible(ch) or not unicodedata.category(ch).startswith("L"):
            continue
        first = unicodedata.name(ch, "OTHER").split()[0]
        word = {"CJK": "Chinese or Japanese", "HIRAGANA": "Japanese", "KATAKANA": "Japanese",
                "HANGUL": "Korean"}.get(first, first.title())  # fmt: skip
        if word not in words:
            words.append(word)
    return " and ".join(words[:3]) if words else "characters"


def pdf_quote(text: str) -> tuple[str, str]:
    """Return the patient's words for the PDF with a note.

    The patient's words for the PDF: ``(words to draw, note)``.

    Every character drawable: the words, no note. Only symbols, emoji or accents the font
    lacks: the words without them, and a note that report.html has them. Letters it cannot draw
    (Chinese, Arabic, Hebrew, Devanagari, ...): no words, and a note that says in which
    script the description is written and where to read it.
    """
    text = unicodedata.normalize("NFC", str(text))
    missing = [ch for ch in text if not _drawable(ch) and not _invisible(ch)]
    if not missing:
        return "".join(ch for ch in text if not _invisible(ch)), ""
    letters = [ch for ch in missing if unicodedata.category(ch).startswith(("L", "N"))]
    if not letters:
        kept = "".join(ch for ch in text if _drawable(ch))
        return " ".join(kept.split()), (
            "Symbols, emoji or accents this PDF cannot show are left out; report.html shows "
            "the description as written."
        )
    return "", (
        f"The description is written in {scripts_named(text)} script, which this PDF cannot "
        "show: report.html (and report.json) has it as written."
    )


def pdf_inline_quote(text: str) -> str:
    """Quote the patient's words inside a sentence of the PDF.

    The patient's words quoted inside a sentence of the PDF (:func:`pdf_quote`): ``“...”``,
    or where they are when the PDF cannot show them.
    """
    words, note = pdf_quote(text)
    if words:
        return f"\u201c{words}\u201d"
    return f"written in {scripts_named(text)} script, shown in report.html"
