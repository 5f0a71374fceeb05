"""Thai that copies out of our PDFs as it was written, in every common reader.

HarfBuzz shapes Thai well, but a PDF keeps glyphs, not text, and readers rebuild the text from
each glyph's Unicode mapping and position. fpdf2's own shaped output confuses them: a cluster's
text goes to its first glyph and the marks get none, SARA AM (ำ) is drawn as two glyphs of which
one maps to nothing, and every offset mark is placed with its own text matrix. Poppler and
pdfium then reorder the marks ("ได้รบ ั", "หางห ้ นสุ้ วน") and pdfminer starts a new line at
two marks in a row (its rule needs a glyph with a width).

So each fragment is drawn here as one `TJ` in logical order:
- every glyph maps to its own character(s): a cluster's characters are shared out over its
  glyphs in order, and the nikhahit + sara aa pair HarfBuzz makes of ำ is drawn as the font's
  own precomposed ำ, so no glyph maps to nothing (PDF/A-3U);
- marks are drawn from a copy of the font in which they advance `MARK_ADVANCE` units, taken back
  with a `TJ` adjustment: the page looks the same, the font program and the PDF widths agree
  (PDF/A), and pdfminer sees marks with a width;
- the fragment is a marked-content span whose /ActualText is the text itself, which poppler and
  pdfium read instead of the glyphs.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import uharfbuzz as hb
from fontTools.ttLib import TTFont
from fpdf.fonts import TTFFont
from fpdf.line_break import Fragment

MARK_ADVANCE = 120  # font units (of 1,000): enough for pdfminer to join marks to their line
SARA_AM, NIKHAHIT, SARA_AA = "\u0e33", "\u0e4d", "\u0e32"
RISE_MIN = 60  # a vertical offset smaller than this (6 % of the em) is left out: Sarabun lowers
# a tone mark by 32 units over a narrow upper vowel, invisible at print sizes, and a change of
# baseline would split the word in a reader


@cache
def copyable_font(original: Path) -> Path:
    """A copy of the font whose zero-advance glyphs advance `MARK_ADVANCE`, written once per
    process into the temporary directory (fpdf2 reads fonts from files)."""
    data = original.read_bytes()
    folder = Path(tempfile.gettempdir()) / "tisi-pay-fonts"
    target = folder / f"{original.stem}-{hashlib.sha256(data).hexdigest()[:16]}-m{MARK_ADVANCE}.ttf"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    font = TTFont(original)
    metrics = font["hmtx"].metrics
    for name, (advance, lsb) in list(metrics.items()):
        if advance == 0 and name != ".notdef":
            metrics[name] = (MARK_ADVANCE, lsb)
    font["hhea"].advanceWidthMax = max(font["hhea"].advanceWidthMax, MARK_ADVANCE)
    partial = folder / f".{target.name}.{os.getpid()}"
    font.save(partial)
    os.replace(partial, target)  # several processes may write it: the last rename wins, same bytes
    return target


_WIDTHS: dict[tuple[str, int], int] = {}
_FORMS: dict[tuple[str, str], frozenset[int]] = {}


@dataclass(frozen=True)
class Placed:
    """One glyph as drawn: its id, the text it stands for, and HarfBuzz's placement (font units)."""

    gid: int
    text: str
    x_advance: int
    x_offset: int
    y_offset: int


