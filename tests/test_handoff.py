"""A person when asked: the chat opens a conversation, the bot keeps answering numbers and
pushing notices but stays silent on the rest, staff answer from the console (pushed through
the outbox, once), closing it is told, and the bot answers everything again. Both databases,
the real webhook, the fake LINE API over HTTP."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

from sqlalchemy import func, select

from bot.config import Settings
from bot.core.schedule import OfficeHours
from bot.data.models import Conversation, ConversationMessage, Notice
from bot.data.states import NoticeStatus, Speaker, StaffAction
from tests.conftest import OTHER_USER, USER, fresh, invoice_row, make_env, sample_event
from tests.test_console import actions


def _texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def test_talk_to_staff_then_silence_numbers_answered_staff_reply_and_close(db, seed, line, fake_line, bank,
                                                                            signed_in):
    rows = seed(invoice_row(1))
    opened = _texts(line.say("ติดต่อเจ้าหน้าที่"))
    assert "เจ้าหน้าที่" in opened and "วันจันทร์–วันศุกร์ 08:30–16:30 น." in opened and "ติดต่อ: สมอ." in opened
    again = _texts(line.say("ติดต่อเจ้าหน้าที่ครับ"))
    assert "เปิดอยู่แล้ว" in again
    acknowledged = line.say("อยากทราบว่าต้องใช้เอกสารอะไรบ้างคะ")  # for staff: acknowledged, once
    assert "ส่งข้อความของท่านถึงเจ้าหน้าที่แล้ว" in _texts(acknowledged) and "จบการสนทนา" in _texts(acknowledged)
    assert line.say("แล้วต้องยื่นที่ไหนคะ") == []  # the rest of the chatter: staff have it, nothing more is said
    assert "2568110400012345" in _texts(line.say("help"))  # a command (a rich-menu button) is still answered
    card = line.say(f"ชำระ {rows[0]['invoice_no']}")  # a number: still answered
    assert any(m.get("type") == "flex" for m in card)
    with db.sessions() as s:
        conversation = s.scalar(select(Conversation))
        said = [(m.speaker, m.text, m.answered_by_bot) for m in s.scalars(select(ConversationMessage)
                                                                        .order_by(ConversationMessage.id))]
    assert conversation.closed_at is None and conversation.answered_at is None
    assert said == [(Speaker.USER, "ติดต่อเจ้าหน้าที่ครับ", True),  # the command again: answered "already open"
                    (Speaker.USER, "อยากทราบว่าต้องใช้เอกสารอะไรบ้างคะ", False), (Speaker.USER, "แล้วต้องยื่นที่ไหนคะ", False),
                    (Speaker.USER, "help", True), (Speaker.USER, f"ชำระ {rows[0]['invoice_no']}", True)]

    # The paid notice is still pushed while the conversation is open.
    bank.post(bank.body("payment", rows[0], bank_ref="HAND1"))
    assert fake_line.wait_for(lambda f: any("HAND1" in str(p.messages) for p in f.pushes()))

    staff = signed_in("finance")
    listing = staff.client.get("/staff/conversations").get_data(as_text=True)
    assert '<span class="count" id="waiting" title="รอคำตอบ">1</span>' in listing  # the menu counts it
    open_table = listing[listing.index('id="open-conversations"'):listing.index('id="closed-conversations"')]
    assert "Uaaaa…aaaa" in open_table and "ยังไม่ตอบ" in open_table and USER not in listing
    page = staff.client.get(f"/staff/conversations/{conversation.id}").get_data(as_text=True)
    assert "อยากทราบว่าต้องใช้เอกสารอะไรบ้างคะ" in page and rows[0]["invoice_no"] in page  # asked about
    answer = "ใช้สำเนาใบอนุญาตและหนังสือรับรองบริษัทค่ะ"
    sent = staff.post(f"/staff/conversations/{conversation.id}/reply", {"text": answer},
                      token_from=f"/staff/conversations/{conversation.id}")
    assert sent.status_code == 302
    assert fake_line.wait_for(lambda f: any(answer in str(p.messages) for p in f.pushes()))
    pushed = [p for p in fake_line.pushes() if answer in str(p.messages)]
    assert len(pushed) == 1 and pushed[0].to == USER and "เจ้าหน้าที่ สมอ.:" in pushed[0].messages[0]["text"]
    assert staff.post(f"/staff/conversations/{conversation.id}/reply", {"text": "  "},
                      token_from=f"/staff/conversations/{conversation.id}").headers["Location"].endswith("problem=empty")

    assert 'id="waiting"' not in staff.client.get("/staff/").get_data(as_text=True)  # answered: not counted
    closed = staff.post(f"/staff/conversations/{conversation.id}/close",
                        token_from=f"/staff/conversations/{conversation.id}")
    assert closed.status_code == 302
    assert fake_line.wait_for(lambda f: any("สิ้นสุดแล้ว" in str(p.messages) for p in f.pushes()))
    with db.sessions() as s:
        done = s.get(Conversation, conversation.id)
        assert done.answered_at is not None and done.closed_at >= done.answered_at and done.closed_by == "finance1"
        assert s.scalar(select(func.count()).select_from(Notice).where(Notice.event_key.like("staff-reply:%"),
                                                                         Notice.status == NoticeStatus.SENT)) == 1
    assert "2568110400012345" in _texts(line.say("help"))  # the bot answers everything again: the help
    assert [a.action for a in actions(db) if a.action.startswith("conversation")] == [
        StaffAction.CONVERSATION_REPLIED, StaffAction.CONVERSATION_CLOSED]
    again = staff.post(f"/staff/conversations/{conversation.id}/reply", {"text": "late"},
                       token_from=f"/staff/conversations/{conversation.id}")
    assert again.headers["Location"].endswith("problem=closed")


def test_english_and_outside_office_hours(database_url, fake_line, db):
    """The answer in the user's language, with the hours in it, and the outside-hours sentence."""
    from bot.factory import create_app
    from tests.conftest import Line

    settings = Settings.from_env(make_env(database_url, fake_line.url, OFFICE_HOURS="Sat 09:00-09:01",
                                          SUPPORT_CONTACT="โทร 1234"))
    app = create_app(settings, db=db)
    try:
        chat = Line(app.test_client(), fake_line, db)
        said = _texts(chat.say("talk to staff", OTHER_USER))
    finally:
        app.extensions["tisi"].close()
    assert "TISI staff" in said and "Sat 09:00–09:01" in said and "outside office hours" in said
    assert "โทร 1234" in said


