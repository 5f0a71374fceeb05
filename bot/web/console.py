"""The staff console under /staff: sign-in (password and TOTP), today's takings, finding an
invoice and its story, reconciliation reports, stuck queue items, payment export, conversations.

Every page needs a signed-in account of a sufficient role (`viewer` < `finance` < `admin`; 403
otherwise); without one, the sign-in page. Every form carries a CSRF token (Flask-WTF; 400
without it). Every action is a staff action entry, a link of the audit chain.
"""
from __future__ import annotations

import csv
import io
import json
import time
from datetime import date
from functools import wraps
from typing import TYPE_CHECKING
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
    stream_with_context,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect

from bot.core.cells import code_cell, neutralised
from bot.core.dates import (
    buddhist_year,
    format_datetime_local,
    format_long_date,
    format_short_date,
    to_bangkok,
    today_bangkok,
    utcnow,
)
from bot.core.i18n import N_, Translator, supported
from bot.core.money import format_number
from bot.core.refs import is_ref
from bot.data.states import (
    InboxStatus,
    NoticeStatus,
    ReconcileOutcome,
    SignInOutcome,
    StaffAction,
    StaffRole,
)
from bot.ledger import console as ledger
from bot.ledger import conversations as talk
from bot.ledger import receipts, staff
from bot.ledger.invoices import find_invoice
from bot.render.messages import CHANNEL_NAMES, FEE_NAMES, STATUS_NAMES
from bot.runtime import health
from bot.services import services
from bot.web.guard import client_key

if TYPE_CHECKING:
    from bot.factory import Services

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


def _tisi() -> Services:
    return services()


def _t() -> Translator:
    return Translator(session.get("lang"))


def _address() -> str:
    return client_key(_tisi().settings).removeprefix("ip:")


@bp.before_request
def _guard():
    if session.unavailable:
        return _error(503, N_("The database is not answering. Please try again in a minute."))
    lang = request.args.get("lang")
    if lang and supported(lang) == lang and session.get("lang") != lang:
        session["lang"] = lang
    if request.method == "POST":
        csrf.protect()
    with _tisi().db.sessions() as s:
        g.account = staff.account_by_id(s, session.account_id)
        g.waiting = talk.waiting(s) if g.account is not None else 0
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if g.account is None:
        if session.account_id is not None:  # disabled meanwhile: this session is over
            session.sign_out()
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
        checked.needs = role
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
    with _tisi().db.transaction() as s:
        attempt = staff.sign_in(s, name, request.form.get("password", "")[:256], request.form.get("code", "")[:16],
                                address=_address())
        account_id = attempt.account.id if attempt.account is not None else None
    if attempt.slow_down:  # the name is tried from many addresses: every guess costs the guesser more
        time.sleep(SLOW_DOWN_S)
    if attempt.outcome in (SignInOutcome.SIGNED_IN, SignInOutcome.NEW_PASSWORD):
        session.sign_in(account_id)
        if attempt.outcome is SignInOutcome.NEW_PASSWORD:
            return redirect(url_for("console.password"))
        return redirect(_safe_next(request.form.get("next")))
    if attempt.outcome is SignInOutcome.LOCKED:
        error = t("Too many failed sign-ins: this account is locked until %(time)s. Please wait, or ask an "
                  "administrator.", time=format_datetime_local(attempt.locked_until, t.lang))
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
        with _tisi().db.transaction() as s:
            account = staff.account_by_id(s, g.account.id)
            problem = staff.set_password(s, account, new, address=_address())
    if problem:
        response = _page("password.html", error=t(PASSWORD_PROBLEMS[problem]))
        response.status_code = 400
        return response
    return redirect(url_for("console.today"))


@bp.post("/sign-out")
def sign_out():
    with _tisi().db.transaction() as s:
        staff.record(s, g.account.name, StaffAction.SIGNED_OUT, address=_address())
    session.sign_out()
    return redirect(url_for("console.sign_in"))


