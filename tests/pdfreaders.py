"""The text of a PDF as four common readers copy it out: poppler (`pdftotext`, Evince, Okular),
pdfium (Chrome's PDF viewer), pdfminer (pdfplumber) and pypdf."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile

import pypdf
import pypdfium2 as pdfium
import pytest
from pdfminer.high_level import extract_text as pdfminer_text

READERS = ("poppler", "pdfium", "pdfminer", "pypdf")


def poppler(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftotext (poppler-utils) is missing; .ci/run installs it")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        return subprocess.run(["pdftotext", "-enc", "UTF-8", f.name, "-"], capture_output=True, text=True,
                              check=True).stdout


def pdfium_text(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    return "\n".join(page.get_textpage().get_text_range() for page in doc)


def pypdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def texts(pdf: bytes) -> dict[str, str]:
    return {"poppler": poppler(pdf), "pdfium": pdfium_text(pdf), "pdfminer": pdfminer_text(io.BytesIO(pdf)),
            "pypdf": pypdf_text(pdf)}


def missing(pdf: bytes, wanted: list[str]) -> dict[str, list[str]]:
    """For each reader, the strings it does not copy out as drawn (lines joined: a reader may
    break a long line where the page does)."""
    out = {}
    for reader, text in texts(pdf).items():
        flat = re.sub(r"\s+", " ", text)
        lost = [w for w in wanted if w not in text and w not in flat]
        if lost:
            out[reader] = lost
    return out


def glyphs_only(pdf: bytes) -> bytes:
    """The PDF without its /ActualText spans, so that pdfium reports where each glyph is drawn
    (with them it reports the span's text spread over the span)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    writer = pypdf.PdfWriter(clone_from=reader)
    for page in writer.pages:
        content = page.get_contents()
        data = re.sub(rb"/Span <</ActualText <[0-9A-F]*>>> BDC ", b"", content.get_data())
        content.set_data(data.replace(b"] TJ EMC", b"] TJ"))
        page.replace_contents(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
