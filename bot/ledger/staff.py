"""Staff accounts of the console, signing in, and the record of what staff do.

Every account change and every staff action is a `staff_actions` row, a link of the audit chain
(linked at commit, like audit entries): who, what, to what, from which address. Sign-in needs the
password and the current TOTP code; five failures in a row lock the account for fifteen minutes.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import credentials
from bot.core.dates import utcnow
from bot.data.models import StaffAccount, StaffActionEntry
from bot.data.states import SignInOutcome, StaffAction, StaffRole

LOCK_AFTER = 5  # failures in a row
LOCK_FOR = timedelta(minutes=15)
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")  # lower case: "Somchai" and "somchai" are one person
CLI = "cli"  # the actor of account changes made with `tisi-pay staff`


class AccountError(ValueError):
    """An account command that cannot be done, said in one line."""


@dataclass(frozen=True)
class NewAccount:
    name: str
    role: StaffRole
    password: str  # one-time: the first sign-in sets a new one
    totp_secret: str

    @property
    def totp_uri(self) -> str:
        return credentials.provisioning_uri(self.totp_secret, self.name)


def record(session: Session, account: str, action: StaffAction, *, target: str = "", address: str = "",
           **detail: object) -> StaffActionEntry:
    """A staff action entry, in the caller's transaction (linked into the chain as it commits)."""
    entry = StaffActionEntry(at=utcnow(), account=account[:64], action=action, target=target[:128],
                             detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
                             address=(address or "")[:64])
    session.add(entry)
    return entry


def add_account(session: Session, name: str, role: StaffRole, *, actor: str = CLI) -> NewAccount:
    name = name.strip().lower()
    if not NAME_RE.match(name):
        raise AccountError(f"{name!r} is not a usable name: 2-64 characters of a-z, 0-9, '.', '_' and '-'")
    if session.scalar(select(StaffAccount.id).where(StaffAccount.name == name)) is not None:
        raise AccountError(f"an account named {name} exists already")
    password, secret = credentials.one_time_password(), credentials.new_totp_secret()
    session.add(StaffAccount(name=name, role=role, password_hash=credentials.hash_password(password),
                             password_temporary=True, totp_secret=secret, totp_last_step=0, failed_count=0,
                             created_at=utcnow()))
    record(session, actor, StaffAction.ACCOUNT_ADDED, target=name, role=str(role))
    return NewAccount(name, role, password, secret)


def accounts(session: Session) -> list[StaffAccount]:
    return list(session.scalars(select(StaffAccount).order_by(StaffAccount.name)))


def disable_account(session: Session, name: str, *, actor: str = CLI, address: str = "") -> StaffAccount:
    account = session.scalar(select(StaffAccount).where(StaffAccount.name == name.strip().lower()))
    if account is None:
        raise AccountError(f"there is no account named {name}")
    if account.disabled_at is None:
        account.disabled_at = utcnow()
        record(session, actor, StaffAction.ACCOUNT_DISABLED, target=account.name, address=address)
    return account


def account_by_id(session: Session, account_id: int | None) -> StaffAccount | None:
    """A signed-in session's account, if it may still use the console."""
    if account_id is None:
        return None
    account = session.get(StaffAccount, account_id)
    return account if account is not None and account.disabled_at is None else None


@dataclass(frozen=True)
class Attempt:
    outcome: SignInOutcome
    account: StaffAccount | None = None
    locked_until: datetime | None = None


def sign_in(session: Session, name: str, password: str, code: str, *, address: str = "",
            now: datetime | None = None) -> Attempt:
    """Check a sign-in, in the caller's transaction (which must commit whatever the outcome: the
    failure count and the record of the attempt are the point). The account row is locked while
    it is checked, so parallel guesses are all counted."""
    now = now or utcnow()
    name = name.strip().lower()[:64]
    query = select(StaffAccount).where(StaffAccount.name == name)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    account = session.scalar(query) if name else None
    if account is None:
        credentials.password_matches(credentials.DECOY_HASH, password)  # as long as a real check
        record(session, name or "-", StaffAction.SIGN_IN_FAILED, address=address, reason="unknown account")
        return Attempt(SignInOutcome.WRONG)
    if account.locked_until is not None and account.locked_until > now:
        record(session, name, StaffAction.SIGN_IN_FAILED, address=address, reason="locked")
        return Attempt(SignInOutcome.LOCKED, locked_until=account.locked_until)
    step = None
    right = credentials.password_matches(account.password_hash, password)
    if right:
        step = credentials.totp_step(code, account.totp_secret, account.totp_last_step, at=now.timestamp())
    if not right or step is None:
        account.failed_count += 1
        reason = "wrong password" if not right else "wrong or used code"
        record(session, name, StaffAction.SIGN_IN_FAILED, address=address, reason=reason,
               failures=account.failed_count)
        if account.failed_count >= LOCK_AFTER:
            account.failed_count, account.locked_until = 0, now + LOCK_FOR
            record(session, name, StaffAction.LOCKED, address=address, until=account.locked_until.isoformat())
            return Attempt(SignInOutcome.LOCKED, locked_until=account.locked_until)
        return Attempt(SignInOutcome.WRONG)
    account.totp_last_step = step  # this code cannot be used again
    if account.disabled_at is not None:
        record(session, name, StaffAction.SIGN_IN_FAILED, address=address, reason="disabled")
        return Attempt(SignInOutcome.DISABLED)
    account.failed_count, account.locked_until, account.last_sign_in_at = 0, None, now
    record(session, name, StaffAction.SIGNED_IN, address=address)
    return Attempt(SignInOutcome.NEW_PASSWORD if account.password_temporary else SignInOutcome.SIGNED_IN, account)


def set_password(session: Session, account: StaffAccount, password: str, *, address: str = "") -> str | None:
    """A new password of the account's own choosing; why not (a problem key), or None when set."""
    problem = credentials.password_problem(password, account.name)
    if problem is None and credentials.password_matches(account.password_hash, password):
        problem = "same"
    if problem:
        return problem
    account.password_hash, account.password_temporary = credentials.hash_password(password), False
    record(session, account.name, StaffAction.PASSWORD_CHANGED, address=address)
    return None
