"""Signing in (password and TOTP), choosing a new password, signing out."""
from __future__ import annotations

import time

from flask import (
    g,
    redirect,
    request,
    url_for,
)

from bot.core.dates import (
    format_datetime_local,
)
from bot.core.i18n import N_
from bot.data.states import (
    SignInOutcome,
    StaffAction,
)
from bot.ledger import staff
from bot.services import services
from bot.web.console.base import (
    SLOW_DOWN_S,
    _address,
    _page,
    _safe_next,
    _t,
    bp,
)
from bot.web.staffsession import current as staff_session

# -- signing in and out -------------------------------------------------------------------------
SIGN_IN_ANSWERS = {
    SignInOutcome.WRONG: N_("The name, password or code is not right. Please try again."),
    SignInOutcome.DISABLED: N_("This account is disabled. Ask an administrator."),
}


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    t = _t()
    if request.method == "GET":
        if g.account is not None:
            return redirect(_safe_next(request.args.get("next")))
        return _page("sign_in.html", error=None, name="", next=request.args.get("next", ""))
    name = request.form.get("name", "")[:64]
    with services().db.transaction() as s:
        attempt = staff.sign_in(s, name, request.form.get("password", "")[:256], request.form.get("code", "")[:16],
                                address=_address())
        account_id = attempt.account.id if attempt.account is not None else None
    if attempt.slow_down:  # the name is tried from many addresses: every guess costs the guesser more
        time.sleep(SLOW_DOWN_S)
    if attempt.outcome in (SignInOutcome.SIGNED_IN, SignInOutcome.NEW_PASSWORD) and account_id is not None:
        staff_session().sign_in(account_id)
        if attempt.outcome is SignInOutcome.NEW_PASSWORD:
            return redirect(url_for("console.password"))
        return redirect(_safe_next(request.form.get("next")))
    if attempt.outcome is SignInOutcome.LOCKED:
        error = t("Too many failed sign-ins: this account is locked until %(time)s. Please wait, or ask an "
                  "administrator.", time=format_datetime_local(attempt.locked_until, t.lang) if attempt.locked_until else "")
    else:
        error = t(SIGN_IN_ANSWERS[attempt.outcome])
    response = _page("sign_in.html", error=error, name=name, next=request.form.get("next", ""))
    response.status_code = 401 if attempt.outcome is SignInOutcome.WRONG else 403
    return response


PASSWORD_PROBLEMS = {
    "too_short": N_("The new password must have at least 12 characters."),
    "has_name": N_("The new password must not contain the account's name."),
    "same": N_("The new password must differ from the old one."),
    "mismatch": N_("The two new passwords are not the same."),
}


@bp.route("/password", methods=["GET", "POST"])
def password():
    t = _t()
    if request.method == "GET":
        return _page("password.html", error=None)
    new, again = request.form.get("password", "")[:256], request.form.get("again", "")[:256]
    problem = "mismatch" if new != again else None
    if problem is None:
        with services().db.transaction() as s:
            account = staff.account_by_id(s, g.account.id)
            assert account is not None  # read this request (accounts are disabled, never deleted)
            problem = staff.set_password(s, account, new, address=_address())
    if problem:
        response = _page("password.html", error=t(PASSWORD_PROBLEMS[problem]))
        response.status_code = 400
        return response
    return redirect(url_for("console.today"))


@bp.post("/sign-out")
def sign_out():
    with services().db.transaction() as s:
        staff.record(s, g.account.name, StaffAction.SIGNED_OUT, address=_address())
    staff_session().sign_out()
    return redirect(url_for("console.sign_in"))