class ThaiFont(TTFFont):
    """fpdf2's TrueType font, shaped from the original file and drawn from `copyable_font`."""

    __slots__ = ()

    @classmethod
    def adopt(cls, font: TTFFont, original: Path) -> None:
        font.__class__ = cls
        font._hbfont = hb.Font(hb.Face(hb.Blob.from_file_path(str(original))))

    def placed(self, text: str, font_size_pt: float, params: dict[str, Any] | None) -> list[Placed]:
        if not text:
            return []
        infos, positions = self.perform_harfbuzz_shaping(text, font_size_pt, params)
        glyphs = [(info.codepoint, info.cluster, pos) for info, pos in zip(infos, positions)]
        starts = sorted({cluster for _, cluster, _ in glyphs})
        ends = dict(zip(starts, starts[1:] + [len(text)]))
        out: list[Placed] = []
        i = 0
        while i < len(glyphs):
            cluster = glyphs[i][1]
            j = i
            while j < len(glyphs) and glyphs[j][1] == cluster:
                j += 1
            out.extend(self._shared_out(text[cluster:ends[cluster]], glyphs[i:j]))
            i = j
        return out

    def _shared_out(self, chars: str, glyphs: list[tuple[int, int, Any]]) -> list[Placed]:
        """A cluster's characters over its glyphs, in order; the last glyph takes what is left."""
        if SARA_AM in chars:
            glyphs = self._precomposed_am(glyphs)
        out = []
        for k, (gid, _, pos) in enumerate(glyphs):
            last = k == len(glyphs) - 1
            text = chars[k:] if last else chars[k:k + 1]
            out.append(Placed(gid, text or self._own_text(gid), pos.x_advance, pos.x_offset, pos.y_offset))
        return out

    def _precomposed_am(self, glyphs: list[tuple[int, int, Any]]) -> list[tuple[int, int, Any]]:
        """HarfBuzz decomposes ำ into nikhahit and sara aa and moves the nikhahit before the marks
        of its consonant (with a tone mark it becomes a ligature of both, a glyph of its own). A
        bare nikhahit and the sara aa after it are drawn as the font's precomposed ำ instead,
        where sara aa was: one glyph for one character."""
        aa, am = self.glyph_ids.get(ord(SARA_AA)), self.glyph_ids.get(ord(SARA_AM))
        if am is None:
            return glyphs
        nikhahit = self._forms_of(NIKHAHIT)
        out: list[tuple[int, int, Any] | None] = list(glyphs)
        for k, (gid, cluster, pos) in enumerate(glyphs):
            if gid == aa:
                bare = [i for i in range(k) if (g := out[i]) is not None and g[0] in nikhahit]
                if bare:
                    out[bare[-1]] = None
                    out[k] = (am, cluster, pos)
        return [g for g in out if g is not None]

    def _forms_of(self, char: str) -> frozenset[int]:
        """The character's glyph and its variants ("uni0E4D", "uni0E4D.narrow")."""
        key = (self.fontkey, char)
        forms = _FORMS.get(key)
        if forms is None:
            gid = self.glyph_ids.get(ord(char))
            name = self.ttfont.getGlyphName(gid) if gid is not None else None
            forms = _FORMS[key] = frozenset(
                self.ttfont.getGlyphID(n) for n in self.ttfont.getGlyphOrder()
                if name is not None and (n == name or n.startswith(name + ".")))
        return forms

    def _own_text(self, gid: int) -> str:
        """A glyph left without characters (not seen with Sarabun): its cmap character."""
        for code, glyph in self.glyph_ids.items():
            if glyph == gid:
                return chr(code)
        return "\ufffd"

    def pdf_width(self, gid: int) -> int:
        key = (self.fontkey, gid)  # every document loads the same two files: widths do not change
        width = _WIDTHS.get(key)
        if width is None:
            name = self.ttfont.getGlyphName(gid)
            width = _WIDTHS[key] = round(self.scale * self.ttfont["hmtx"].metrics[name][0])
        return width


def _actual_text(text: str) -> str:
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def render_fragment(frag: Fragment, word_spacing: float) -> str:
    """The fragment as `/Span <</ActualText …>> BDC [glyphs and adjustments] TJ EMC`, drawn from
    the current text position (fpdf2 has placed it)."""
    font = frag.font
    assert isinstance(font, ThaiFont)
    stretch = frag.font_stretching / 100
    # TJ numbers are thousandths of the font size; word spacing comes in user units
    space_units = word_spacing * frag.k * 1000 / (frag.font_size_pt * stretch) if word_spacing else 0.0
    size = frag.font_size_pt
    parts: list[str] = []
    run: list[str] = []
    pending = 0.0  # a TJ adjustment not yet written (positive moves left)

    def flush_number() -> None:
        nonlocal pending
        if abs(pending) > 1e-6:
            run.append(f"{pending:.3f}".rstrip("0").rstrip("."))
        pending = 0.0

    def close_run() -> None:
        flush_number()
        if run:
            parts.append("[" + " ".join(run) + "] TJ")
            run.clear()

    for g in font.placed(frag.string, size, frag.text_shaping_parameters):
        glyph = font.subset.get_glyph(glyph=g.gid, unicode=tuple(ord(c) for c in g.text),
                                      glyph_name=font.ttfont.getGlyphName(g.gid),
                                      glyph_width=font.pdf_width(g.gid))
        code = font.subset.pick_glyph(glyph)
        if code is None:
            continue
        width = font.pdf_width(g.gid)
        rise = g.y_offset * font.scale if abs(g.y_offset) >= RISE_MIN else 0
        pending -= g.x_offset * font.scale
        if rise:
            close_run()
            parts.append(f"{frag.lift + rise * size / 1000:.2f} Ts")
        flush_number()
        run.append("<" + code.to_bytes(2, "big").hex() + ">")
        pending += width + g.x_offset * font.scale - g.x_advance * font.scale
        if g.text == " " and space_units:
            pending -= space_units
        if rise:
            close_run()
            parts.append(f"{frag.lift:.2f} Ts")
    close_run()
    if not parts:
        return ""
    return f"/Span <</ActualText {_actual_text(frag.string)}>> BDC " + " ".join(parts) + " EMC"


_fpdf_shaped = Fragment.render_with_text_shaping


def _render_with_text_shaping(self: Fragment, pos_x: float, pos_y: float, h: float, word_spacing: float) -> str:
    if isinstance(self.font, ThaiFont):
        return render_fragment(self, word_spacing)
    return _fpdf_shaped(self, pos_x, pos_y, h, word_spacing)


# fpdf2 has no hook for how a shaped fragment is written; this replaces its method for our fonts
# only (pyproject pins fpdf2 below 2.9, the version this was written against).
Fragment.render_with_text_shaping = _render_with_text_shaping  # type: ignore[method-assign]
