"""Conversations with users who asked for a person (the handoff)."""
from __future__ import annotations

from flask import (
    abort,
    g,
    redirect,
    request,
    url_for,
)

from bot.core.i18n import N_
from bot.data.states import (
    StaffRole,
)
from bot.ledger import console as ledger
from bot.ledger import conversations as talk
from bot.render.messages import STATUS_NAMES
from bot.services import services
from bot.web.console.base import (
    _act,
    _address,
    _page,
    _t,
    bp,
    needs,
)

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
    with services().db.sessions() as s:
        open_ = talk.listing(s, closed=False)
        closed = talk.listing(s, closed=True, limit=20)
    return _page("conversations.html", open_=open_, closed=closed, mask=ledger.mask_line_id)


@bp.get("/conversations/<int:conversation_id>")
@needs(StaffRole.VIEWER)
def conversation(conversation_id: int):
    t = _t()
    with services().db.sessions() as s:
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
        with services().db.transaction() as s:
            talk.close(s, conversation_id, g.account.name, address=_address())
    except talk.ConversationError as exc:  # back to the conversation, saying why
        return redirect(url_for("console.conversation", conversation_id=conversation_id, problem=str(exc)))
    return redirect(url_for("console.conversations"))  # closed: back to the list