def test_a_sticker_during_a_conversation_is_noted_not_answered(db, line):
    line.say("talk to staff")
    sticker = fresh(sample_event("message", "sticker"))
    line.post([sticker])
    assert line.reply_to(sticker["replyToken"]) == []
    with db.sessions() as s:
        assert s.scalar(select(ConversationMessage.text)) == "[sticker]"


def test_two_workers_opening_at_once_make_one_conversation(db, app):
    """The database keeps one open conversation per user, whoever inserts first."""
    from bot.ledger.conversations import open_conversation
    from bot.ledger.invoices import get_or_create_user

    with db.transaction() as s:
        get_or_create_user(s, USER)
    results, barrier = [], threading.Barrier(2)

    def opener():
        barrier.wait()
        with db.transaction() as s:
            user = get_or_create_user(s, USER)
            results.append(open_conversation(s, user)[1])

    threads = [threading.Thread(target=opener) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Conversation)) == 1
    assert sorted(results) == [False, True]


def test_office_hours_parse_and_contain():
    hours = OfficeHours.parse("Mon-Fri 08:30-16:30")
    friday_noon = datetime(2026, 12, 4, 5, 0, tzinfo=timezone.utc)  # 12:00 in Bangkok
    saturday = datetime(2026, 12, 5, 5, 0, tzinfo=timezone.utc)
    late = datetime(2026, 12, 4, 9, 30, tzinfo=timezone.utc)  # 16:30 in Bangkok: closed
    assert hours.contains(friday_noon) and not hours.contains(saturday) and not hours.contains(late)
    assert OfficeHours.parse("Sat-Mon 10:00-12:00").days() == [5, 6, 0]
    for bad in ("Mon-Fri", "Mon-Fri 16:30-08:30", "Xyz 08:00-09:00", "08:00-09:00"):
        try:
            OfficeHours.parse(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


def test_a_sentence_mentioning_staff_reaches_them_and_buttons_keep_their_answers(db, line, seed):
    """Issue 31: "please have staff call me back" during a conversation is for staff (not "already
    open"); the rich menu's buttons and the commands keep their answers."""
    seed(invoice_row(1, license_no="ท5137-2/10"))
    line.say("ติดต่อเจ้าหน้าที่")
    ack = _texts(line.say("รบกวนให้เจ้าหน้าที่โทรกลับที่เบอร์ 081-234-5678 ด้วยครับ"))
    assert "ส่งข้อความของท่านถึงเจ้าหน้าที่แล้ว" in ack and "เปิดอยู่แล้ว" not in ack
    assert "เปิดอยู่แล้ว" in _texts(line.say("ติดต่อเจ้าหน้าที่"))  # the bare command: already open
    for button, answered in (("ประวัติการชำระ", "การชำระ"), ("วิธีใช้", "2568110400012345"),
                             ("ใบอนุญาตของฉัน", "ใบอนุญาต"), ("ขอใบเสร็จ", "ใบเสร็จ")):
        messages = line.say(button)
        assert messages and answered in json_text(messages), button
    with db.sessions() as s:
        kept = [(m.text, m.answered_by_bot) for m in s.scalars(select(ConversationMessage).order_by(ConversationMessage.id))]
    assert kept[0] == ("รบกวนให้เจ้าหน้าที่โทรกลับที่เบอร์ 081-234-5678 ด้วยครับ", False)
    assert all(answered for _, answered in kept[1:]) and len(kept) == 6


def json_text(messages: list[dict]) -> str:
    import json

    return json.dumps(messages, ensure_ascii=False)


def test_the_user_ends_the_chat_and_the_console_says_who(db, line, signed_in):
    line.say("talk to staff")
    ack = line.say("I need help with my documents, please call me")
    assert "To end the chat with staff" in _texts(ack)
    labels = [i["action"].get("label") for i in ack[-1]["quickReply"]["items"]]
    assert "End chat" in labels
    ended = _texts(line.say("end chat"))
    assert "You ended the chat with TISI staff" in ended
    with db.sessions() as s:
        conversation = s.scalar(select(Conversation))
        assert conversation.closed_at is not None and conversation.closed_by == "user"
    assert "2568110400012345" in _texts(line.say("help"))
    assert "There is no open chat" in _texts(line.say("end chat"))
    staff = signed_in("finance")
    page = staff.client.get(f"/staff/conversations/{conversation.id}").get_data(as_text=True)
    assert "(ผู้ใช้)" in page


def test_one_acknowledgement_then_one_more_outside_office_hours(database_url, fake_line, db, clock):
    from bot.factory import create_app
    from tests.conftest import Line

    settings = Settings.from_env(make_env(database_url, fake_line.url, OFFICE_HOURS="Mon-Fri 08:30-16:30"))
    app = create_app(settings, db=db)
    try:
        chat = Line(app.test_client(), fake_line, db)
        clock.at("2030-01-07T10:00:00+07:00")  # a Monday morning
        chat.say("ติดต่อเจ้าหน้าที่")
        first = _texts(chat.say("สอบถามเรื่องเอกสารประกอบคำขอค่ะ"))
        assert "ส่งข้อความของท่านถึงเจ้าหน้าที่แล้ว" in first and "นอกเวลาทำการ" not in first
        assert chat.say("ขอบคุณค่ะ รอคำตอบนะคะ") == []
        clock.at("2030-01-07T20:00:00+07:00")  # the same evening
        evening = _texts(chat.say("ยังรออยู่นะคะ"))
        assert "นอกเวลาทำการ" in evening and "08:30–16:30" in evening
        assert chat.say("ขอบคุณค่ะ") == []  # once outside office hours too
    finally:
        app.extensions["tisi"].close()
