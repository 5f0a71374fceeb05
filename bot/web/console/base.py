"""The console's frame: its blueprint, sessions and CSRF, the guard every page passes, roles,
error pages and what every page is rendered with."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect

from bot.core.dates import (
    format_datetime_local,
    format_short_date,
)
from bot.core.i18n import N_, Translator, supported
from bot.core.money import format_number
from bot.data.states import (
    StaffRole,
)
from bot.ledger import conversations as talk
from bot.ledger import staff
from bot.services import services
from bot.web.guard import client_key
from bot.web.staffsession import current as staff_session

bp = Blueprint("console", __name__, url_prefix="/staff")
csrf = CSRFProtect()
SLOW_DOWN_S = 2.0  # added to each attempt on a name under attack (bot.ledger.staff.under_attack)
SIGN_IN_LIMIT = "10 per minute"  # per client, on POST /staff/sign-in (on top of the account lock)
EXPORT_MAX_DAYS = 366
PUBLIC_ENDPOINTS = ("console.sign_in",)


def install(app) -> None:
    """The console's blueprint, its CSRF protection (only here: LINE and the bank sign instead)
    and its sessions."""
    from bot.web.staffsession import StaffSessionInterface

    tisi = app.extensions["tisi"]
    app.config.update(WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=None,
                      WTF_CSRF_SSL_STRICT=True)
    csrf.init_app(app)
    app.session_interface = StaffSessionInterface(
        tisi.db, always_secure=tisi.settings.public_base_url.startswith("https://"))
    app.register_blueprint(bp)


def _t() -> Translator:
    return Translator(session.get("lang"))


def _address() -> str:
    return client_key(services().settings).removeprefix("ip:")


@bp.before_request
def _guard():
    if staff_session().unavailable:
        return _error(503, N_("The database is not answering. Please try again in a minute."))
    lang = request.args.get("lang")
    if lang and supported(lang) == lang and session.get("lang") != lang:
        session["lang"] = lang
    if request.method == "POST":
        csrf.protect()
    with services().db.sessions() as s:
        g.account = staff.account_by_id(s, staff_session().account_id)
        g.waiting = talk.waiting(s) if g.account is not None else 0
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if g.account is None:
        if staff_session().account_id is not None:  # disabled meanwhile: this session is over
            staff_session().sign_out()
        return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
    if g.account.password_temporary and request.endpoint not in ("console.password", "console.sign_out"):
        return redirect(url_for("console.password"))
    return None


def needs(role: StaffRole):
    """The least role a view needs; a weaker account gets 403."""
    def wrap(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if not StaffRole(g.account.role).allows(role):
                abort(403)
            return view(*args, **kwargs)
        checked.needs = role  # type: ignore[attr-defined]  # read by the tests of who may do what
        return checked
    return wrap


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):
    return _error(400, N_("This form has expired or did not come from this console. Please go back, reload the "
                          "page and try again."))


@bp.errorhandler(403)
def _forbidden(exc):
    return _error(403, N_("Your account's role does not allow this. Ask an administrator if you need it."))


@bp.errorhandler(404)
def _not_found(exc):
    return _error(404, N_("There is nothing at this address in the console."))


def _error(status: int, message: str) -> Response:
    t = _t()
    html = render_template("html/staff/error.html", **_common(t), status=status, message=t(message))
    return Response(html, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})


NAV = (
    ("console.today", N_("Today"), StaffRole.VIEWER),
    ("console.find", N_("Find"), StaffRole.VIEWER),
    ("console.reconciliation", N_("Reconciliation"), StaffRole.VIEWER),
    ("console.queues", N_("Queues"), StaffRole.VIEWER),
    ("console.day_close", N_("Day's close"), StaffRole.VIEWER),
    ("console.export", N_("Export"), StaffRole.FINANCE),
    ("console.conversations", N_("Conversations"), StaffRole.VIEWER),
    ("console.accounts", N_("Accounts"), StaffRole.ADMIN),
)
ROLE_NAMES = {StaffRole.VIEWER: N_("Viewer"), StaffRole.FINANCE: N_("Finance"), StaffRole.ADMIN: N_("Administrator")}


def _common(t: Translator) -> dict:
    account = getattr(g, "account", None)
    role = StaffRole(account.role) if account is not None else None
    return {
        "t": t, "lang": t.lang, "other_lang": "en" if t.lang == "th" else "th", "account": account,
        "role_name": t(ROLE_NAMES[role]) if role else "",
        "nav": [(endpoint, t(label)) for endpoint, label, needed in NAV if role is not None and role.allows(needed)],
        "waiting": getattr(g, "waiting", 0),  # conversations no one has answered yet
        "money": lambda amount: format_number(amount, t.lang),
        "when": lambda moment: format_datetime_local(moment, t.lang) if moment else "–",
        "day": lambda d: format_short_date(d, t.lang),
        "can": lambda needed: role is not None and role.allows(StaffRole(needed)),
    }


def _page(template: str, **values) -> Response:
    t = _t()
    html = render_template(f"html/staff/{template}", **_common(t), **values)
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})


def _safe_next(target: str | None) -> str:
    """Only a path of the console itself: never another site (an open redirect)."""
    if target and target.startswith("/staff") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("console.today")


def _act(action, refused: type[Exception], back: str, done: dict | None = None, **where):
    """A staff action in one transaction (with its staff action entry), then back to the page it
    came from: with `done`, or with the reason it was refused (`?problem=`)."""
    try:
        with services().db.transaction() as s:
            action(s)
    except refused as exc:
        return redirect(url_for(back, problem=str(exc), **where))
    return redirect(url_for(back, **(done or {}), **where))
