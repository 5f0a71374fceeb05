"""PNG images of Thai QR payloads (segno). The same payload always gives the same bytes."""
from __future__ import annotations

import hashlib
import io
from functools import lru_cache

import segno

# Quiet zone of 4 modules and 10 px per module: about 450 px for a bill payment, a few KB,
# which phone cameras and bank apps read at a glance (LINE's preview limit is 1 MB).
SCALE = 10
BORDER = 4


@lru_cache(maxsize=8192)
def qr_png(payload: str) -> bytes:
    out = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(out, kind="png", scale=SCALE, border=BORDER)
    return out.getvalue()


def etag_for(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()[:32]
