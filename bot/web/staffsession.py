"""The console's sessions: Flask's session interface over `bot.ledger.staff_sessions`.

Only paths under /staff have a session; the cookie (HttpOnly, SameSite=Strict, Secure under
https, path /staff) holds a random id and nothing else. Flask-WTF keeps its CSRF token in it.

Before sign-in there is no row: what the sign-in page needs (its CSRF token, the language) is
kept in a second cookie, signed with SECRET_KEY, so anonymous visitors write nothing.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime

from flask import Flask, Request, Response, request, session
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import CallbackDict

from bot.data.db import Database, DatabaseError
from bot.ledger import staff_sessions as store

PREFIX = "/staff"
COOKIE = "tisi_staff"
PRE_COOKIE = "tisi_staff_pre"  # signed data of a browser that has not signed in
PRE_MAX_AGE = 24 * 3600
KEPT_ACROSS_SIGN_IN = ("lang",)
log = logging.getLogger(__name__)


class StaffSession(CallbackDict, SessionMixin):
    def __init__(self, initial: dict | None = None, *, token: str | None = None, account_id: int | None = None,
                 seen_at: datetime | None = None, active: bool = True, unavailable: bool = False):
        def on_update(self_: "StaffSession") -> None:
            self_.modified = True

        super().__init__(initial or {}, on_update)
        self.token, self.account_id, self.seen_at = token, account_id, seen_at
        self.active = active  # False outside /staff: nothing is read or written
        self.unavailable = unavailable  # the database did not answer: the console says so (503)
        self.replaced: str | None = None  # the id this one replaced at sign-in: ended as this is saved
        self.ended = False
        self.modified = False

    @property
    def new(self) -> bool:  # type: ignore[override]  # Flask's SessionMixin attribute, computed here: not stored yet
        return self.token is None

    def sign_in(self, account_id: int) -> None:
        """A new id for the signed-in session: the one the browser had (which someone else may
        have set or seen) ends, and so does its CSRF token."""
        kept = {k: self[k] for k in KEPT_ACROSS_SIGN_IN if k in self}
        if self.token is not None:
            self.replaced = self.token
        self.token, self.account_id = None, account_id
        self.clear()
        self.update(kept)

    def sign_out(self) -> None:
        self.ended = True


def current() -> StaffSession:
    """This request's session, typed (the console's app opens a StaffSession for every request)."""
    found: object = session  # Flask's proxy: isinstance sees the session behind it
    assert isinstance(found, StaffSession)
    return found


class StaffSessionInterface(SessionInterface):
    def __init__(self, db: Database, *, always_secure: bool):
        self.db, self.always_secure = db, always_secure

    @staticmethod
    def _signer(app: Flask) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(app.secret_key or "", salt="tisi-staff-before-sign-in")  # (SECRET_KEY is required)

    def _before_sign_in(self, app: Flask, request: Request) -> StaffSession:
        try:
            data = self._signer(app).loads(request.cookies.get(PRE_COOKIE, ""), max_age=PRE_MAX_AGE)
        except BadSignature:
            data = {}
        return StaffSession(data if isinstance(data, dict) else {})

    def open_session(self, app: Flask, request: Request) -> StaffSession:
        if not (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
            return StaffSession(active=False)
        token = request.cookies.get(COOKIE, "")
        if not token:
            return self._before_sign_in(app, request)
        try:
            with self.db.sessions() as session:
                row = store.load(session, token)
        except DatabaseError as exc:
            log.warning("staff session not read: %s", type(exc).__name__)
            return StaffSession(unavailable=True)
        if row is None:
            return self._before_sign_in(app, request)
        return StaffSession(json.loads(row.data or "{}"), token=token, account_id=row.account_id, seen_at=row.seen_at)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, StaffSession)  # what open_session gives
        if not session.active or session.unavailable:
            return
        secure = self.always_secure or request.is_secure
        if session.ended:
            if session.token:
                with self.db.transaction() as s:
                    store.end(s, session.token)
            response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="Strict", secure=secure)
            return
        if session.new and session.account_id is None:
            # Not signed in: no row; what the page needs rides in a signed cookie.
            if session.modified and dict(session):
                response.set_cookie(PRE_COOKIE, self._signer(app).dumps(dict(session)), max_age=PRE_MAX_AGE,
                                    path=PREFIX, httponly=True, samesite="Strict", secure=secure)
            return
        # Most clicks change nothing: no transaction then (on SQLite each one waits for the writer).
        new = session.new
        token = session.token = session.token or store.new_token()
        if new or session.modified or session.replaced or store.touch_due(session.seen_at):
            with self.db.transaction() as s:
                if session.replaced:
                    store.end(s, session.replaced)
                    store.forget_old(s)
                if new or session.modified:
                    store.save(s, token, dict(session), session.account_id, created=new)
                else:
                    store.touch(s, token)
        response.vary.add("Cookie")
        response.set_cookie(COOKIE, token, path=PREFIX, httponly=True, samesite="Strict", secure=secure)
        if request.cookies.get(PRE_COOKIE):
            response.delete_cookie(PRE_COOKIE, path=PREFIX, httponly=True, samesite="Strict", secure=secure)