# -- today ----------------------------------------------------------------------------------------
@bp.get("/")
@needs(StaffRole.VIEWER)
def today():
    t = _t()
    tisi = _tisi()
    day = today_bangkok()
    with tisi.db.sessions() as s:
        takings = ledger.takings(s, day)
        series = ledger.daily(s, takings)
        chain = ledger.chain_state(s)
        attacks = staff.attacks(s) if StaffRole(g.account.role).allows(StaffRole.ADMIN) else []
    try:
        queues = health.check(tisi.db)
    except Exception:  # the figures are a convenience here; the page still shows the takings
        queues = None
    alerts = [t("Sign-in attack: the name %(name)s was tried %(failures)s times from %(addresses)s addresses in "
                "the last 15 minutes; each try is now slowed.", name=a.name, failures=a.failures,
                addresses=a.addresses) for a in attacks]
    if tisi.spool.full:
        alerts.append(t("The bank spool is full: while the database cannot be reached the bank is answered "
                        "9999 and its requests are not kept. Bring the database back, or free the spool's disk."))
    chart = {"labels": [format_short_date(d, t.lang) for d, _, _ in series],
             "counts": [c for _, c, _ in series], "baht": [str(b) for _, _, b in series],
             "label_count": t("Payments"), "label_baht": t("Baht")}
    return _page("today.html", takings=takings, series=series, chart=json.dumps(chart, ensure_ascii=False).replace("<", "\\u003c"),
                 channel_name=lambda c: t(CHANNEL_NAMES[c]) if c in CHANNEL_NAMES else c,
                 fee_name=lambda f: t(FEE_NAMES[f]) if f in FEE_NAMES else f,
                 long_day=format_long_date(day, t.lang), chain=chain, queues=queues,
                 problems=alerts + (queues.problems() if queues else [t("The queue figures could not be read.")]))


# -- find and one invoice's story ---------------------------------------------------------------
@bp.get("/find")
@needs(StaffRole.VIEWER)
def find():
    t = _t()
    query = request.args.get("q", "")[:200]
    found = None
    if query.strip():
        with _tisi().db.sessions() as s:
            found = ledger.find(s, query)
        if found.by == "invoice" and len(found.invoices) == 1:
            return redirect(url_for("console.invoice", invoice_no=found.invoices[0].invoice_no))
    return _page("find.html", query=query, found=found,
                 status_name=lambda inv: t(STATUS_NAMES[inv.effective_status()]),
                 by_name={"invoice": t("invoice number"), "license": t("license number"), "tax_id": t("tax ID"),
                          "name": t("payer name"), "": ""})


KIND_NAMES = {
    "audit": N_("Invoice"), "asked": N_("Chat"), "notice": N_("Notice"), "bank": N_("Bank message"),
    "payment": N_("Payment"), "reversal": N_("Reversal"), "receipt": N_("Receipt"), "photo": N_("Photo"),
}
WHAT_NAMES = {
    "created": N_("created"), "amount_changed": N_("amount changed"), "paid": N_("paid"), "reversed": N_("reversed"),
    "cancelled": N_("cancelled"), "double_payment": N_("double payment (refused; refund)"),
    "asked": N_("a LINE user asked about it"), "confirmed": N_("confirmed"),
    NoticeStatus.PENDING: N_("queued"), NoticeStatus.SENT: N_("delivered"), NoticeStatus.FAILED: N_("failed"),
    "issued": N_("issued"), "void": N_("void"), "document": N_("PDF made"),
    "payment": N_("payment request"), "reversal": N_("reversal request"),
}


@bp.get("/invoice/<invoice_no>")
@needs(StaffRole.VIEWER)
def invoice(invoice_no: str):
    t = _t()
    tisi = _tisi()
    with tisi.db.sessions() as s:
        inv = find_invoice(s, invoice_no) if is_ref(invoice_no) else None
        if inv is None:
            abort(404)
        happenings = ledger.story(s, inv, tisi.settings.reminder_days)
        issued = ledger.receipts_of(s, inv)
    status = inv.effective_status()
    links = [(t("Tracking page"), tisi.links.track_url(inv))]
    if status == "unpaid":
        links.append((t("Pay-in slip"), tisi.links.slip_url(inv)))
    links += [(t("Receipt %(number)s", number=r.number) + (f" ({t('void')})" if r.voided_at else ""),
               tisi.links.receipt_url(receipts.receipt_key(inv.public_id, r.payment_id))) for r in issued]
    return _page("invoice.html", inv=inv, status=status, status_name=t(STATUS_NAMES[status]),
                 fee_name=t(FEE_NAMES.get(inv.fee_code, inv.fee_code)), happenings=happenings, links=links,
                 kind_name=lambda k: t(KIND_NAMES.get(k, k)), what_name=lambda w: t(WHAT_NAMES[w]) if w in WHAT_NAMES else w,
                 due=format_long_date(inv.due_date, t.lang), detail_text=lambda d: _detail_text(d, t))


