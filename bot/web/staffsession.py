"""The console's sessions: Flask's session interface over `bot.ledger.staff_sessions`.

Only paths under /staff have a session; the cookie (HttpOnly, SameSite=Strict, Secure under
https, path /staff) holds a random id and nothing else. Flask-WTF keeps its CSRF token in it.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime

from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import CallbackDict

from bot.data.db import Database
from bot.ledger import staff_sessions as store

PREFIX = "/staff"
COOKIE = "tisi_staff"
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
    def new(self) -> bool:  # Flask's SessionMixin: not stored yet
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


class StaffSessionInterface(SessionInterface):
    def __init__(self, db: Database, *, always_secure: bool):
        self.db, self.always_secure = db, always_secure

    def open_session(self, app: Flask, request: Request) -> StaffSession:
        if not (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
            return StaffSession(active=False)
        token = request.cookies.get(COOKIE, "")
        if not token:
            return StaffSession()
        try:
            with self.db.sessions() as session:
                row = store.load(session, token)
        except SQLAlchemyError as exc:
            log.warning("staff session not read: %s", type(exc).__name__)
            return StaffSession(unavailable=True)
        if row is None:
            return StaffSession()
        return StaffSession(json.loads(row.data or "{}"), token=token, account_id=row.account_id, seen_at=row.seen_at)

    def save_session(self, app: Flask, session: StaffSession, response: Response) -> None:
        if not session.active or session.unavailable:
            return
        secure = self.always_secure or request.is_secure
        if session.ended:
            if session.token:
                with self.db.transaction() as s:
                    store.end(s, session.token)
            response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="Strict", secure=secure)
            return
        if session.new and not session.modified and session.account_id is None:
            return  # nothing worth keeping: no row, no cookie
        # Most clicks change nothing: no transaction then (on SQLite each one waits for the writer).
        if session.new or session.modified or session.replaced or store.touch_due(session.seen_at):
            with self.db.transaction() as s:
                if session.replaced:
                    store.end(s, session.replaced)
                    store.forget_old(s)
                if session.new:
                    session.token = store.new_token()
                    store.save(s, session.token, dict(session), session.account_id, created=True)
                elif session.modified:
                    store.save(s, session.token, dict(session), session.account_id, created=False)
                else:
                    store.touch(s, session.token)
        response.vary.add("Cookie")
        response.set_cookie(COOKIE, session.token, path=PREFIX, httponly=True, samesite="Strict", secure=secure)
