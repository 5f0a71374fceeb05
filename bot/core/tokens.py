"""Opaque signed tokens for QR images and tracking pages.

A token is `<random public id>.<HMAC tag>`: the id is random (it reveals nothing about the
invoice), and the tag, keyed with SECRET_KEY and bound to a purpose, makes tokens impossible
to guess or forge; a tampered token is refused before any database lookup.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

_TOKEN_RE = re.compile(r"^([A-Za-z0-9_-]{16,32})\.([A-Za-z0-9_-]{22})\Z")  # a receipt's key is 18-32


def new_public_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(12)).decode()  # 12 bytes: 16 characters, no padding


def _tag(secret: str, purpose: str, public_id: str) -> str:
    mac = hmac.new(secret.encode(), f"{purpose}:{public_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:16]).decode().rstrip("=")


def make_token(secret: str, purpose: str, public_id: str) -> str:
    return f"{public_id}.{_tag(secret, purpose, public_id)}"


def read_token(secret: str, purpose: str, token: str) -> str | None:
    """The public id inside a valid token, else None."""
    m = _TOKEN_RE.match(token) if isinstance(token, str) else None
    if not m:
        return None
    public_id, tag = m.groups()
    return public_id if hmac.compare_digest(tag, _tag(secret, purpose, public_id)) else None