DETAIL_NAMES = {
    "status": N_("status"), "actor": N_("by"), "amount": N_("amount"), "bank_ref": N_("bank reference"),
    "bankRef": N_("bank reference"), "bankCode": N_("bank code"), "channel": N_("channel"),
    "transacted_at": N_("paid at"), "transDateTime": N_("bank's time"), "command": N_("command"),
    "user": N_("LINE user"), "event": N_("notice"), "to": N_("to"), "attempts": N_("attempts"),
    "sent_at": N_("delivered at"), "last_error": N_("LINE's answer"), "resp_code": N_("our answer"),
    "http_status": N_("HTTP"), "replayed": N_("repeated request"), "spooled": N_("kept through an outage"),
    "number": N_("receipt no."), "reason": N_("reason"), "variant": N_("document"), "sha256": "SHA-256",
    "receipt": N_("receipt no."),
}


def _detail_text(detail: dict, t: Translator) -> str:
    """A happening's details on one line, the names in the reader's language and the data as stored
    (amounts with two decimals, times in Bangkok, statuses by their names)."""
    parts = []
    for key, value in detail.items():
        if value is None or value == "" or value is False or key in ("payment_id", "message_id"):
            continue
        if hasattr(value, "astimezone"):
            value = to_bangkok(value).strftime("%Y-%m-%d %H:%M")
        elif value is True:
            value = t("yes")
        elif key == "status":
            value = " → ".join(t(STATUS_NAMES[s]) if s in STATUS_NAMES else s for s in str(value).split(" → "))
        parts.append(f"{t(DETAIL_NAMES[key]) if key in DETAIL_NAMES else key}: {value}")
    return " · ".join(parts)


# -- reconciliation ------------------------------------------------------------------------------
OUTCOME_NAMES = {
    ReconcileOutcome.MATCHED: N_("matched"), ReconcileOutcome.MATCHED_REVERSAL: N_("reversal matched"),
    ReconcileOutcome.AMOUNT_MISMATCH: N_("amount differs"), ReconcileOutcome.UNKNOWN_INVOICE: N_("unknown invoice"),
    ReconcileOutcome.IN_FILE_NOT_ONLINE: N_("in the file, never confirmed online"),
    ReconcileOutcome.REVERSAL_NOT_ONLINE: N_("reversal in the file only"),
    ReconcileOutcome.ONLINE_NOT_IN_FILE: N_("confirmed online, missing from the file"),
}


@bp.get("/reconciliation")
@needs(StaffRole.VIEWER)
def reconciliation():
    with _tisi().db.sessions() as s:
        files = ledger.statements(s)
    summaries = [(f, json.loads(f.report).get("counts", {})) for f in files]
    return _page("reconciliation.html", files=summaries)


@bp.get("/reconciliation/<int:file_id>")
@needs(StaffRole.VIEWER)
def statement(file_id: int):
    t = _t()
    with _tisi().db.sessions() as s:
        found = ledger.statement_file(s, file_id)
    if found is None:
        abort(404)
    report = json.loads(found.report)
    lines = sorted(report.get("lines", []), key=lambda line: ReconcileOutcome(line["outcome"]).balanced)
    return _page("statement.html", file=found, report=report, lines=lines,
                 outcome_name=lambda o: t(OUTCOME_NAMES[ReconcileOutcome(o)]),
                 balanced=lambda o: ReconcileOutcome(o).balanced)


# -- queues -----------------------------------------------------------------------------------------
EVENT_STATUS_NAMES = {
    InboxStatus.REFUSED: N_("reply refused by LINE"), InboxStatus.EXPIRED: N_("reply token expired"),
    InboxStatus.UNCONFIRMED: N_("delivered, unconfirmed"), InboxStatus.PENDING: N_("waiting"),
    InboxStatus.HANDLED: N_("answer waiting to be sent"), InboxStatus.PHOTO: N_("photo waiting to be read"),
    InboxStatus.REPLIED: N_("replied"), InboxStatus.NO_REPLY: N_("no reply"),
}
QUEUE_ANSWERS = {
    "unknown": N_("That item no longer exists."),
    "already_sent": N_("That notice was delivered meanwhile: nothing to retry."),
    "not_pushable": N_("That answer cannot be sent again."),
    "maybe_delivered": N_("A reply may have reached the user already: a push could answer them twice."),
}


