"""A batch of chat events asks for its users once (bot.ledger.batch), and still behaves as if
each event had been handled alone: watches recorded earlier in the batch count for a later
event, a conversation opened earlier silences a later message, a failing handler's watch is
undone. Both databases, the real webhook, one body with many events (one batch)."""
from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from bot.data.models import ConversationMessage, LineUser, Watch
from tests.conftest import USER, HandlerRaised, claimed_and_planned, invoice_row, text_event


def _count_statements():
    seen: Counter = Counter()

    def count(_conn, _cursor, statement, _params, _context, _many):
        for table in ("line_users", "conversations", "subscriptions", "watches", "invoices"):
            if re.search(rf"\b(from|into|update|join)\s+{table}\b", statement, re.IGNORECASE):
                seen[table] += 1

    # Every engine: the worker that handles the batch has its own pool beside the requests'.
    event.listen(Engine, "before_cursor_execute", count)
    return seen, lambda: event.remove(Engine, "before_cursor_execute", count)


def test_a_batch_asks_for_its_users_once_not_once_per_event(line, seed, db):
    rows = seed(*[invoice_row(i) for i in range(1, 13)])
    users = [f"U{i:032x}" for i in range(1, 13)]
    line.say("วิธีใช้", users[0])  # one user known already, the others new
    events = [text_event(f"ชำระ {row['invoice_no']}", user) for row, user in zip(rows, users)]
    seen, stop = _count_statements()
    try:
        assert line.post(events).status_code == 200
    finally:
        stop()
    for e in events:
        assert any(m.get("type") == "flex" for m in line.reply_to(e["replyToken"]))
    # 12 events: users read once and the new ones created once (not 12 times each); one look at
    # conversations and at subscriptions; the invoices the messages name read together (FOR SHARE);
    # the watches inserted together.
    assert seen["line_users"] <= 3 and seen["conversations"] == 1 and seen["subscriptions"] == 1, seen
    assert seen["watches"] == 1 and seen["invoices"] == 1, seen
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LineUser)) == 12
        watched = set(s.execute(select(LineUser.user_id, Watch.invoice_id).join(Watch)).all())
    assert {u for u, _ in watched} == set(users) and len(watched) == 12


def test_an_invoice_asked_earlier_in_the_batch_is_in_the_history_asked_later(line, seed, bank):
    row = seed(invoice_row(1))[0]
    bank.post(bank.body("payment", row, bank_ref="HIST1"))
    ask, history = text_event(f"ชำระ {row['invoice_no']}"), text_event("ประวัติการชำระ")
    assert line.post([ask, history]).status_code == 200
    said = str(line.reply_to(history["replyToken"]))
    assert row["invoice_no"] in said or "HIST1" in said or "1,000.00" in said, said


def test_a_conversation_opened_earlier_in_the_batch_takes_a_later_message_for_staff(line, db):
    opened, question = text_event("ติดต่อเจ้าหน้าที่"), text_event("ต้องใช้เอกสารอะไรบ้างคะ")
    assert line.post([opened, question]).status_code == 200
    assert "เจ้าหน้าที่" in str(line.reply_to(opened["replyToken"]))
    # for staff: acknowledged, as the first message of the conversation is
    assert "ส่งข้อความของท่านถึงเจ้าหน้าที่แล้ว" in str(line.reply_to(question["replyToken"]))
    with db.sessions() as s:
        assert s.scalars(select(ConversationMessage.text)).all() == ["ต้องใช้เอกสารอะไรบ้างคะ"]


def test_a_failing_handlers_watch_is_undone_the_others_kept(line, seed, db, monkeypatch):
    import handlers.chat

    rows = seed(invoice_row(1), invoice_row(2))
    real = handlers.chat.invoice_messages

    def fails_for_the_second(inv, t, links):
        if inv.invoice_no == rows[1]["invoice_no"]:
            raise RuntimeError("card on fire")
        return real(inv, t, links)

    monkeypatch.setattr(handlers.chat, "invoice_messages", fails_for_the_second)
    good, bad = text_event(f"ชำระ {rows[0]['invoice_no']}"), text_event(f"ชำระ {rows[1]['invoice_no']}", "U" + "b" * 32)
    with pytest.raises(HandlerRaised, match="card on fire"):
        line.post([good, bad])
    assert "ขออภัย" in line.reply_to(bad["replyToken"])[0]["text"]
    assert any(m.get("type") == "flex" for m in line.reply_to(good["replyToken"]))
    with db.sessions() as s:
        watched = set(s.execute(select(LineUser.user_id, Watch.invoice_id).join(Watch)).all())
    assert {u for u, _ in watched} == {USER}


