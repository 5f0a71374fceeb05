"""Staff accounts (administrators)."""
from __future__ import annotations

from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    pass
from bot.web.console.base import (
    ROLE_NAMES,
    _address,
    _page,
    _t,
    _tisi,
    bp,
    needs,
)


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
