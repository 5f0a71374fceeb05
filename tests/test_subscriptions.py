"""Subscriptions with consent, new-invoice notices, reminders (`tisi-pay remind --at`), quiet
hours and payment history — through the real app, the real CLI and the fake LINE API."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import func, select

from bot.core.dates import BANGKOK, today_bangkok
from bot.core.thaiqr import parse_tlv
from bot.data.models import Notice, Subscription
from tests.conftest import (
    API_TOKEN,
    BILLER_ID,
    USER,
    drain,
    fresh,
    invoice_row,
    make_env,
    sample_event,
)

LIC = "ท5137-2/10"
OTHER = "U" + "b" * 32
THIRD = "U" + "c" * 32
BASE = "http://127.0.0.1:8080"


def postback(data: str, user_id: str = USER) -> dict:
    event = fresh(sample_event("postback"), user_id)
    event["postback"] = {"data": data}
    return event


def _texts(messages) -> str:
    return json.dumps(messages, ensure_ascii=False)


def _subscribe_quick_reply(messages) -> dict:
    items = messages[-1]["quickReply"]["items"]
    found = [i["action"] for i in items if i["action"]["type"] == "postback" and "subscribe" in i["action"]["data"]]
    assert len(found) == 1
    return found[0]


def _active(db, user_id=USER) -> list[Subscription]:
    from bot.data.models import LineUser

    with db.sessions() as s:
        return list(s.scalars(select(Subscription).join(LineUser, LineUser.id == Subscription.line_user_id)
                              .where(LineUser.user_id == user_id, Subscription.withdrawn_at.is_(None))))


def _remind(settings_env: dict, at: str) -> str:
    from bot.cli import cli

    result = CliRunner().invoke(cli, ["remind", "--at", at], env=settings_env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _pushes_to(fake, user_id):
    return [p for p in fake.pushes() if p.to == user_id]


def _settle_pushes(fake, db, count, timeout=10.0):
    """The pushes, once `count` came and the workers have nothing left to send (none more will)."""
    assert fake.wait_for(lambda f: len(f.pushes()) >= count, timeout), f"{len(fake.pushes())} pushes, wanted {count}"
    drain(db, timeout)
    return fake.pushes()


@pytest.fixture
def env(database_url, fake_line):
    return make_env(database_url, fake_line.url)


# -- subscribing ---------------------------------------------------------------------------------
def test_quick_reply_subscribes_with_recorded_consent(line, seed, db):
    seed(invoice_row(1, license_no=LIC))
    card = line.say("2568110400000001")
    action = _subscribe_quick_reply(card)
    assert action["label"] == "🔔 แจ้งเตือน" and "license" in action["data"]
    event = postback(action["data"])
    line.post([event])
    answer = line.reply_to(event["replyToken"])
    sentence = answer[0]["text"]
    assert LIC in sentence and "ยกเลิกแจ้งเตือน" in sentence and "7 และ 1 วัน" in sentence
    [sub] = _active(db)
    assert sub.license_no == LIC and sub.consent_text == sentence and sub.consent_lang == "th"
    assert sub.created_at is not None and sub.withdrawn_at is None
    # again: already on, nothing new stored
    assert "อยู่แล้ว" in line.say(f"แจ้งเตือน {LIC}")[0]["text"]
    assert len(_active(db)) == 1


def test_invoice_without_license_subscribes_to_the_invoice(line, seed, db):
    seed(invoice_row(2, license_no=""))
    messages = line.say("subscribe 2568110400000002")
    assert "2568110400000002" in messages[0]["text"]
    [sub] = _active(db)
    assert sub.license_no is None and sub.invoice_id is not None


def test_unsubscribe_by_text_and_my_licenses_button(line, seed, db):
    seed(invoice_row(1, license_no=LIC), invoice_row(2, license_no="ส1-1/2568"))
    line.say("English")
    line.say(f"subscribe {LIC}")
    line.say("subscribe ส 1-1/2568")
    mine = line.say("my licenses")
    text = _texts(mine)
    assert LIC in text and "ส1-1/2568" in text and "Stop notifications" in text
    buttons = [c for item in mine[0]["contents"]["body"]["contents"] for c in item["contents"] if c["type"] == "button"]
    assert len(buttons) == 2
    event = postback(buttons[0]["action"]["data"])
    line.post([event])
    assert "are off" in line.reply_to(event["replyToken"])[0]["text"]
    assert [s.license_no for s in _active(db)] == ["ส1-1/2568"]
    assert "are off" in line.say("unsubscribe ส 1-1/2568")[0]["text"]
    assert _active(db) == []
    with db.sessions() as s:  # consent records are kept, withdrawn
        assert s.scalar(select(func.count()).select_from(Subscription).where(Subscription.withdrawn_at.is_not(None))) == 2
    assert "You have none yet" in line.say("my licenses")[0]["text"]


def test_bad_input_gets_an_answer_and_stores_nothing(line, seed, db):
    seed(invoice_row(1, license_no=LIC))
    assert "ไม่พบใบอนุญาต" in line.say("แจ้งเตือน ท 9999-9/99")[0]["text"]
    long_text = "แจ้งเตือน " + LIC + " " + "ก" * 4990
    assert len(long_text) >= 5000
    assert "ยาวเกินไป" in line.say(long_text)[0]["text"]
    assert "ใบอนุญาตเลขที่ใด" in line.say("แจ้งเตือน")[0]["text"]
    assert _active(db) == []
    # someone else's unsubscribe postback: not found, their subscription untouched
    line.say(f"แจ้งเตือน {LIC}", user_id=OTHER)
    [theirs] = _active(db, OTHER)
    for data in (f"action=unsubscribe&id={theirs.id}", "action=unsubscribe&id=abc", "action=unsubscribe&id=" + "9" * 40,
                 "action=subscribe&license=" + "x" * 400, "action=subscribe&no=1' OR 1=1"):
        event = postback(data)
        line.post([event])
        assert line.reply_to(event["replyToken"]), data
    assert [s.id for s in _active(db, OTHER)] == [theirs.id] and _active(db) == []


# -- new invoice notices -------------------------------------------------------------------------
def _decoded_qr(client, messages) -> dict:
    image = next(m for m in messages if m["type"] == "image")
    png = client.get(image["originalContentUrl"].replace(BASE, "")).data
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return parse_tlv(parse_tlv(code.text)["30"])


def test_new_invoice_for_a_subscribed_license_is_pushed_once(line, seed, client, fake_line, db, env, tmp_path):
    seed(invoice_row(1, license_no=LIC))
    line.say(f"แจ้งเตือน {LIC}")
    line.say(f"แจ้งเตือน {LIC}", user_id=OTHER)
    line.post([{**fresh(sample_event("unfollow"), OTHER)}])  # blocked the account: gets nothing
    line.say("ท 5137-2/10", user_id=THIRD)  # asked, never subscribed: gets nothing
    new = invoice_row(7, license_no=LIC, amount="2500.00")
    csv = tmp_path / "new.csv"
    csv.write_text(",".join(new) + "\n" + ",".join(str(v) for v in new.values()) + "\n", encoding="utf-8")
    from bot.cli import cli

    for _ in range(2):  # the same file twice: one notice
        result = CliRunner().invoke(cli, ["invoices", "import", str(csv)], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert "new-invoice notices queued for subscribers: 1" in result.output or "unchanged: 1" in result.output
    [push] = _settle_pushes(fake_line, db, 1)
    assert push.to == USER
    assert "ใบแจ้งหนี้ใหม่" in push.messages[0]["text"] and "2,500.00 บาท" in push.messages[0]["text"]
    assert _decoded_qr(client, push.messages) == {"00": "A000000677010112", "01": BILLER_ID,
                                                  "02": new["invoice_no"], "03": new["ref2"]}
    # an API upsert of another new invoice: one more push; the unchanged one again: nothing
    newer = invoice_row(8, license_no=LIC)
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    assert client.post("/api/v1/invoices", json=[new, newer], headers=auth).status_code == 200
    pushes = _settle_pushes(fake_line, db, 2)
    assert [p.to for p in pushes] == [USER, USER] and newer["invoice_no"] in _texts(pushes[1].messages)


def test_new_invoice_inside_quiet_hours_waits_until_they_end(db, database_url, fake_line):
    from bot.config import Settings
    from bot.ledger.invoices import get_or_create_user, upsert_invoices
    from bot.ledger.reminders import queue_new_invoice_notices
    from bot.ledger.subscriptions import Target, subscribe
    from bot.render.links import make_links

    settings = Settings.from_env(make_env(database_url, fake_line.url, QUIET_HOURS="20:00-08:00"))
    with db.transaction() as s:
        upsert_invoices(s, [(2, invoice_row(1, license_no=LIC))], actor="test")
        subscribe(s, get_or_create_user(s, USER), Target(license_no=LIC), consent_text="ok", lang="th")
    with db.transaction() as s:
        result = upsert_invoices(s, [(2, invoice_row(2, license_no=LIC))], actor="test")
        night = datetime(2026, 12, 1, 22, 30, tzinfo=BANGKOK)
        assert queue_new_invoice_notices(s, result.created_ids, settings, make_links(settings), night) == 1
    with db.sessions() as s:
        notice = s.scalar(select(Notice))
    assert notice.next_attempt_at.astimezone(BANGKOK) == datetime(2026, 12, 2, 8, 0, tzinfo=BANGKOK)


# -- reminders -----------------------------------------------------------------------------------
def test_remind_7_and_1_days_before_and_after_each_once(line, seed, fake_line, env, db):
    due = today_bangkok() + timedelta(days=20)
    row = seed(invoice_row(1, license_no=LIC, due_date=due.isoformat()))[0]
    line.say(f"แจ้งเตือน {LIC}")
    line.say("English", user_id=OTHER)
    line.say(f"subscribe {LIC}", user_id=OTHER)
    line.say(f"แจ้งเตือน {LIC}", user_id=THIRD)
    line.say(f"ยกเลิกแจ้งเตือน {LIC}", user_id=THIRD)  # withdrew: nothing
    at = lambda d, hm="09:00": f"{(due - timedelta(days=d)).isoformat()}T{hm}"  # noqa: E731

    assert "nothing due" in _remind(env, at(10))
    out = _remind(env, at(7))
    assert "queued 2" in out and "7-day reminders: 2" in out
    pushes = _settle_pushes(fake_line, db, 2)
    assert {p.to for p in pushes} == {USER, OTHER}
    th = _texts(_pushes_to(fake_line, USER)[0].messages)
    assert "อีก 7 วัน" in th and row["invoice_no"] in th
    assert "due in 7 days" in _texts(_pushes_to(fake_line, OTHER)[0].messages)
    assert "queued 0" in _remind(env, at(7)) and "queued 0" in _remind(env, at(6, "10:00"))  # same window: nothing
    assert "1-day reminders: 2" in _remind(env, at(1))
    assert "queued 0" in _remind(env, at(0))  # due today: the 1-day reminder already went
    assert "overdue notices: 2" in _remind(env, at(-1))
    assert "queued 0" in _remind(env, at(-2))
    pushes = _settle_pushes(fake_line, db, 6)
    assert len(pushes) == 6 and len({(p.to, json.dumps(p.messages)) for p in pushes}) == 6
    # Pushes may arrive in any order (senders work in parallel): find the overdue one by its words.
    [overdue] = [p for p in _pushes_to(fake_line, USER) if "เกินกำหนดชำระเมื่อ" in p.messages[0]["text"]]
    assert "image" not in [m["type"] for m in overdue.messages]  # an expired invoice gets no QR


def test_quiet_hours_hold_reminders_until_the_next_run_after_them(line, seed, fake_line, env, db):
    env = {**env, "QUIET_HOURS": "20:00-08:00"}
    due = today_bangkok() + timedelta(days=10)
    seed(invoice_row(1, license_no=LIC, due_date=due.isoformat()))
    line.say(f"แจ้งเตือน {LIC}")
    day = (due - timedelta(days=7)).isoformat()
    assert "QUIET_HOURS" in _remind(env, f"{day}T21:00")
    assert "QUIET_HOURS" in _remind(env, f"{day}T07:59")
    drain(db)
    assert fake_line.pushes() == []
    assert "7-day reminders: 1" in _remind(env, f"{day}T08:00")
    _settle_pushes(fake_line, db, 1)
    quiet_off = {**env, "QUIET_HOURS": "off"}
    assert "queued 0" in _remind(quiet_off, f"{day}T23:00")


def test_blocked_user_gets_nothing_until_they_follow_again(line, seed, fake_line, env):
    due = today_bangkok() + timedelta(days=10)
    seed(invoice_row(1, license_no=LIC, due_date=due.isoformat()))
    line.say(f"แจ้งเตือน {LIC}")
    line.post([fresh(sample_event("unfollow"), USER)])
    assert "nothing due" in _remind(env, f"{(due - timedelta(days=7)).isoformat()}T09:00")
    line.post([fresh(sample_event("follow"), USER)])
    assert "7-day reminders: 1" in _remind(env, f"{(due - timedelta(days=6)).isoformat()}T09:00")


def test_two_remind_processes_at_once_push_each_reminder_once(line, seed, fake_line, env, db):
    due = today_bangkok() + timedelta(days=7)
    seed(*[invoice_row(i, license_no=LIC, due_date=due.isoformat()) for i in range(1, 11)])
    users = [f"U{i:032x}" for i in range(1, 21)]
    for user in users:
        line.say(f"แจ้งเตือน {LIC}", user_id=user)
    exe = os.path.join(os.path.dirname(sys.executable), "tisi-pay")
    at = f"{today_bangkok().isoformat()}T10:00"
    procs = [subprocess.Popen([exe, "remind", "--at", at], env={**os.environ, **env}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    queued = [int(out.split("queued ")[1].split(" ")[0]) for out, _ in outputs]
    assert sum(queued) == 200, outputs  # 20 users x 10 invoices, split between the two however it fell
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Notice).where(Notice.event_key.like("remind7:%"))) == 200
    pushes = _settle_pushes(fake_line, db, 200, timeout=30)
    assert len(pushes) == 200 and len({(p.to, json.dumps(p.messages)) for p in pushes}) == 200


# -- history -------------------------------------------------------------------------------------
def test_history_shows_only_the_users_own_payments(line, seed, bank):
    mine, theirs, license_row = seed(invoice_row(1, license_no=""), invoice_row(2, license_no=""),
                                     invoice_row(3, license_no=LIC))
    line.say(mine["invoice_no"])
    line.say(f"แจ้งเตือน {LIC}")
    line.say(theirs["invoice_no"], user_id=OTHER)
    assert "ยังไม่มี" in line.say("ประวัติการชำระ")[0]["text"]
    for row, ref in ((mine, "KTBMINE1"), (theirs, "KTBTHEIRS"), (license_row, "KTBLIC1")):
        assert bank.post(bank.body("payment", row, bank_ref=ref)).get_json()["respCode"] == "0000"
    text = _texts(line.say("ประวัติการชำระ"))
    assert "KTBMINE1" in text and "KTBLIC1" in text and "KTBTHEIRS" not in text and theirs["invoice_no"] not in text
    assert "25 พ.ย. 2569 14:30 น." in text and "1,000.00 บาท" in text
    other = _texts(line.say("history", user_id=OTHER))
    assert "KTBTHEIRS" in other and "KTBMINE1" not in other


def test_a_subscription_to_one_invoice_is_listed_and_stopped_by_its_number(line, seed, db):
    """An invoice without a license: "my licenses" names it by its number, and its button stops it
    (both once failed on the subscription's invoice, and the user got an apology)."""
    seed(invoice_row(2, license_no=""))
    line.say("English")
    line.say("subscribe 2568110400000002")
    mine = line.say("my licenses")
    assert "Invoice 2568110400000002" in _texts(mine)
    [button] = [c for item in mine[0]["contents"]["body"]["contents"] for c in item["contents"] if c["type"] == "button"]
    event = postback(button["action"]["data"])
    line.post([event])
    assert "Notifications for 2568110400000002 are off" in line.reply_to(event["replyToken"])[0]["text"]
    assert _active(db) == []
