"""The codes in a photo: QR codes and Code 128 barcodes anywhere in an image (or in a PDF's
first pages), found with zxing-cpp (it keeps the CRs of the bill-payment barcode). Guarded:
content over 20 MB, an image over 50 megapixels, a decompression bomb, a corrupt or unsupported
file is refused with a reason and nothing is kept. The image is never stored or logged."""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import zxingcpp
from PIL import Image, ImageOps

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000
PDF_PAGES = 3  # a pay-in slip or an e-slip is one page; a longer PDF is not a slip
PDF_SCALE = 200 / 72  # render PDF pages at 200 dpi: a slip's Code 128 modules stay ≥ 2 px
WORK_EDGE = 2400  # a larger image is also read shrunk to this (a phone photo of 4000 px and more)
_FORMATS = [zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128]


class Refused(ValueError):
    """The content was not read: the reason (a short code) says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # too_large, too_many_pixels, bomb, corrupt, unsupported


@dataclass
class Reading:
    texts: list[str] = field(default_factory=list)  # every distinct code text, in the order found
    pages: int = 1


def read_codes(data: bytes) -> Reading:
    """Every QR and Code 128 text in an image (JPEG, PNG, WebP, GIF, BMP, TIFF) or a PDF."""
    if len(data) > MAX_BYTES:
        raise Refused("too_large")
    if data[:5] == b"%PDF-":
        return _read_pdf(data)
    image = _open(data)
    return Reading(_codes(image))


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise Refused("too_many_pixels")
            image.load()
        except Refused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Refused("bomb") from None
        except Image.UnidentifiedImageError:
            raise Refused("unsupported") from None
        except (OSError, ValueError, SyntaxError):  # truncated or damaged: Pillow's own errors
            raise Refused("corrupt") from None
    upright = ImageOps.exif_transpose(image)  # a phone's "rotate on display" flag
    return upright.convert("L")


def _read_pdf(data: bytes) -> Reading:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        raise Refused("corrupt") from None
    try:
        pages = min(len(pdf), PDF_PAGES)
        texts: list[str] = []
        for i in range(pages):
            page = pdf[i]
            width, height = page.get_size()
            scale = min(PDF_SCALE, (MAX_PIXELS / max(1.0, width * height)) ** 0.5)
            image = page.render(scale=scale, grayscale=True).to_pil().convert("L")
            texts += [t for t in _codes(image) if t not in texts]
        return Reading(texts, pages)
    finally:
        pdf.close()


def _codes(image: Image.Image) -> list[str]:
    """Read the image as it is; a large one also shrunk (zxing's own downscaling stops early on
    big photos), and a photo of a long barcode turned a few degrees both ways."""
    found: list[str] = []

    def take(img: Image.Image) -> None:
        # (a list: zxing-cpp deprecates its `|` of formats; its type stub has not caught up)
        for result in zxingcpp.read_barcodes(img, formats=_FORMATS, try_rotate=True, try_downscale=True,  # type: ignore[arg-type]
                                             try_invert=True):
            if result.valid and result.text and result.text not in found:
                found.append(result.text)

    take(image)
    if max(image.size) > WORK_EDGE:
        shrunk = image.copy()
        shrunk.thumbnail((WORK_EDGE, WORK_EDGE))
        take(shrunk)
    if not any(t.startswith("|") for t in found):
        # zxing reads a long Code 128 only nearly level: try the photo turned a little.
        small = image.copy()
        small.thumbnail((WORK_EDGE, WORK_EDGE))
        for angle in (-8, 8, -16, 16):
            before = len(found)
            take(small.rotate(angle, expand=True, fillcolor=255))
            if len(found) > before and any(t.startswith("|") for t in found):
                break
    return found