@bp.get("/queues")
@needs(StaffRole.VIEWER)
def queues():
    t = _t()
    with _tisi().db.sessions() as s:
        found = ledger.stuck(s)
    return _page("queues.html", stuck=found, pushable=ledger.PUSHABLE, done=request.args.get("done"),
                 problem=t(QUEUE_ANSWERS[request.args["problem"]]) if request.args.get("problem") in QUEUE_ANSWERS
                 else None, event_status=lambda st: t(EVENT_STATUS_NAMES.get(st, st)),
                 what_name=lambda w: t(WHAT_NAMES[w]) if w in WHAT_NAMES else w, mask=ledger.mask_line_id)


def _act(action, refused: type[Exception], back: str, done: dict | None = None, **where):
    """A staff action in one transaction (with its staff action entry), then back to the page it
    came from: with `done`, or with the reason it was refused (`?problem=`)."""
    try:
        with _tisi().db.transaction() as s:
            action(s)
    except refused as exc:
        return redirect(url_for(back, problem=str(exc), **where))
    return redirect(url_for(back, **(done or {}), **where))


@bp.post("/queues/notice/<int:notice_id>/retry")
@needs(StaffRole.FINANCE)
def retry_notice(notice_id: int):
    return _act(lambda s: ledger.retry_notice(s, notice_id, g.account.name, address=_address()),
                ledger.QueueError, "console.queues", {"done": f"notice-{notice_id}"})


@bp.post("/queues/event/<int:event_id>/push")
@needs(StaffRole.FINANCE)
def push_answer(event_id: int):
    return _act(lambda s: ledger.push_answer(s, event_id, g.account.name, address=_address()),
                ledger.QueueError, "console.queues", {"done": f"event-{event_id}"})


# -- export ------------------------------------------------------------------------------------------
@bp.get("/export")
@needs(StaffRole.FINANCE)
def export():
    day = today_bangkok()
    return _page("export.html", first=(day.replace(day=1)).isoformat(), last=day.isoformat(), error=None)


EXPORT_COLUMNS = (
    N_("Paid at (Bangkok)"), N_("Date (BE)"), N_("Invoice no. (Ref.1)"), N_("Ref.2"), N_("License no."),
    N_("Tax ID"), N_("Payer"), N_("Fee"), N_("Amount (baht)"), N_("Channel"), N_("Bank code"), N_("Bank reference"),
    N_("Payment status"), N_("Receipt no."),
)


EXPORT_YEARS = (2000, 2200)  # Gregorian years a payment can have: outside them a day is a typing slip


def _export_days(first_text: str, last_text: str, t: Translator) -> tuple[date | None, date | None, str | None]:
    """The export's first and last day, or what is wrong with them, said exactly."""
    try:
        first, last = date.fromisoformat(first_text.strip()), date.fromisoformat(last_text.strip())
    except ValueError:
        return None, None, t("Write both days as dates, e.g. %(example)s.", example=today_bangkok().isoformat())
    if not all(EXPORT_YEARS[0] <= d.year <= EXPORT_YEARS[1] for d in (first, last)):
        return None, None, t("Choose days between the years %(first)s and %(last)s.", first=EXPORT_YEARS[0],
                             last=EXPORT_YEARS[1])
    if first > last:
        return None, None, t("The first day is after the last day: swap them.")
    if (last - first).days >= EXPORT_MAX_DAYS:
        return None, None, t("Choose at most %(days)s days.", days=EXPORT_MAX_DAYS)
    return first, last, None


