"""Where the project's data directories are: templates/, locale/ and migrations/ live at the top of
the source tree (and are used from there by a checkout or an editable install); a wheel ships
them inside the package, under bot/_shipped/ (setup.py copies them at build time). Pure."""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # bot/


def resource_dir(name: str) -> Path:
    shipped = _PACKAGE / "_shipped" / name
    return shipped if shipped.is_dir() else _PACKAGE.parent / name


FONT_DIR = _PACKAGE / "fonts"  # the shipped Thai font (package data, in every install)


def document_font(weight: str = "Regular") -> Path:
    """Sarabun (OFL; the government's TH Sarabun family), the font of every document we print:
    its glyphs map back to Unicode, so Thai copied out of a PDF is the Thai that was written
    (TLWG fonts split SARA AM into two glyphs, one of them unmapped: "ชำระ" copied as "ชำ:ระ")."""
    from importlib.resources import files

    return Path(str(files("fontpkg_sarabun") / "files" / f"Sarabun-{weight}.ttf"))