def test_workers_take_turns_to_claim_and_the_next_takes_all_that_came_meanwhile(db, settings, fake_line):
    """PostgreSQL: while one worker's claim step is open, another's claim takes nothing (and does
    not wait); after the commit, the next claim takes every event stored meanwhile in one batch."""
    from bot.line.gateway import LineGateway
    from bot.render.links import make_links
    from bot.runtime.inbox import ReplyQueue, store_events

    if db.dialect != "postgresql":
        pytest.skip("SQLite: one writer at a time already")
    queue = ReplyQueue(db, LineGateway(settings.line_api_url, settings.line_channel_access_token),
                       make_links(settings))
    try:
        with db.transaction() as first:  # a worker's step, between its claim and its commit
            queue.claim(first, 64)
            store_events(db, [text_event("วิธีใช้", f"U{i:032x}") for i in range(5)], notify=False)
            with db.transaction() as second:
                assert queue.claim(second, 64) == []  # not its turn
        with db.transaction() as second:
            assert len(queue.claim(second, 64)) == 5  # all in one batch
    finally:
        queue.close()


def test_a_worker_process_waits_for_its_turn_then_takes_all(db, settings, fake_line):
    """PostgreSQL, `tisi-pay worker`: its claim waits for the other's step to commit."""
    import threading

    from bot.line.gateway import LineGateway
    from bot.render.links import make_links
    from bot.runtime.inbox import ReplyQueue, store_events

    if db.dialect != "postgresql":
        pytest.skip("SQLite: one writer at a time already")
    line = LineGateway(settings.line_api_url, settings.line_channel_access_token)
    queue = ReplyQueue(db, line, make_links(settings), wait_turn=True)
    claimed = {}
    try:
        with db.transaction() as first:
            queue.claim(first, 64)
            store_events(db, [text_event("วิธีใช้", f"U{i:032x}") for i in range(5)], notify=False)

            def second_worker():
                with db.transaction() as second:
                    claimed["jobs"] = queue.claim(second, 64)

            thread = threading.Thread(target=second_worker)
            thread.start()
            assert _waits_on_an_advisory_lock(db), "the second claim did not wait its turn"
            assert "jobs" not in claimed
        thread.join(10)
        assert len(claimed["jobs"]) == 5
    finally:
        queue.close()


def _waits_on_an_advisory_lock(db, timeout: float = 10.0) -> bool:
    import time

    from sqlalchemy import text

    deadline = time.monotonic() + timeout
    with db.engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock' AND wait_event = 'advisory'")).scalar():
                return True
            conn.rollback()
            time.sleep(0.05)
    return False


def test_a_claim_reads_the_unfinished_rows_through_their_partial_index(db, settings, fake_line):
    """However many finished events the table keeps, a claim visits only the unfinished ones:
    the statement it runs can use ix_inbox_waiting (each finished row's status changes had left
    dead entries in an index on status that every claim walked until a vacuum)."""
    from bot.line.gateway import LineGateway
    from bot.render.links import make_links
    from bot.runtime.inbox import ReplyQueue, store_events

    store_events(db, [text_event("วิธีใช้")], notify=False)
    queue = ReplyQueue(db, LineGateway(settings.line_api_url, settings.line_channel_access_token),
                       make_links(settings))
    try:
        claimed, plan = claimed_and_planned(db, "inbox_events", lambda session: queue.claim(session, 64))
    finally:
        queue.close()
    assert len(claimed) == 1
    assert any("ix_inbox_waiting" in line for line in plan), plan
