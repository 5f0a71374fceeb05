"""Status changes of invoices, posted to the Institute's e-License / e-Surveillance systems.
The body is written by `bot.ledger.notices.status_change` when the change is queued.

Queued in the same transaction as the change (the outbox's `notices` table, channel "upstream")
and delivered by the same deliverer as LINE pushes. Signed like the bank endpoint, with
UPSTREAM_API_TOKEN as the key: `X-TISI-Timestamp` (Unix seconds) and `X-TISI-Signature`
(lowercase hex HMAC-SHA256 of timestamp + "." + raw body); `X-Idempotency-Key` is the same on
every attempt so the receiver can drop a repeat.
"""
from __future__ import annotations

import time
import urllib.error
import urllib.request

from bot.core.delivery import Outcome, parse_retry_after
from bot.core.signing import bank_signature

TIMEOUT = 10.0


class UpstreamClient:
    def __init__(self, url: str, token: str, timeout: float = TIMEOUT):
        self.url, self.token, self.timeout = url, token, timeout

    def post(self, body: str, idempotency_key: str) -> Outcome:
        raw = body.encode()
        ts = str(int(time.time()))
        request = urllib.request.Request(self.url, data=raw, method="POST", headers={
            "Content-Type": "application/json", "X-TISI-Timestamp": ts,
            "X-TISI-Signature": bank_signature(self.token, ts, raw), "X-Idempotency-Key": idempotency_key,
        })
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Outcome.ok(response.status)
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode("utf-8", "replace")
            return Outcome.from_status(exc.code, detail, parse_retry_after(exc.headers.get("Retry-After")))
        except (urllib.error.URLError, OSError) as exc:  # refused, reset, timed out
            return Outcome.no_answer(exc)