@bp.post("/export")
@needs(StaffRole.FINANCE)
def export_csv():
    t = _t()
    first, last, problem = _export_days(request.form.get("first", ""), request.form.get("last", ""), t)
    if problem is not None:
        response = _page("export.html", first=request.form.get("first", "")[:40], last=request.form.get("last", "")[:40],
                         error=problem)
        response.status_code = 400
        return response
    tisi = _tisi()
    with tisi.db.transaction() as s:
        rows = ledger.count_payments_between(s, first, last)
        staff.record(s, g.account.name, StaffAction.EXPORTED, target=f"payments {first}..{last}",
                     address=_address(), rows=rows)

    def generate():
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        out.write("\ufeff")  # Excel reads UTF-8 (Thai) only with the byte order mark
        writer.writerow([t(c) for c in EXPORT_COLUMNS])
        with tisi.db.sessions() as s:
            for payment, inv, receipt_no in ledger.payments_between(s, first, last):
                local = to_bangkok(payment.transacted_at)
                writer.writerow([
                    local.strftime("%Y-%m-%d %H:%M:%S"), f"{local.day:02d}/{local.month:02d}/{buddhist_year(local)}",
                    code_cell(inv.invoice_no), code_cell(inv.ref2), neutralised(inv.license_no),
                    code_cell(inv.tax_id), neutralised(inv.payer_name), t(FEE_NAMES.get(inv.fee_code, inv.fee_code)),
                    f"{payment.amount:.2f}", neutralised(payment.channel), code_cell(payment.bank_code),
                    code_cell(payment.bank_ref), neutralised(payment.status), neutralised(receipt_no)])
                if out.tell() > 64 * 1024:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
        yield out.getvalue()

    name = f"tisi-payments-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(stream_with_context(generate()), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


# -- conversations -------------------------------------------------------------------------------
CONVERSATION_ANSWERS = {
    "unknown": N_("That conversation does not exist."),
    "closed": N_("That conversation is closed already."),
    "empty": N_("Write an answer first."),
    "too_long": N_("That answer is too long: at most 2,000 characters."),
}


@bp.get("/conversations")
@needs(StaffRole.VIEWER)
def conversations():
    with _tisi().db.sessions() as s:
        open_ = talk.listing(s, closed=False)
        closed = talk.listing(s, closed=True, limit=20)
    return _page("conversations.html", open_=open_, closed=closed, mask=ledger.mask_line_id)


@bp.get("/conversations/<int:conversation_id>")
@needs(StaffRole.VIEWER)
def conversation(conversation_id: int):
    t = _t()
    with _tisi().db.sessions() as s:
        found = talk.detail(s, conversation_id)
    if found is None:
        abort(404)
    problem = request.args.get("problem")
    return _page("conversation.html", c=found, mask=ledger.mask_line_id,
                 problem=t(CONVERSATION_ANSWERS[problem]) if problem in CONVERSATION_ANSWERS else None,
                 status_name=lambda inv: t(STATUS_NAMES[inv.effective_status()]))


@bp.post("/conversations/<int:conversation_id>/reply")
@needs(StaffRole.FINANCE)
def conversation_reply(conversation_id: int):
    answer = request.form.get("text", "")[:5000]
    return _act(lambda s: talk.reply(s, conversation_id, g.account.name, answer, address=_address()),
                talk.ConversationError, "console.conversation", conversation_id=conversation_id)


@bp.post("/conversations/<int:conversation_id>/close")
@needs(StaffRole.FINANCE)
def conversation_close(conversation_id: int):
    try:
        with _tisi().db.transaction() as s:
            talk.close(s, conversation_id, g.account.name, address=_address())
    except talk.ConversationError as exc:  # back to the conversation, saying why
        return redirect(url_for("console.conversation", conversation_id=conversation_id, problem=str(exc)))
    return redirect(url_for("console.conversations"))  # closed: back to the list


# -- accounts ------------------------------------------------------------------------------------
@bp.get("/accounts")
@needs(StaffRole.ADMIN)
def accounts():
    with _tisi().db.sessions() as s:
        found = staff.accounts(s)
    now = utcnow()
    return _page("accounts.html", accounts=found, now=now, role_label=lambda r: _t()(ROLE_NAMES[StaffRole(r)]))


@bp.post("/accounts/<name>/disable")
@needs(StaffRole.ADMIN)
def disable(name: str):
    if name == g.account.name:
        abort(403)  # an administrator cannot lock themselves out by a slip of the mouse
    try:
        with _tisi().db.transaction() as s:
            staff.disable_account(s, name, actor=g.account.name, address=_address())
    except staff.AccountError:
        abort(404)
    return redirect(url_for("console.accounts"))
