"""Staff accounts of the console, signing in, and the record of what staff do.

Every account change and every staff action is a `staff_actions` row, a link of the audit chain
(linked at commit, like audit entries): who, what, to what, from which address. Sign-in needs the
password and the current TOTP code; five failures in a row lock the name for fifteen minutes for
the address they came from.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core import credentials
from bot.core.dates import utcnow
from bot.data.models import StaffAccount, StaffActionEntry
from bot.data.states import SignInOutcome, StaffAction, StaffRole

LOCK_AFTER = 5  # failures in a row
LOCK_FOR = timedelta(minutes=15)
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}\Z")  # lower case: "Somchai" and "somchai" are one person
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
    slow_down: bool = False  # the name is being tried from many addresses: the answer is held back


# A name tried from this many addresses, this often, within ATTACK_WINDOW is under attack: every
# attempt on it is slowed and admins see it on the console's first page.
ATTACK_WINDOW = timedelta(minutes=15)
ATTACK_ADDRESSES = 3
ATTACK_FAILURES = 10
_IN_A_ROW_AT_MOST = timedelta(days=1)  # failures older than this no longer count towards a lock
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def sign_in(session: Session, name: str, password: str, code: str, *, address: str = "",
            now: datetime | None = None) -> Attempt:
    """Check a sign-in, in the caller's transaction (which must commit whatever the outcome: the
    record of the attempt is the point).

    Whether the name exists changes nothing an outsider can see: the same password hash is
    computed, the same records are written and read, and the lock (five failures in a row lock
    that name for the address they came from, LOCK_FOR) is kept by name as typed, from the
    records of attempts, for unknown names too. Another address can still sign in."""
    now = now or utcnow()
    name = _CONTROL.sub("", name).strip().lower()[:64]
    address = (address or "")[:64]
    account = None
    if NAME_RE.match(name):
        query = select(StaffAccount).where(StaffAccount.name == name)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()  # parallel guesses are all counted
        account = session.scalar(query)
    right = credentials.password_matches(account.password_hash if account else credentials.DECOY_HASH, password)
    slow = under_attack(session, name, now)
    until = locked_until(session, name, address, now)
    if until is not None:
        record(session, name or "-", StaffAction.SIGN_IN_FAILED, address=address, reason="locked")
        return Attempt(SignInOutcome.LOCKED, locked_until=until, slow_down=slow)
    step = None
    if account is not None and right:
        step = credentials.totp_step(code, account.totp_secret, account.totp_last_step, at=now.timestamp())
    if account is None or step is None:
        reason = "unknown account" if account is None else "wrong password" if not right else "wrong or used code"
        record(session, name or "-", StaffAction.SIGN_IN_FAILED, address=address, reason=reason)
        session.flush()  # this failure counts too
        if _failures_in_a_row(session, name, address, now) >= LOCK_AFTER:
            record(session, name or "-", StaffAction.LOCKED, address=address, until=(now + LOCK_FOR).isoformat())
            return Attempt(SignInOutcome.LOCKED, locked_until=now + LOCK_FOR, slow_down=slow)
        return Attempt(SignInOutcome.WRONG, slow_down=slow)
    account.totp_last_step = step  # this code cannot be used again
    if account.disabled_at is not None:
        record(session, name, StaffAction.SIGN_IN_FAILED, address=address, reason="disabled")
        return Attempt(SignInOutcome.DISABLED)
    account.failed_count, account.locked_until, account.last_sign_in_at = 0, None, now
    record(session, name, StaffAction.SIGNED_IN, address=address)
    return Attempt(SignInOutcome.NEW_PASSWORD if account.password_temporary else SignInOutcome.SIGNED_IN, account)


def _last(session: Session, name: str, address: str, action: StaffAction) -> datetime | None:
    return session.scalar(select(func.max(StaffActionEntry.at)).where(
        StaffActionEntry.account == (name or "-"), StaffActionEntry.address == address,
        StaffActionEntry.action == action))


def locked_until(session: Session, name: str, address: str, now: datetime) -> datetime | None:
    """Until when that name is locked for that address, if it is now."""
    locked = _last(session, name, address, StaffAction.LOCKED)
    if locked is None:
        return None
    locked = _aware(locked)
    return locked + LOCK_FOR if locked + LOCK_FOR > now else None


def _failures_in_a_row(session: Session, name: str, address: str, now: datetime) -> int:
    """Failures of that name from that address since its last sign-in or the end of its last lock."""
    since = now - _IN_A_ROW_AT_MOST
    for action, after in ((StaffAction.SIGNED_IN, timedelta(0)), (StaffAction.LOCKED, LOCK_FOR)):
        at = _last(session, name, address, action)
        if at is not None:
            since = max(since, _aware(at) + after)
    return session.scalar(select(func.count()).select_from(StaffActionEntry).where(
        StaffActionEntry.account == (name or "-"), StaffActionEntry.address == address,
        StaffActionEntry.action == StaffAction.SIGN_IN_FAILED, StaffActionEntry.at > since)) or 0


def under_attack(session: Session, name: str, now: datetime) -> bool:
    row = session.execute(select(func.count(), func.count(func.distinct(StaffActionEntry.address))).where(
        StaffActionEntry.account == (name or "-"), StaffActionEntry.action == StaffAction.SIGN_IN_FAILED,
        StaffActionEntry.at > now - ATTACK_WINDOW)).one()
    return bool(row[0] >= ATTACK_FAILURES and row[1] >= ATTACK_ADDRESSES)


@dataclass(frozen=True)
class Attack:
    name: str
    failures: int
    addresses: int


def attacks(session: Session, now: datetime | None = None) -> list[Attack]:
    """Names tried from many addresses lately (known or not): for the administrators' first page."""
    since = (now or utcnow()) - ATTACK_WINDOW
    rows = session.execute(
        select(StaffActionEntry.account, func.count(), func.count(func.distinct(StaffActionEntry.address)))
        .where(StaffActionEntry.action == StaffAction.SIGN_IN_FAILED, StaffActionEntry.at > since)
        .group_by(StaffActionEntry.account)
        .having(func.count() >= ATTACK_FAILURES, func.count(func.distinct(StaffActionEntry.address)) >= ATTACK_ADDRESSES)
        .order_by(func.count().desc()).limit(20)).all()
    return [Attack(name, failures, addresses) for name, failures, addresses in rows]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)  # SQLite hands back naive


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
