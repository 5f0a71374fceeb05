"""Staff credentials: argon2id password hashes, one-time passwords, TOTP codes (RFC 6238). Pure."""
from __future__ import annotations

import secrets
import time

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ISSUER = "TISI Pay"
MIN_PASSWORD_LENGTH = 12
TOTP_WINDOW = 1  # a code of the step before or after is accepted too: phones' clocks drift
_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" parameters
_ALPHABET = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"  # nothing read two ways (l/1, O/0)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash of nothing anyone knows: checked against for an unknown name, so that a wrong name
# takes as long as a wrong password and does not reveal which names exist.
DECOY_HASH = hash_password(secrets.token_urlsafe(16))


def one_time_password(length: int = 16) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def password_problem(password: str, name: str) -> str | None:
    """Why a new password is refused (a sentence for the form, to translate), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if name.lower() in password.lower():
        return "has_name"
    return None


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)


def totp_now(secret: str, at: float | None = None) -> str:
    return pyotp.TOTP(secret).at(int(at if at is not None else time.time()))


def totp_step(code: str, secret: str, last_step: int, at: float | None = None) -> int | None:
    """The time step a code belongs to (within TOTP_WINDOW of now), or None: a wrong code, or one
    of a step already used (`last_step`), so a code seen over a shoulder cannot be used again."""
    code = "".join(code.split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = int(at if at is not None else time.time())
    current = totp.timecode(now)
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if step > last_step and secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None
