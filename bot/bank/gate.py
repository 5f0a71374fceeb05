"""The bank endpoint's door, in front of Flask: anyone may knock, only the bank comes in.

`POST /bank/ktb/billpayment` is authenticated here, before Flask builds a request for it: a body
over 64 KB (by Content-Length or when read), headers without a signature or with a stale
timestamp, a body that is not UTF-8 or holds NUL, and a wrong signature are answered at once
(2002 or 2001), counted, logged at most once per LOG_EVERY seconds, and leave nothing anywhere. A
flood of them costs the bank's own requests as little as a refusal can (BENCHMARKS.md). What
passes carries its raw body in the environ (`RAW`) for the route, which handles it as the bank's.
"""
from __future__ import annotations

import io
import logging
import threading
import time
from typing import Callable, Iterable

from bot import metrics
from bot.bank import protocol as p

log = logging.getLogger(__name__)

PATH = "/bank/ktb/billpayment"
RAW = "tisi.bank.raw"  # the authenticated body, as read
LOG_EVERY = 10.0


class BankGate:
    def __init__(self, app: Callable, secret: str, new_id: Callable[[], str]):
        self.app, self.secret, self.new_id = app, secret, new_id
        self._lock = threading.Lock()
        self._last = -LOG_EVERY
        self._quiet = 0

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        try:
            raw = self._authenticate(environ)
        except p.Refused as refused:
            return self._refuse(refused, environ, start_response)
        environ[RAW] = raw
        environ["wsgi.input"] = io.BytesIO(raw)  # read once here; the route takes RAW
        return self.app(environ, start_response)

    def _authenticate(self, environ: dict) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise p.Refused(p.BAD_REQUEST, "Content-Length is not a number") from None
        if length > p.MAX_BODY:  # refused before a byte of it is read
            raise p.Refused(p.BAD_REQUEST, "body too large")
        timestamp, signature = environ.get("HTTP_X_BANK_TIMESTAMP"), environ.get("HTTP_X_BANK_SIGNATURE")
        p.check_headers(timestamp, signature, now=time.time())  # nor read without them
        raw = environ["wsgi.input"].read(min(length, p.MAX_BODY + 1)) if length else b""
        p.check_before_authentication(raw)
        p.authenticate(self.secret, timestamp, signature, raw, now=time.time())
        return raw

    def _refuse(self, refused: p.Refused, environ: dict, start_response: Callable) -> Iterable[bytes]:
        metrics.BANK_UNAUTHENTICATED.labels(refused.code, refused.detail.split(":")[0][:40]).inc()
        metrics.BANK_COMMANDS.labels("json", "unknown", refused.code).inc()
        self._log(refused, environ.get("REMOTE_ADDR"))
        status, body = p.answer(refused.code, self.new_id(), refused.detail)
        reason = {400: "BAD REQUEST", 401: "UNAUTHORIZED"}.get(status, "ERROR")
        start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                              ("X-Content-Type-Options", "nosniff"),
                                              ("Referrer-Policy", "no-referrer")])
        return [body]

    def _log(self, refused: p.Refused, address: str | None) -> None:
        """One line now, then at most one per LOG_EVERY seconds, with how many came meanwhile."""
        with self._lock:
            now = time.monotonic()
            if now - self._last < LOG_EVERY:
                self._quiet += 1
                return
            quiet, self._quiet, self._last = self._quiet, 0, now
        log.info("bank request refused before authentication: %s %s (from %s)%s", refused.code, refused.detail,
                 address, f"; {quiet} more refused in the last {LOG_EVERY:.0f} s" if quiet else "")


