"""Paid notices through the transactional outbox: once per user, whatever LINE or the bank does."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter

import pytest
from sqlalchemy import func, select

from bot.core import delivery
from bot.core.signing import bank_signature
from bot.data.models import Invoice, Notice, Payment
from bot.data.states import WorkerKind
from bot.line.gateway import LineGateway
from bot.runtime import outbox
from bot.runtime.worker import Dispatcher
from tests.conftest import (
    ACCESS_TOKEN,
    BANK_SECRET,
    NO_ENV_FILE,
    OTHER_USER,
    USER,
    claimed_and_planned,
    drain,
    invoice_row,
    make_env,
    wait_for,
)

INV = "2568110400000001"
THIRD_USER = "U" + "c" * 32


def _wait_sent(db, count, timeout=15.0):
    def sent() -> bool:
        with db.sessions() as s:
            return s.scalar(select(func.count()).select_from(Notice).where(Notice.status == "sent")) >= count
    return wait_for(sent, timeout, what=f"{count} notices sent")


def _accepted_per_key(fake):
    return Counter(p.retry_key for p in fake.pushes())


def test_payment_pushes_one_receipt_to_each_user_who_asked(line, bank, seed, fake_line, db):
    row = seed(invoice_row(1, invoice_no=INV))[0]
    line.say(INV)  # asked about the invoice
    line.say("English", user_id=OTHER_USER)
    line.say("ท 5137-2/10", user_id=OTHER_USER)  # asked about its license
    line.say(INV, user_id=THIRD_USER)
    unfollow = {"type": "unfollow", "mode": "active", "timestamp": 1, "source": {"type": "user", "userId": THIRD_USER},
                "webhookEventId": "01UNFOLLOWTHIRD", "deliveryContext": {"isRedelivery": False}}
    assert line.post([unfollow]).status_code == 200  # left: no push
    assert bank.post(bank.body("payment", row, bank_ref="KTBPAY1", channel="MOBILE")).get_json()["respCode"] == "0000"
    assert fake_line.wait_for(lambda f: len(f.pushes()) >= 2)
    drain(db)
    pushes = {p.to: p for p in fake_line.pushes()}
    assert set(pushes) == {USER, OTHER_USER}
    assert all(p.retry_key for p in pushes.values())
    thai = json.dumps(pushes[USER].messages, ensure_ascii=False)
    assert "ได้รับชำระเงินแล้ว" in thai and "1,000.00 บาท" in thai and "KTBPAY1" in thai and "โมบายแบงกิ้ง" in thai
    assert "25 พ.ย. 2569 14:30 น." in thai  # Bangkok time, Buddhist era
    english = json.dumps(pushes[OTHER_USER].messages)
    assert "Payment received" in english and "25 Nov 2026, 14:30" in english and "Mobile banking" in english
    # the chat now shows it paid, with no QR
    messages = line.say(INV)
    assert [m["type"] for m in messages] == ["flex"] and "ชำระแล้ว" in json.dumps(messages[0], ensure_ascii=False)


def test_repeated_payment_and_reversal_give_one_notice_each(line, bank, seed, fake_line, db):
    row = seed(invoice_row(1, invoice_no=INV))[0]
    line.say(INV)
    body = bank.body("payment", row, bank_ref="DUP1")
    for _ in range(3):
        bank.post(body)
    reversal = bank.body("reversal", row, bank_ref="DUP1")
    for _ in range(3):
        bank.post(reversal)
    assert _wait_sent(db, 2)
    drain(db)
    titles = [json.dumps(p.messages, ensure_ascii=False) for p in fake_line.pushes()]
    assert len(titles) == 2
    assert "ได้รับชำระเงินแล้ว" in titles[0] and "รายการชำระถูกยกเลิก" in titles[1]
    messages = line.say(INV)  # payable again
    assert [m["type"] for m in messages] == ["flex", "image"]


def _deliverer(db, fake_line, **kw):
    """A dispatcher with only the notice queue, stepped by the test."""
    gateway = LineGateway(fake_line.url, ACCESS_TOKEN, push_timeout=(1.0, 0.5))
    return Dispatcher(db, [outbox.NoticeQueue(db, gateway, **kw)], kind=WorkerKind.EXTERNAL)


def _queue_notices(db, n, kind="paid"):
    import uuid

    from bot.core.dates import utcnow

    with db.transaction() as s:
        for i in range(n):
            s.add(Notice(retry_key=str(uuid.uuid4()), event_key=f"{kind}:{i}", to_user=f"U{i:032x}",
                         messages=json.dumps([{"type": "text", "text": f"notice {i}"}]), status="pending",
                         attempts=0, next_attempt_at=utcnow(), created_at=utcnow()))


def _deliver_until_done(deliverer, db, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        deliverer.step()
        with db.sessions() as s:
            if not s.scalar(select(func.count()).select_from(Notice).where(Notice.status == "pending")):
                return
        time.sleep(0.05)
    raise AssertionError("notices still pending")


def test_line_failures_then_recovery_deliver_each_notice_once(db, fake_line, monkeypatch):
    monkeypatch.setattr(delivery, "BACKOFF_BASE", 0.05)
    _queue_notices(db, 3)
    fake_line.plan_push_failures({"status": 500}, {"status": 500}, {"status": 500},
                                 {"status": 429, "retry_after": 1}, {"hang": 1.5})
    deliverer = _deliverer(db, fake_line, senders=1)
    started = time.time()
    _deliver_until_done(deliverer, db)
    deliverer.close()
    assert time.time() - started >= 1.0  # Retry-After was honoured
    accepted = _accepted_per_key(fake_line)
    with db.sessions() as s:
        keys = s.scalars(select(Notice.retry_key)).all()
        assert set(s.scalars(select(Notice.status)).all()) == {"sent"}
        assert max(s.scalars(select(Notice.attempts)).all()) > 1
    assert accepted == Counter({k: 1 for k in keys})
    attempts_by_key = Counter(a["key"] for a in fake_line.push_attempts)
    assert sum(attempts_by_key.values()) > len(keys)  # retried with the same key
    assert set(attempts_by_key) == set(keys)


def test_hanging_push_that_reached_line_is_not_sent_twice(db, fake_line, monkeypatch):
    """LINE accepted the push but the answer never came: the retry gets 409 and counts as delivered."""
    monkeypatch.setattr(delivery, "BACKOFF_BASE", 0.05)
    _queue_notices(db, 1)
    fake_line.plan_push_failures({"hang": 1.0})  # sleeps, then accepts: the client has timed out
    deliverer = _deliverer(db, fake_line, senders=1)
    _deliver_until_done(deliverer, db)
    deliverer.close()
    time.sleep(0.6)
    assert len(fake_line.pushes()) == 1
    statuses = [a["step"] for a in fake_line.push_attempts]
    assert len(statuses) == 2


def test_client_error_ends_the_notice_as_failed_with_lines_answer(db, fake_line):
    _queue_notices(db, 1)
    fake_line.plan_push_failures({"status": 400})
    deliverer = _deliverer(db, fake_line)
    _deliver_until_done(deliverer, db)
    deliverer.close()
    with db.sessions() as s:
        notice = s.scalar(select(Notice))
    assert notice.status == "failed" and notice.last_error.startswith("400") and "planned failure" in notice.last_error


def test_backoff_grows_with_jitter_and_honours_retry_after():
    delays = [delivery.backoff(n) for n in range(1, 8)]
    assert all(0 < d <= delivery.BACKOFF_CAP for d in delays)
    assert delivery.backoff(6) > delivery.backoff(1)
    assert delivery.backoff(1, retry_after=30) == 30
    assert len({delivery.backoff(5) for _ in range(20)}) > 1


# -- worker processes -------------------------------------------------------------------------
def _worker(database_url, fake_line, lease="2"):
    env = dict(os.environ, **make_env(database_url, fake_line.url, WORKER="external"))
    exe = os.path.join(os.path.dirname(sys.executable), "tisi-pay")
    return subprocess.Popen([exe, "worker", "--lease", lease], cwd=NO_ENV_FILE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_worker_killed_mid_batch_and_restarted_delivers_each_notice_once(database_url, db, fake_line):
    total = 80
    _queue_notices(db, total)
    fake_line.push_delay = 0.05
    worker = _worker(database_url, fake_line)
    try:
        assert fake_line.wait_for(lambda f: len(f.pushes()) >= 10, timeout=20)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        delivered_at_kill = len(fake_line.pushes())
        assert delivered_at_kill < total
        worker = _worker(database_url, fake_line)
        assert _wait_sent(db, total, timeout=40)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    with db.sessions() as s:
        keys = s.scalars(select(Notice.retry_key)).all()
    assert _accepted_per_key(fake_line) == Counter({k: 1 for k in keys})


@pytest.mark.slow
def test_two_workers_never_send_a_notice_twice(database_url, db, fake_line):
    total = 120
    _queue_notices(db, total)
    fake_line.push_delay = 0.01
    workers = [_worker(database_url, fake_line, lease="60") for _ in range(2)]
    try:
        assert _wait_sent(db, total, timeout=40)
    finally:
        for w in workers:
            w.terminate()
            w.wait(timeout=10)
    attempts = Counter(a["key"] for a in fake_line.push_attempts)
    assert len(attempts) == total and set(attempts.values()) == {1}  # not even a 409 retry


# -- concurrency on PostgreSQL ------------------------------------------------------------------
@pytest.mark.slow
def test_50_concurrent_duplicate_payments(database_url, live_server, line, seed, db, fake_line):
    row = seed(invoice_row(1, invoice_no=INV))[0]
    line.say(INV)
    line.say(INV, user_id=OTHER_USER)
    raw = json.dumps({"command": "payment", "bankCode": "006", "bankRef": "RACE1", "billerId": "099999999999990",
                      "ref1": row["invoice_no"], "ref2": row["ref2"], "amount": "1000.00", "channel": "QR",
                      "transDateTime": "2026-11-25T14:30:00+07:00"}).encode()
    barrier = threading.Barrier(50)
    answers = []

    def call():
        ts = str(int(time.time()))
        req = urllib.request.Request(f"{live_server}/bank/ktb/billpayment", data=raw, method="POST", headers={
            "Content-Type": "application/json", "X-Bank-Timestamp": ts, "X-Bank-Signature": bank_signature(BANK_SECRET, ts, raw)})
        barrier.wait()
        with urllib.request.urlopen(req, timeout=30) as resp:
            answers.append((resp.status, resp.read()))

    threads = [threading.Thread(target=call) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 50 and len(set(answers)) == 1
    assert json.loads(answers[0][1])["respCode"] == "0000"
    assert _wait_sent(db, 2)
    drain(db)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1
        assert s.scalar(select(func.count()).select_from(Notice)) == 2
        assert s.scalar(select(Invoice.status)) == "paid"
    assert sorted(p.to for p in fake_line.pushes()) == sorted([USER, OTHER_USER])


def test_a_claim_reads_the_pending_notices_through_their_partial_index(db, fake_line):
    """However many sent notices the table keeps, a claim visits only the pending ones: the
    statement it runs can use ix_notices_pending (as the inbox's claim uses ix_inbox_waiting)."""
    import uuid

    from bot.core.dates import utcnow
    from bot.data.states import NoticeStatus

    with db.transaction() as s:
        s.add(Notice(retry_key=str(uuid.uuid4()), event_key="paid:1", to_user=USER, messages="[]",
                     status=NoticeStatus.PENDING, attempts=0, next_attempt_at=utcnow(), created_at=utcnow()))
    queue = outbox.NoticeQueue(db, LineGateway(fake_line.url, ACCESS_TOKEN))
    claimed, plan = claimed_and_planned(db, "notices", lambda session: queue.claim(session, 64))
    assert len(claimed) == 1
    assert any("ix_notices_pending" in line for line in plan), plan
