"""Staff accounts (administrators)."""
from __future__ import annotations

from flask import (
    abort,
    g,
    redirect,
    url_for,
)

from bot.core.dates import (
    utcnow,
)
from bot.data.states import (
    StaffRole,
)
from bot.ledger import staff
from bot.services import services
from bot.web.console.base import (
    ROLE_NAMES,
    _address,
    _page,
    _t,
    bp,
    needs,
)


# -- accounts ------------------------------------------------------------------------------------
@bp.get("/accounts")
@needs(StaffRole.ADMIN)
def accounts():
    with services().db.sessions() as s:
        found = staff.accounts(s)
    now = utcnow()
    return _page("accounts.html", accounts=found, now=now, role_label=lambda r: _t()(ROLE_NAMES[StaffRole(r)]))


@bp.post("/accounts/<name>/disable")
@needs(StaffRole.ADMIN)
def disable(name: str):
    if name == g.account.name:
        abort(403)  # an administrator cannot lock themselves out by a slip of the mouse
    try:
        with services().db.transaction() as s:
            staff.disable_account(s, name, actor=g.account.name, address=_address())
    except staff.AccountError:
        abort(404)
    return redirect(url_for("console.accounts"))
