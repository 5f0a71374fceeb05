"""Signatures as the senders compute them: LINE (webhook) and the bank (bill payment)."""
from __future__ import annotations

import base64
import hashlib
import hmac


def line_signature(channel_secret: str, body: bytes) -> str:
    """X-Line-Signature: Base64(HMAC-SHA256(channel secret, raw body))."""
    return base64.b64encode(hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()).decode()


def bank_signature(secret: str, timestamp: str, body: bytes) -> str:
    """X-Bank-Signature: lowercase hex HMAC-SHA256(secret, timestamp + "." + raw body)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
