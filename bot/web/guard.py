"""What every web answer carries for people's safety: security headers and rate limits.

Pages hold a signed token in their URL, so no page may leak it (Referrer-Policy), be framed
(clickjacking the slip link), or run script that is not ours (CSP: styles and scripts are files
under /assets, never inline). Rate limits keep token guessing and scraping slow; they are never
applied to LINE's or the bank's calls, nor to /qr (LINE fetches every image from a few addresses).
"""
from __future__ import annotations

import hashlib
import hmac

from flask import Flask, Response, abort, request
from flask_limiter import Limiter

from bot.config import Settings
from bot.core.clientip import client_address

PAGE_LIMIT = "60 per minute"  # per client, on /track and /slip
API_LIMIT = "600 per minute"  # per bearer token, on /api/v1: a bulk upsert is one request

CSP = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
))
ALWAYS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
HSTS = "max-age=31536000; includeSubDomains"  # a year: browsers never try http again


def install_headers(app: Flask, *, https: bool = False) -> None:
    """`https`: the public origin is https (behind a proxy the request itself may look like http)."""
    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in ALWAYS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Frame-Options"] = "DENY"  # frame-ancestors for older browsers
            if https or request.is_secure:
                response.headers["Strict-Transport-Security"] = HSTS
        return response

    @app.before_request
    def _no_nul():
        # NUL is in no name, number or word we take, and no database column keeps it: an address
        # or form that holds one is refused here, before any view reads it (never a 500).
        if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
            abort(400, "the request holds a NUL character")
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") and any(
                "\x00" in k or "\x00" in v for k, v in request.form.items(multi=True)):
            abort(400, "the request holds a NUL character")
        return None


def make_limiter(app: Flask, settings: Settings) -> Limiter:
    """Limits apply only to routes decorated with `limiter.limit` (no default limits).

    A rate-limit store that is down must not take the pages down with it: errors are swallowed
    and counted in memory meanwhile."""
    limiter = Limiter(
        key_func=lambda: client_key(settings),
        app=app,
        storage_uri=settings.ratelimit_storage_uri,
        strategy="moving-window",  # 61 requests within any 60 s get the 429, not only within a clock minute
        headers_enabled=True,  # Retry-After and X-RateLimit-* on every limited answer
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        key_prefix="tisi-pay",
    )

    def _retry_after_only_when_refused(response: Response) -> Response:
        # Flask-Limiter sends Retry-After with every limited answer; on a 200 it tells a client
        # (or a proxy) to come back later for no reason.
        if response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        return response

    # Flask runs after-request functions last-registered first: at the front, this runs after
    # the limiter has added its headers.
    app.after_request_funcs.setdefault(None, []).insert(0, _retry_after_only_when_refused)
    return limiter


def client_key(settings: Settings) -> str:
    address = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), settings.trusted_proxies)
    return f"ip:{address or 'unknown'}"


def token_key(settings: Settings) -> str:
    """The API is limited per bearer token (hashed: the store must not hold it). A wrong or
    missing token is counted by address, so guessing with a new token each time gains nothing."""
    auth = request.headers.get("Authorization", "")
    token = auth[7:].strip() if auth.startswith("Bearer ") else ""
    if token and settings.upstream_api_token and hmac.compare_digest(token.encode(), settings.upstream_api_token.encode()):
        return "token:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return client_key(settings)
