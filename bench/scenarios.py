"""The benchmark scenarios. Each returns rows for the table; sizes shrink with quick=True."""
from __future__ import annotations

import http.client
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack, contextmanager, nullcontext
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

from bench.common import (
    BANK_SECRET,
    BILLER_ID,
    BIN,
    CHANNEL_SECRET,
    KTB_COMCODE,
    KTB_PASSWORD,
    KTB_USER,
    OUT,
    ROOT,
    children,
    cpu_snapshot,
    cpu_used,
    env_for,
    fake_latency,
    fake_line,
    fake_reset,
    fake_stats,
    free_port,
    gunicorn,
    load,
    pct,
    pg_database,
    process,
    rss_mb,
    send_each_once,
    summary,
)
from bot.core.signing import bank_signature, line_signature

TAX_ID = "0105550123451"


def _database(backend: str, name: str) -> str:
    if backend == "postgresql":
        return pg_database(name).replace("postgresql://", "postgresql+psycopg://")
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _invoice_rows(n: int, start: int = 0) -> list[dict]:
    due = (date.today() + timedelta(days=60)).isoformat()
    return [{"invoice_no": f"2568{i:012d}", "ref2": f"{i % 100000000:08d}", "license_no": f"ท{1000 + i // 3}-1/68",
             "tax_id": TAX_ID, "payer_name": "บริษัท ทดสอบ จำกัด", "fee_code": "LICENSE", "description": "bench",
             "amount": f"{1000 + i % 500}.00", "due_date": due} for i in range(start, start + n)]


def _prepare(url: str, n_invoices: int) -> None:
    from bot.data.db import Database
    from bot.data.migrate import upgrade
    from bot.ledger.invoices import upsert_invoices

    upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        upsert_invoices(session, enumerate(_invoice_rows(n_invoices)), actor="bench")
    db.dispose()


def _text_event_body(text: str, user: str) -> bytes:
    event = {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
             "source": {"type": "user", "userId": user}, "webhookEventId": uuid.uuid4().hex.upper()[:26],
             "deliveryContext": {"isRedelivery": False}, "replyToken": uuid.uuid4().hex,
             "message": {"id": str(random.randrange(10**17)), "type": "text", "text": text, "quoteToken": "q"}}
    return json.dumps({"destination": "U" + "0" * 32, "events": [event]}, ensure_ascii=False).encode()


def _webhook_bodies(count: int, n_invoices: int) -> list[tuple[bytes, dict]]:
    out = []
    for i in range(count):
        body = _text_event_body(f"ขอชำระใบแจ้งหนี้ 2568{i % n_invoices:012d} ครับ", f"U{i % 500:032x}")
        out.append((body, {"X-Line-Signature": line_signature(CHANNEL_SECRET, body)}))
    return out


def _token(body: bytes) -> str:
    return json.loads(body)["events"][0]["replyToken"]


def webhook(backend: str, quick: bool) -> list[dict]:
    """Replies delivered per second at the fake LINE API: ours against the smallest correct bot
    (same gunicorn settings, 2 sync workers; same fake), with LINE answering at once and with
    LINE taking 100 ms per call, and against a Celery bot (two worker processes). Ours runs as
    shipped (WORKER=inline: the web processes reply) and as the Celery bot is laid out
    (WORKER=external, two `tisi-pay worker` processes beside the same gunicorn).

    Replies, not webhook answers: ours answers LINE as soon as the events are stored and replies
    from its workers, so only the fake LINE API sees the work done. Ours and the baseline run in
    turns, several rounds, and the median of the rounds' ratios is reported.
    """
    duration, concurrency, n_inv, rounds = (1.0, 4, 50, 1) if quick else (10.0, 8, 1000, 3)
    url = _database(backend, f"bench_webhook_{backend}")
    _prepare(url, n_inv)
    rows = []
    with fake_line() as fake_url:
        # Quick (the test suite: does every variant still run?): LINE at once only, not also at
        # +100 ms — half the gunicorn and Celery starts, each of which costs seconds.
        for latency in (0.0,) if quick else (0.0, 0.1):
            ratios: dict[str, list[float]] = {}
            for round_no in range(1, rounds + 1):
                results = {}
                for name, app in (("baseline", "bench.baseline_app:app"), ("celery", "bench.celery_app:app"),
                                  ("ours", "app:app"), ("ours external", "app:app")):
                    row = _webhook_run(backend, name, app, url, fake_url, n_inv, concurrency, duration, quick, latency)
                    row["round"] = round_no
                    results[name] = row
                    rows.append(row)
                for ours in ("ours", "ours external"):
                    for base in ("baseline", "celery"):
                        ratios.setdefault(f"{ours}/{base}", []).append(
                            results[ours]["replies_per_s"] / max(results[base]["replies_per_s"], 0.1))
            for pair, values in ratios.items():
                rows.append({"benchmark": f"webhook {backend}", "variant": f"ratio {pair}, LINE +{latency * 1000:.0f} ms",
                             "ratio": round(sorted(values)[len(values) // 2], 3), "rounds": [round(r, 3) for r in values]})
        port = free_port()
        with gunicorn("app:app", env_for(url, fake_url, port), port):
            # One message at a time on an idle system: from sending the webhook to the reply
            # having reached the (fake) LINE API.
            fake_reset(fake_url)
            bodies = _webhook_bodies(50 if quick else 500, n_inv)
            sent_at = {}
            for body, headers in bodies:
                sent_at[_token(body)] = time.time()
                send_each_once(port, "/callback", [(body, headers)], 1, 60)
                time.sleep(0.02)
            _wait_replies(fake_url, len(bodies), 30)
            reply_at = dict(fake_stats(fake_url)["reply_at"])
        latencies = [(reply_at[t] - sent_at[t]) * 1000 for t in sent_at if t in reply_at]
        rows.append({"benchmark": f"webhook {backend}", "variant": "ours, one at a time (webhook to reply at LINE)",
                     **summary(latencies), "replied": len(latencies), "sent": len(bodies)})
    return rows


def _wait_replies(fake_url: str, count: int, timeout: float) -> int:
    deadline = time.time() + timeout
    while True:
        seen = fake_stats(fake_url)["replies"]
        if seen >= count or time.time() > deadline:
            return seen
        time.sleep(0.1)


@contextmanager
def _celery_workers(env: dict, processes: int = 2, threads: int = 32):
    """The Celery baseline's workers: thread pools sized for LINE's latency, one process per core."""
    celery = str(Path(sys.executable).parent / "celery")
    subprocess.run([celery, "-A", "bench.celery_app:celery", "purge", "-f"], env=env, cwd=ROOT, capture_output=True)
    with ExitStack() as stack:
        for i in range(processes):
            stack.enter_context(process([celery, "-A", "bench.celery_app:celery", "worker", "--pool", "threads",
                                         "--concurrency", str(threads), "-n", f"bench{i}@%h", "--loglevel", "warning",
                                         "--without-gossip", "--without-mingle", "--without-heartbeat"], env=env))
        time.sleep(3.0)  # connected to the broker
        yield
    subprocess.run([celery, "-A", "bench.celery_app:celery", "purge", "-f"], env=env, cwd=ROOT, capture_output=True)


@contextmanager
def _our_workers(env: dict, processes: int = 2):
    """`tisi-pay worker` processes, as many as the Celery baseline has (WORKER=external)."""
    with ExitStack() as stack:
        yield [stack.enter_context(process([str(BIN / "tisi-pay"), "worker"], env=env)) for _ in range(processes)]


def _webhook_run(backend, name, app, url, fake_url, n_inv, concurrency, duration, quick, latency) -> dict:
    port = free_port()
    external = name == "ours external"
    env = env_for(url, fake_url, port, **({"WORKER": "external"} if external else {}))
    # Quick (the test suite, beside other tests on the same PostgreSQL): 4 threads a process, not 32
    # (each thread may hold a connection; 2 x 32 of them and ours beside left others none).
    helpers = (_celery_workers(env, threads=4 if quick else 32) if name == "celery"
               else _our_workers(env) if external else nullcontext())
    with gunicorn(app, env, port) as proc, helpers:
        fake_reset(fake_url)
        fake_latency(fake_url, latency)
        load(port, "/callback", _webhook_bodies(200 if quick else 1000, n_inv), concurrency,
             1.0 if quick else 3.0, warmup=True)
        _wait_replies(fake_url, 10**9, 0)
        time.sleep(0.5 if quick else 3.0)  # the warm-up's replies drain
        rss_before = [rss_mb(p) for p in children(proc.pid)]
        fake_reset(fake_url)
        fake_latency(fake_url, latency)
        # More bodies than either can take in the time: each is sent once.
        cpu_before = cpu_snapshot()
        started = time.time()
        result = load(port, "/callback", _webhook_bodies(int(4000 * duration), n_inv), concurrency, duration)
        ended = time.time()
        cpu = cpu_used(cpu_before, cpu_snapshot())
        reply_at = [at for _, at in fake_stats(fake_url)["reply_at"]]
        in_window = sum(started <= at <= ended for at in reply_at)
        drained = _wait_replies(fake_url, result["requests"], 60)
        rss_after = [rss_mb(p) for p in children(proc.pid)]
    return {"benchmark": f"webhook {backend}", "variant": f"{name}, LINE +{latency * 1000:.0f} ms",
            "replies_per_s": round(in_window / (ended - started), 1), "webhook_answers_per_s": result["rps"],
            "answer_median_ms": result["median_ms"], "answer_p99_ms": result["p99_ms"],
            "requests": result["requests"], "errors": result["errors"], "replies_seen_by_fake_line": drained,
            "concurrency": concurrency, "worker_rss_mb_before": rss_before, "worker_rss_mb_after": rss_after,
            "generator": result["generator"],
            # CPU milliseconds per reply delivered in the window, by role: where a 2-core machine's time went.
            "cpu_ms_per_reply": {role: round(seconds * 1000 / max(in_window, 1), 2) for role, seconds in sorted(cpu.items())},
            "cpu_busy_pct": round(sum(cpu.values()) * 100 / (ended - started) / (os.cpu_count() or 1), 1)}


def slow_line(backend: str, quick: bool) -> list[dict]:
    """While LINE is slow (3 s a call) or hangs: how long LINE's webhook waits for our answer
    (8 connections), and how long the bank waits for a payment confirmation (8 connections;
    every payment queues a push to a watcher, and every push hangs)."""
    duration = 1.0 if quick else 10.0
    rows = []
    url = _database(backend, f"bench_slowline_{backend}")
    _prepare(url, 50)
    with fake_line() as fake_url:
        port = free_port()
        with gunicorn("app:app", env_for(url, fake_url, port), port):
            fake_reset(fake_url)
            fake_latency(fake_url, 3.0)
            result = load(port, "/callback", _webhook_bodies(int(4000 * duration), 50), 8, duration)
            rows.append({"benchmark": f"slow line {backend}", "variant": "/callback answers while LINE takes 3 s",
                         **_pick(result)})
    n = int(3000 * duration)
    invoices = _invoice_rows(n, start=5000)
    _watched(url, invoices)
    # A fake LINE of its own: hanging calls pile up in its threads, and it is thrown away after.
    with fake_line() as hanging_url:
        port = free_port()
        with gunicorn("app:app", env_for(url, hanging_url, port), port):
            fake_latency(hanging_url, 30.0)  # every push hangs past its timeout
            bodies = [_bank_body(inv, f"HANG{i:08d}") for i, inv in enumerate(invoices)]
            result = load(port, "/bank/ktb/billpayment", bodies, 8, duration)
            pending = _pending(url)
            rows.append({"benchmark": f"slow line {backend}", "variant": "bank payments while LINE hangs",
                         **_pick(result), "notices_waiting_on_line": pending})
    return rows


def _watched(url: str, invoices: list[dict]) -> None:
    """The invoices, each with a LINE user who asked about it (so each payment queues a push)."""
    from sqlalchemy import select

    from bot.core.dates import utcnow
    from bot.data.db import Database
    from bot.data.models import Invoice, LineUser, Watch
    from bot.ledger.invoices import upsert_invoices

    db = Database(url)
    with db.transaction() as s:
        upsert_invoices(s, enumerate(invoices), actor="bench")
        ids = dict(s.execute(select(Invoice.invoice_no, Invoice.id)
                             .where(Invoice.invoice_no.in_([i["invoice_no"] for i in invoices]))).all())
        users = [LineUser(user_id=f"U{i + 90000:032x}", language="th", followed=True, created_at=utcnow(),
                          updated_at=utcnow()) for i in range(len(invoices))]
        s.add_all(users)
        s.flush()
        s.add_all(Watch(line_user_id=u.id, invoice_id=ids[inv["invoice_no"]], created_at=utcnow())
                  for u, inv in zip(users, invoices))
    db.dispose()


def memory(backend: str, quick: bool) -> list[dict]:
    """RSS of one web worker across 10,000 webhook requests, sampled as they go."""
    total, step = (300, 100) if quick else (10000, 2500)
    url = _database(backend, f"bench_memory_{backend}")
    _prepare(url, 200)
    samples = []
    with fake_line() as fake_url:
        port = free_port()
        with gunicorn("app:app", env_for(url, fake_url, port), port, workers=1) as proc:
            worker = children(proc.pid)[0]
            samples.append((0, rss_mb(worker)))
            sent = 0
            while sent < total:
                send_each_once(port, "/callback", _webhook_bodies(step, 200), 4, 600)  # exactly `step` requests
                sent += step
                samples.append((sent, rss_mb(worker)))
    growth = samples[-1][1] - samples[1][1] if len(samples) > 2 else float("nan")
    return [{"benchmark": f"memory {backend}", "variant": "one gunicorn worker", "requests": total,
             "rss_mb_samples": samples, "rss_mb_final": samples[-1][1], "growth_after_first_step_mb": round(growth, 1)}]


def qr(backend: str, quick: bool) -> list[dict]:
    """GET /qr/<token>.png over HTTP against gunicorn: cold (first time a PNG is made) and warm."""
    from sqlalchemy import select

    from bot.core.tokens import make_token
    from bot.data.db import Database
    from bot.data.models import Invoice

    n_cold, n_warm = (20, 100) if quick else (300, 2000)
    url = _database(backend, f"bench_qr_{backend}")
    _prepare(url, n_cold)
    db = Database(url)
    with db.sessions() as s:
        tokens = [make_token("bench-secret", "qr", p) for p in s.scalars(select(Invoice.public_id))]
    db.dispose()
    rows = []
    with fake_line() as fake_url:
        port = free_port()
        with gunicorn("app:app", env_for(url, fake_url, port), port, workers=1):
            def get(token):
                start = time.perf_counter()
                conn = http.client.HTTPConnection("127.0.0.1", port)
                conn.request("GET", f"/qr/{token}.png")
                resp = conn.getresponse()
                resp.read()
                conn.close()
                assert resp.status == 200, resp.status
                return (time.perf_counter() - start) * 1000

            cold = [get(t) for t in tokens]
            warm = [get(tokens[0]) for _ in range(n_warm)]
    rows.append({"benchmark": f"qr png {backend}", "variant": "cold", **summary(cold)})
    rows.append({"benchmark": f"qr png {backend}", "variant": "warm", **summary(warm)})
    return rows


def slip(backend: str, quick: bool) -> list[dict]:
    """The pay-in slip PDF: made in process (cold: laid out; cached: the same slip again), and
    GET /slip/<token>.pdf over HTTP against gunicorn, cold and cached, beside GET /qr warm.

    Requests come through a trusted proxy (X-Forwarded-For), each from its own client address,
    so the 60-a-minute limit per client is not what is measured."""
    from sqlalchemy import select

    from bot.core.tokens import make_token
    from bot.data.db import Database
    from bot.data.models import Invoice
    from bot.render.slip import SlipData, render_slip, slip_pdf

    n_cold, n_warm = (5, 50) if quick else (100, 2000)
    data = [SlipData(biller_id="099999999999990", invoice_no=f"25691126{i:08d}", ref2=f"6911{i:04d}",
                     amount=Decimal("15750.50") + i, due_date=date(2026, 12, 31), payer_name="บริษัท ทดสอบการผลิต จำกัด",
                     tax_id="0105553000001", fee_name="Certification fee", license_no="ท5137-2/10", support_contact="",
                     issued_at=datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc))
            for i in range(n_cold)]
    made_cold = []
    for d in data:
        start = time.perf_counter()
        slip_pdf(d)
        made_cold.append((time.perf_counter() - start) * 1000)
    made_cached = []
    for _ in range(n_warm):
        start = time.perf_counter()
        slip_pdf(data[0])
        made_cached.append((time.perf_counter() - start) * 1000)
    size = len(render_slip(data[0]))
    rows = [{"benchmark": "slip pdf in process", "variant": "cold (layout)", **summary(made_cold), "bytes": size},
            {"benchmark": "slip pdf in process", "variant": "cached", **summary(made_cached)}]

    url = _database(backend, f"bench_slip_{backend}")
    _prepare(url, n_cold)
    db = Database(url)
    with db.sessions() as s:
        ids = list(s.scalars(select(Invoice.public_id)))
    db.dispose()
    slips = [make_token("bench-secret", "slip", p) for p in ids]
    qr_token = make_token("bench-secret", "qr", ids[0])
    clients = iter(range(1, 10_000_000))
    with fake_line() as fake_url:
        port = free_port()
        with gunicorn("app:app", env_for(url, fake_url, port, TRUSTED_PROXIES="127.0.0.1"), port, workers=1):
            def get(path, kind):
                n = next(clients)
                start = time.perf_counter()
                conn = http.client.HTTPConnection("127.0.0.1", port)
                conn.request("GET", path, headers={"X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"})
                resp = conn.getresponse()
                body = resp.read()
                conn.close()
                assert resp.status == 200 and resp.getheader("Content-Type", "").startswith(kind), (resp.status, body[:200])
                return (time.perf_counter() - start) * 1000

            cold = [get(f"/slip/{t}.pdf", "application/pdf") for t in slips]
            cached = [get(f"/slip/{slips[0]}.pdf", "application/pdf") for _ in range(n_warm)]
            qr_warm = [get(f"/qr/{qr_token}.png", "image/png") for _ in range(n_warm)]
    rows.append({"benchmark": f"slip http {backend}", "variant": "cold", **summary(cold)})
    rows.append({"benchmark": f"slip http {backend}", "variant": "cached", **summary(cached),
                 "ratio_to_qr_warm_p50": round(pct(cached, 50) / pct(qr_warm, 50), 2)})
    rows.append({"benchmark": f"slip http {backend}", "variant": "qr png warm (reference)", **summary(qr_warm)})
    return rows


def remind(backend: str, quick: bool) -> list[dict]:
    """`tisi-pay remind --at` over 100,000 unpaid invoices of 10,000 licenses, each license with
    one subscriber (10,000 subscriptions), due dates spread over 100 days around the moment: the
    first run queues every reminder and overdue notice due (about a sixth), the second finds them
    queued. Timed as the command runs from cron, a process start included."""
    from sqlalchemy import func, insert, select, text

    from bot.data.db import Database
    from bot.data.migrate import upgrade
    from bot.data.models import Invoice, LineUser, Notice, Subscription

    n_inv, n_lic = (2_000, 200) if quick else (100_000, 10_000)
    url = _database(backend, f"bench_remind_{backend}")
    upgrade(url)
    db = Database(url)
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    today = date(2026, 12, 1)
    now = datetime.now(timezone.utc)
    with db.transaction() as session:
        for start in range(0, n_inv, 10_000):
            session.execute(insert(Invoice), [
                {"invoice_no": f"2569{i:012d}", "ref2": f"{i % 100000000:08d}", "license_no": f"ท{1000 + i % n_lic}-1/69",
                 "tax_id": TAX_ID, "payer_name": "บริษัท ทดสอบ จำกัด", "fee_code": "LICENSE", "description": "bench",
                 "amount": Decimal(1000 + i % 500), "due_date": today + timedelta(days=i % 100 - 30), "status": "unpaid",
                 "public_id": f"bench{i:012d}", "created_at": now - timedelta(days=30), "updated_at": now}
                for i in range(start, min(n_inv, start + 10_000))])
        session.execute(insert(LineUser), [{"user_id": f"U{i:032x}", "language": "th" if i % 3 else "en",
                                            "followed": True, "created_at": now, "updated_at": now} for i in range(n_lic)])
        ids = dict(session.execute(select(LineUser.user_id, LineUser.id)).all())
        session.execute(insert(Subscription), [
            {"line_user_id": ids[f"U{i:032x}"], "license_no": f"ท{1000 + i}-1/69", "consent_text": "bench",
             "consent_lang": "th", "created_at": now - timedelta(days=60)} for i in range(n_lic)])
        if backend == "postgresql":
            session.execute(text("ANALYZE"))  # as autovacuum would have, long before a cron run
    db.dispose()
    exe = str(BIN / "tisi-pay")
    with fake_line() as fake_url:
        env = env_for(url, fake_url, free_port(), QUIET_HOURS="off")
        rows = []
        for run in ("first run", "second run, same moment"):
            start = time.perf_counter()
            out = subprocess.run([exe, "remind", "--at", moment.isoformat()], env=env, capture_output=True, text=True,
                                 timeout=600)
            seconds = time.perf_counter() - start
            assert out.returncode == 0, out.stderr[-2000:]
            rows.append({"benchmark": f"remind {backend}", "variant": f"{n_inv} unpaid, {n_lic} subscriptions, {run}",
                         "seconds": round(seconds, 2), "output": out.stdout.strip().split(": ", 1)[-1]})
    db = Database(url)
    with db.sessions() as session:
        rows[0]["notices_in_outbox"] = session.scalar(select(func.count()).select_from(Notice))
    db.dispose()
    return rows


def _bank_body(inv: dict, bank_ref: str) -> tuple[bytes, dict]:
    body = json.dumps({"command": "payment", "bankCode": "006", "bankRef": bank_ref, "billerId": BILLER_ID,
                       "ref1": inv["invoice_no"], "ref2": inv["ref2"], "amount": inv["amount"], "channel": "QR",
                       "transDateTime": "2026-11-25T14:30:00+07:00"}).encode()
    ts = str(int(time.time()))
    return body, {"X-Bank-Timestamp": ts, "X-Bank-Signature": bank_signature(BANK_SECRET, ts, body)}


def _soap_body(inv: dict, bank_ref: str) -> tuple[bytes, dict]:
    """Krungthai's Direct Link `Payment` (docs/integrators.md), on one line for wrk."""
    fields = {"user": KTB_USER, "password": KTB_PASSWORD, "comcode": KTB_COMCODE, "prodcode": "TISI",
              "command": "Payment", "bankcode": "6", "bankref": bank_ref, "datetime": "20261125143000",
              "effdate": "20261125", "amount": inv["amount"], "channel": "ATM", "ref1": inv["invoice_no"],
              "ref2": inv["ref2"]}
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    body = ('<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
            f"<s:Body><RequestCode>{inner}</RequestCode></s:Body></s:Envelope>").encode()
    return body, {"Content-Type": "text/xml", "SOAPAction": '""'}  # no ';': the wrk script splits headers on it


def bank(backend: str, quick: bool) -> list[dict]:
    """Payment confirmations/s with 2 web processes and 16 concurrent clients, in rounds: our
    signed JSON and Krungthai's Direct Link SOAP, taking turns in each round."""
    duration, rounds = (1.0, 1) if quick else (10.0, 3)
    n = int(2 * 3000 * duration) * rounds + 1  # distinct invoices: more than can be paid in the time, both ways
    url = _database(backend, f"bench_bank_{backend}")
    _prepare(url, n)
    invoices = _invoice_rows(n)
    runs: dict[str, list[dict]] = {}
    with fake_line() as fake_url:
        port = free_port()
        with gunicorn("app:app", env_for(url, fake_url, port), port):
            load(port, "/bank/ktb/billpayment", [_bank_body(invoices[-1], "WARMUP")] * 50, 4, 1.0, warmup=True)
            fresh = iter(invoices[:-1])
            many = int(3000 * duration)
            for round_no in range(rounds):
                distinct = [_bank_body(inv, f"B{round_no}-{i:08d}") for i, inv in zip(range(many), fresh)]
                same = [_bank_body(invoices[0], f"SAME{round_no}")] * many
                dup = [_bank_body(invoices[1], f"DUP{round_no}-{i:08d}") for i in range(many)]
                soap = [_soap_body(inv, f"S{round_no}-{i:08d}") for i, inv in zip(range(many), fresh)]
                json_path, soap_path = "/bank/ktb/billpayment", "/bank/ktb/directlink"
                for variant, path, bodies in (("distinct invoices", json_path, distinct),
                                              ("distinct invoices, Direct Link SOAP", soap_path, soap),
                                              ("same invoice, same bankRef (replays)", json_path, same),
                                              ("same invoice, new bankRefs (1002)", json_path, dup)):
                    runs.setdefault(variant, []).append(load(port, path, bodies, 16, duration))
    rows = []
    for variant, results in runs.items():
        middle = sorted(results, key=lambda r: r["rps"])[len(results) // 2]
        rows.append({"benchmark": f"bank payment {backend}", "variant": variant, **_pick(middle),
                     "rps_of_rounds": [r["rps"] for r in results]})
    return rows


CHAIN_VARIANTS = (  # (name, app, database, chain on): the control is a second copy without the chain
    ("with the chain", "app:app", "with", True),
    ("without the chain", "bench.nochain_app:app", "without", False),
    ("without the chain, a second copy (control)", "bench.nochain_app:app", "control", False),
)


def chain(backend: str, quick: bool) -> list[dict]:
    """What the audit chain costs the bank path: payments/s of distinct invoices with the chain
    (the app as shipped) and without it (bench/nochain_app.py, and the database's chain triggers
    dropped), 2 web processes and 16 clients each, taking turns in rounds, each on a database of
    its own. A second copy without the chain runs too: how far two identical servers differ in
    the same run is the noise the chain's ratio must be read against."""
    duration, rounds = (1.0, 1) if quick else (8.0, 8)
    many = int(1000 * duration)  # more than one server pays in the time (about 300/s here)
    n = many * rounds + 1
    invoices = _invoice_rows(n)
    with fake_line() as fake_url:
        servers = {}
        for variant, app, name, chained in CHAIN_VARIANTS:
            url = _database(backend, f"bench_chain_{name}_{backend}")
            _prepare(url, n)
            if not chained:
                _drop_chain_triggers(url)
            port = free_port()
            servers[variant] = (app, env_for(url, fake_url, port), port)
        contexts = {v: gunicorn(app, env, port) for v, (app, env, port) in servers.items()}
        for ctx in contexts.values():
            ctx.__enter__()
        try:
            runs = _bank_rounds({v: port for v, (_, _, port) in servers.items()}, invoices, many, rounds, duration, "C")
        finally:
            for ctx in contexts.values():
                ctx.__exit__(None, None, None)
    rows = []
    for variant, results in runs.items():
        middle = sorted(results, key=lambda r: r["rps"])[len(results) // 2]
        rows.append({"benchmark": f"chain cost {backend}", "variant": f"bank payments, {variant}", **_pick(middle),
                     "rps_of_rounds": [r["rps"] for r in results]})
    chained, without, control = rows
    for row, others in ((chained, (without, control)), (control, (without,))):
        # Each round's runs went back to back: their ratio is less moved by the machine's drift
        # than the ratio of medians. The chain is compared with both chain-less copies.
        for other in others:
            if other["rps"]:
                row[f"ratio_to_{'control' if other is control else 'without'}"] = round(row["rps"] / other["rps"], 3)
        paired = [a / statistics.mean(b) for a, *b in zip(row["rps_of_rounds"], *(o["rps_of_rounds"] for o in others))
                  if all(b)]
        row["ratio_of_rounds"] = [round(r, 3) for r in paired]
        row["median_ratio_of_rounds"] = round(statistics.median(paired), 3) if paired else None
    return rows


def chain_in_process(backend: str, quick: bool) -> list[dict]:
    """The chain's cost per payment without the scheduler's noise: one process pays invoices
    one after another through the Flask app (real routing, signature and database), batches of
    100 alternating between an app on a database with the chain and one without."""
    from bot.config import Settings
    from bot.factory import create_app

    n, batch = (400, 100) if quick else (4000, 100)
    invoices = _invoice_rows(n + 1)
    clients = {}
    for name, chained in (("with the chain", True), ("without the chain", False)):
        url = _database(backend, f"bench_chainproc_{'with' if chained else 'without'}_{backend}")
        _prepare(url, n + 1)
        if not chained:
            _drop_chain_triggers(url)
        settings = Settings.from_env(env_for(url, "http://127.0.0.1:9", 1, WORKER="external"))
        clients[name] = create_app(settings).test_client()
    logging.getLogger().setLevel(logging.WARNING)  # create_app set INFO: a line per payment otherwise
    spent, ratios = _pay_in_alternating_batches(clients, invoices, n, batch)
    rows = [{"benchmark": f"chain cost in process {backend}", "variant": f"{n} payments one by one, {name}",
             "ms_per_payment": round(spent[name] / n * 1000, 3)} for name in clients]
    rows[0]["ratio_to_without"] = round(spent["without the chain"] / spent["with the chain"], 3)
    rows[0]["median_ratio_of_batches"] = round(statistics.median(ratios), 3)
    return rows


def _pay_in_alternating_batches(clients: dict, invoices: list[dict], n: int, batch: int) -> tuple[dict, list]:
    """Pay invoices[0:n] one by one through each Flask test client, batch by batch, the order of
    the clients reversed every other batch; the seconds each spent, and per batch the ratio of
    the second client's time to the first's (the first is the variant under test)."""
    def pay(client, inv: dict, ref: str) -> None:
        body, headers = _bank_body(inv, ref)
        answer = client.post("/bank/ktb/billpayment", data=body, headers={**headers, "Content-Type": "application/json"})
        assert answer.status_code == 200 and b'"0000"' in answer.data, answer.data

    for k, client in enumerate(clients.values()):
        pay(client, invoices[-1], f"WARM{k}")
    spent = {name: 0.0 for name in clients}
    first, second = list(clients)
    ratios = []
    for start in range(0, n, batch):
        order = list(clients.items())
        took = {}
        for name, client in order if (start // batch) % 2 == 0 else order[::-1]:
            began = time.perf_counter()
            for i in range(start, min(n, start + batch)):
                pay(client, invoices[i], f"P{i:08d}")
            took[name] = time.perf_counter() - began
            spent[name] += took[name]
        ratios.append(took[second] / took[first])
    return spent, ratios


def _bank_rounds(ports: dict[str, int], invoices: list[dict], many: int, rounds: int, duration: float,
                 tag: str) -> dict[str, list[dict]]:
    """Each server (variant -> port) pays `many` distinct invoices per round with 16 clients for
    `duration` seconds, the servers taking turns and who goes first rotating every round; each
    variant's load results, round by round. Each server has a database of its own."""
    for k, port in enumerate(ports.values()):
        load(port, "/bank/ktb/billpayment", [_bank_body(invoices[-1], f"WARM{tag}{k}")] * 50, 4, 1.0, warmup=True)
    runs: dict[str, list[dict]] = {}
    for round_no in range(rounds):
        batch = invoices[round_no * many:(round_no + 1) * many]
        order = list(ports.items())
        shift = round_no % len(order)
        for variant, port in order[shift:] + order[:shift]:
            bodies = [_bank_body(inv, f"{tag}{round_no}-{i:08d}") for i, inv in enumerate(batch)]
            runs.setdefault(variant, []).append(load(port, "/bank/ktb/billpayment", bodies, 16, duration))
    return runs


def _drop_chain_triggers(url: str) -> None:
    """The database without the chain: on PostgreSQL the links are appended by triggers (the
    invoices' own "created" links, written before this, stay: they cost the payments nothing)."""
    import sqlalchemy as sa

    from bot.data import chain as audit_chain

    engine = sa.create_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for statement in audit_chain.drop_trigger_sql():
                conn.execute(sa.text(statement))
    engine.dispose()


def _pick(r: dict) -> dict:
    return {k: r[k] for k in ("rps", "median_ms", "p99_ms", "requests", "errors", "generator")}


def _queue_notices(url: str, n: int) -> None:
    from bot.core.dates import utcnow
    from bot.data.db import Database
    from bot.data.models import Notice

    db = Database(url)
    with db.transaction() as s:
        now = utcnow()
        s.add_all(Notice(retry_key=str(uuid.uuid4()), event_key=f"bench:{uuid.uuid4().hex}", to_user=f"U{i:032x}",
                         messages=json.dumps([{"type": "text", "text": f"ชำระแล้ว {i}"}], ensure_ascii=False),
                         status="pending", attempts=0, next_attempt_at=now, created_at=now) for i in range(n))
    db.dispose()


def _pending(url: str) -> int:
    from sqlalchemy import func, select

    from bot.data.db import Database
    from bot.data.models import Notice

    db = Database(url)
    with db.sessions() as s:
        n = s.scalar(select(func.count()).select_from(Notice).where(Notice.status == "pending"))
    db.dispose()
    return n


def notices(backend: str, quick: bool) -> list[dict]:
    """Pushes/s by one and by two `tisi-pay worker` processes; commit-to-push latency."""
    n = 200 if quick else 6000
    url = _database(backend, f"bench_notices_{backend}")
    _prepare(url, 100)
    rows = []
    with fake_line() as fake_url:
        for workers in (1, 2):
            env = env_for(url, fake_url, 0, WORKER="external")
            procs = [process([str(BIN / "tisi-pay"), "worker"], env=env) for _ in range(workers)]
            for p in procs:
                p.__enter__()
            time.sleep(3.0)  # started and idle: measure delivery, not Python's start-up
            _queue_notices(url, n)
            start = time.perf_counter()
            while _pending(url):
                time.sleep(0.02)
            elapsed = time.perf_counter() - start
            for p in procs:
                p.__exit__(None, None, None)
            stats = fake_stats(fake_url)
            rows.append({"benchmark": f"notices {backend}", "variant": f"{workers} worker(s)", "notices": n,
                         "pushes_per_s": round(n / elapsed, 1), "push_attempts": stats["push_attempts"],
                         "distinct_keys": len({p["key"] for p in stats["pushes"]})})
            fake_reset(fake_url)
        rows.append(_commit_to_push(url, fake_url, 30 if quick else 400))
    return rows


def _commit_to_push(url: str, fake_url: str, payments: int) -> dict:
    """Payments through the bank endpoint (WORKER=external, one worker running); latency from the
    notice's commit to its push reaching the fake LINE API."""
    from sqlalchemy import select

    from bot.core.dates import utcnow
    from bot.data.db import Database
    from bot.data.models import LineUser, Notice, Watch

    db = Database(url)
    invoices = _invoice_rows(payments, start=1000)
    from bot.ledger.invoices import upsert_invoices

    with db.transaction() as s:
        upsert_invoices(s, enumerate(invoices), actor="bench")
        from bot.data.models import Invoice

        ids = dict(s.execute(select(Invoice.invoice_no, Invoice.id).where(Invoice.invoice_no.in_([i["invoice_no"] for i in invoices]))).all())
        for i, inv in enumerate(invoices):
            user = LineUser(user_id=f"U{i + 50000:032x}", language="th", followed=True, created_at=utcnow(), updated_at=utcnow())
            s.add(user)
            s.flush()
            s.add(Watch(line_user_id=user.id, invoice_id=ids[inv["invoice_no"]], created_at=utcnow()))
    fake_reset(fake_url)
    port = free_port()
    env = env_for(url, fake_url, port, WORKER="external")
    with gunicorn("app:app", env, port), process([str(BIN / "tisi-pay"), "worker"], env=env):
        time.sleep(3.0)  # the worker has started and is waiting (LISTEN on PostgreSQL)
        for i, inv in enumerate(invoices):
            body, headers = _bank_body(inv, f"LAT{i:08d}")
            conn = http.client.HTTPConnection("127.0.0.1", port)
            conn.request("POST", "/bank/ktb/billpayment", body=body, headers={"Content-Type": "application/json", **headers})
            conn.getresponse().read()
            conn.close()
            time.sleep(0.02)
        deadline = time.time() + 30
        while len(fake_stats(fake_url)["pushes"]) < payments and time.time() < deadline:
            time.sleep(0.1)
    pushes = {p["key"]: p["at"] for p in fake_stats(fake_url)["pushes"]}
    with db.sessions() as s:
        created = dict(s.execute(select(Notice.retry_key, Notice.created_at).where(Notice.event_key.like("paid:%"))).all())
    db.dispose()
    latencies = [(pushes[k] - created[k].timestamp()) * 1000 for k in created if k in pushes]
    return {"benchmark": "notices", "variant": "commit to push (1 worker, WORKER=external)", "delivered": len(latencies),
            "expected": payments, **summary(latencies)}


def import_(backend: str, quick: bool) -> list[dict]:
    """`tisi-pay invoices import` of 100,000 rows: rows/s and peak memory of the process."""
    import csv

    n = 2000 if quick else 100000
    url = _database(backend, f"bench_import_{backend}")
    from bot.data.migrate import upgrade

    upgrade(url)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"import_{n}.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        rows = _invoice_rows(n)
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    env = dict(os.environ, DATABASE_URL=url)
    code = ("import resource, subprocess, sys, time; t=time.perf_counter(); "
            "r=subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(r.returncode, time.perf_counter()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
            "print(r.stdout[-300:], r.stderr[-500:])")
    out = subprocess.run([sys.executable, "-c", code, str(BIN / "tisi-pay"), "invoices", "import", str(path)],
                         env=env, capture_output=True, text=True, timeout=3600)
    rc, seconds, maxrss = out.stdout.split("\n")[0].split()
    assert rc == "0", out.stdout
    return [{"benchmark": f"import {backend}", "variant": f"{n} rows", "rows_per_s": round(n / float(seconds), 1),
             "seconds": round(float(seconds), 2), "peak_rss_mb": round(int(maxrss) / 1024, 1)}]


def lookups(backend: str, quick: bool) -> list[dict]:
    """Lookup latency by invoice and by license with 1,000 and 1,000,000 invoices (PostgreSQL)."""
    from sqlalchemy import text

    from bot.data.db import Database
    from bot.data.migrate import upgrade
    from bot.ledger.invoices import find_invoice, invoices_for_license

    sizes = (1000, 20000) if quick else (1000, 1000000)
    rows = []
    base = None
    for size in sizes:
        url = _database("postgresql", f"bench_lookup_{size}")
        upgrade(url)
        db = Database(url)
        with db.transaction() as s:
            s.execute(text(
                "INSERT INTO invoices (invoice_no, ref2, license_no, tax_id, payer_name, fee_code, description, amount, "
                "due_date, status, public_id, created_at, updated_at) "
                "SELECT '2568' || lpad(g::text, 12, '0'), lpad((g % 100000000)::text, 8, '0'), "
                "'ท' || (1000 + g / 3) || '-1/68', '0105550123451', 'บริษัท ทดสอบ จำกัด', 'LICENSE', '', 100000, "
                "current_date + 60, 'unpaid', md5(g::text), now(), now() FROM generate_series(0, :n - 1) g"), {"n": size})
        with db.engine.begin() as conn:  # committed: statistics roll back with their transaction
            conn.exec_driver_sql("ANALYZE invoices")
        samples = {"invoice": [], "license": []}
        for _ in range(300 if quick else 2000):
            g = random.randrange(size)
            with db.sessions() as s:
                start = time.perf_counter()
                assert find_invoice(s, f"2568{g:012d}") is not None
                samples["invoice"].append((time.perf_counter() - start) * 1000)
            with db.sessions() as s:
                start = time.perf_counter()
                assert invoices_for_license(s, f"ท{1000 + g // 3}-1/68")
                samples["license"].append((time.perf_counter() - start) * 1000)
        db.dispose()
        result = {k: summary(v) for k, v in samples.items()}
        base = base or result
        for kind in ("invoice", "license"):
            rows.append({"benchmark": "lookup postgresql", "variant": f"by {kind}, {size} invoices", **result[kind],
                         "ratio_to_smallest": round(result[kind]["median_ms"] / base[kind]["median_ms"], 2)})
    return rows


def receipts(backend: str, quick: bool) -> list[dict]:
    """What issuing receipts costs the bank's path: payments/s and p99 of distinct invoices with
    receipts on (RECEIPT_SIGNING_P12 set: a number from the fiscal year's counter row in each
    payment's transaction) and off, plus a second copy with them off as the A/A control; 2 web
    processes and 16 clients each, rounds taking turns, each server on a database of its own.
    WORKER=external on all three: the PDFs are made by workers (here: none run), never on the
    bank's path, so the rounds measure the path itself."""
    from bench.common import OUT as out

    duration, rounds = (1.0, 1) if quick else (6.0, 6)
    many = int(800 * duration)
    n = many * rounds + 1
    invoices = _invoice_rows(n)
    p12 = out / "bench-receipt-signing-rsa.p12"
    if not p12.exists():
        from bot.dev.testcert import make_test_p12

        make_test_p12(p12, "bench")
    variants = (("receipts on", {"RECEIPT_SIGNING_P12": str(p12), "RECEIPT_SIGNING_PASSWORD": "bench"}),
                ("receipts off", {"RECEIPT_SIGNING_P12": ""}),
                ("receipts off, a second copy (control)", {"RECEIPT_SIGNING_P12": ""}))
    with fake_line() as fake_url:
        servers = {}
        for i, (variant, extra) in enumerate(variants):
            url = _database(backend, f"bench_receipts_{i}_{backend}")
            _prepare(url, n)
            port = free_port()
            servers[variant] = env_for(url, fake_url, port, WORKER="external", **extra), port
        contexts = {v: gunicorn("app:app", env, port) for v, (env, port) in servers.items()}
        for ctx in contexts.values():
            ctx.__enter__()
        try:
            runs = _bank_rounds({v: port for v, (_, port) in servers.items()}, invoices, many, rounds, duration, "R")
        finally:
            for ctx in contexts.values():
                ctx.__exit__(None, None, None)
    rows = []
    for variant, results in runs.items():
        middle = sorted(results, key=lambda r: r["rps"])[len(results) // 2]
        rows.append({"benchmark": f"receipts cost {backend}", "variant": f"bank payments, {variant}", **_pick(middle),
                     "rps_of_rounds": [r["rps"] for r in results],
                     "p99_of_rounds": [r["p99_ms"] for r in results]})
    on, off, control = rows
    for row in (on, control):
        paired = [a / b for a, b in zip(row["rps_of_rounds"], off["rps_of_rounds"]) if b]
        row["median_ratio_of_rounds_to_off"] = round(statistics.median(paired), 3) if paired else None
        row["ratio_to_off"] = round(row["rps"] / off["rps"], 3) if off["rps"] else None
    return rows + receipt_pdf(backend, quick)


def receipt_pdf(backend: str, quick: bool) -> list[dict]:
    """A receipt's PDF: made on the first request for its link (render + sign + store: the worker
    does the same off the request path) and served as stored after that, through the Flask app."""
    from bench.common import OUT as out
    from bot.config import Settings
    from bot.data.db import Database
    from bot.data.models import Receipt
    from bot.factory import create_app
    from bot.ledger.receipts import key_of

    n = 5 if quick else 40
    url = _database("sqlite" if backend == "sqlite" else backend, f"bench_receipt_pdf_{backend}")
    _prepare(url, n)
    p12 = out / "bench-receipt-signing-rsa.p12"
    settings = Settings.from_env(env_for(url, "http://127.0.0.1:9", 1, WORKER="external",
                                         RECEIPT_SIGNING_P12=str(p12), RECEIPT_SIGNING_PASSWORD="bench"))
    app = create_app(settings)
    logging.getLogger().setLevel(logging.WARNING)
    client = app.test_client()
    for i, inv in enumerate(_invoice_rows(n)):
        body, headers = _bank_body(inv, f"PDF{i:06d}")
        assert b'"0000"' in client.post("/bank/ktb/billpayment", data=body,
                                        headers={**headers, "Content-Type": "application/json"}).data
    db = Database(url)
    with db.sessions() as s:
        links = [urlparse(app.extensions["tisi"].links.receipt_url(key_of(s, r))).path
                 for r in s.query(Receipt).order_by(Receipt.payment_id)]
    db.dispose()
    first, cached, sizes = [], [], []
    for i, link in enumerate(links):
        for bucket in (first, cached):
            began = time.perf_counter()
            # One client each: /receipt allows 60 requests a minute per client.
            answer = client.get(link, environ_base={"REMOTE_ADDR": f"10.1.{i // 200}.{i % 200 + 1}"})
            bucket.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200, answer.status_code
        sizes.append(len(answer.data))
    app.extensions["tisi"].close()
    return [{"benchmark": f"receipt pdf {backend}", "variant": f"{n} receipts, first request (render, sign, store)",
             **summary(first), "p95_ms": round(pct(first, 95), 3), "kb": round(statistics.mean(sizes) / 1024, 1)},
            {"benchmark": f"receipt pdf {backend}", "variant": f"{n} receipts, again (served as stored)",
             **summary(cached), "p95_ms": round(pct(cached, 95), 3)}]


def receipts_in_process(backend: str, quick: bool) -> list[dict]:
    """Receipts' cost per payment without contention or the scheduler's noise: one process pays
    invoices one after another through the Flask app, batches of 100 alternating between an app
    issuing receipts and one that does not (each on its own database)."""
    from bench.common import OUT as out
    from bot.config import Settings
    from bot.factory import create_app

    n, batch = (400, 100) if quick else (3000, 100)
    invoices = _invoice_rows(n + 1)
    p12 = out / "bench-receipt-signing-rsa.p12"
    clients = {}
    for name, extra in (("receipts on", {"RECEIPT_SIGNING_P12": str(p12), "RECEIPT_SIGNING_PASSWORD": "bench"}),
                        ("receipts off", {"RECEIPT_SIGNING_P12": ""})):
        url = _database(backend, f"bench_receiptsproc_{name.split()[1]}_{backend}")
        _prepare(url, n + 1)
        clients[name] = create_app(Settings.from_env(env_for(url, "http://127.0.0.1:9", 1, WORKER="external",
                                                             **extra))).test_client()
    logging.getLogger().setLevel(logging.WARNING)
    spent, ratios = _pay_in_alternating_batches(clients, invoices, n, batch)
    rows = [{"benchmark": f"receipts cost in process {backend}", "variant": f"{n} payments one by one, {name}",
             "ms_per_payment": round(spent[name] / n * 1000, 3)} for name in clients]
    rows[0]["ratio_to_off"] = round(spent["receipts off"] / spent["receipts on"], 3)
    rows[0]["median_ratio_of_batches"] = round(statistics.median(ratios), 3)
    return rows


def _slip_photo(edge: int) -> bytes:
    """A phone photo of our pay-in slip: the PDF page at high resolution, turned 4°, on a grey
    desk, with sensor noise, as a JPEG of `edge` × 3/4 `edge` pixels (4000 × 3000 = 12 MP)."""
    import io as _io

    import pypdfium2 as pdfium
    from PIL import Image

    from bot.render.slip import SlipData, render_slip

    pdf = render_slip(SlipData(BILLER_ID, "2568110400012345", "68112345", Decimal("1000.00"), date(2026, 12, 31),
                               "บริษัท ไทยอุตสาหกรรมเหล็ก จำกัด", TAX_ID, "License fee", "ท5137-2/10", "",
                               datetime(2026, 11, 1, tzinfo=timezone.utc)))
    page = pdfium.PdfDocument(pdf)[0].render(scale=edge * 0.8 / 595).to_pil().convert("RGB")
    desk = Image.new("RGB", (edge, edge * 3 // 4), (120, 118, 112))
    page = page.rotate(4, expand=True, fillcolor=(120, 118, 112))
    page.thumbnail((int(edge * 0.95), int(edge * 0.74)))
    desk.paste(page, ((desk.width - page.width) // 2, (desk.height - page.height) // 2))
    desk = Image.blend(desk, Image.effect_noise(desk.size, 30).convert("RGB"), 0.08)
    out = _io.BytesIO()
    desk.save(out, "JPEG", quality=88)
    return out.getvalue()


def photo(backend: str, quick: bool) -> list[dict]:
    """Reading a photo: our reader (decode, guards, the passes it makes) per image, for a 12 MP
    phone photo of the slip and the same shrunk to 1,280 px as LINE does, against zxing-cpp's own
    single call on the same decoded image (the floor); one thread. Then whether photos delay text
    replies: text messages at a steady pace through `gunicorn -w 2`, with and without 20 photos
    sent at once in the middle, the text replies' latency as the fake LINE API sees them."""
    import io as _io

    import zxingcpp
    from PIL import Image

    from bot.vision.reader import read_codes

    runs = 3 if quick else 20
    rows = []
    big = _slip_photo(4000)
    small_img = Image.open(_io.BytesIO(big))
    small_img.thumbnail((1280, 1280))
    out = _io.BytesIO()
    small_img.save(out, "JPEG", quality=85)
    for name, data in (("12 MP phone photo (4000 × 3000 JPEG)", big), ("1,280 px, as LINE shrinks it", out.getvalue())):
        ours, floor = [], []
        decoded = Image.open(_io.BytesIO(data)).convert("L")
        for _ in range(runs):
            began = time.perf_counter()
            texts = read_codes(data).texts
            ours.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            zxingcpp.read_barcodes(decoded)
            floor.append((time.perf_counter() - began) * 1000)
        rows.append({"benchmark": "photo read", "variant": name, "codes": len(texts),
                     "p50_ms": round(statistics.median(ours), 1), "p95_ms": round(pct(ours, 95), 1),
                     "zxing_single_call_p50_ms": round(statistics.median(floor), 1),
                     "zxing_single_call_p95_ms": round(pct(floor, 95), 1),
                     "ratio_p50_to_floor": round(statistics.median(ours) / max(statistics.median(floor), 0.01), 2)})
    rows += _text_replies_beside_photos(backend, quick, big)
    return rows


def _text_replies_beside_photos(backend: str, quick: bool, photo_bytes: bytes) -> list[dict]:
    from bot.dev.fake_line import FakeLine

    url = _database(backend, f"bench_photo_{backend}")
    _prepare(url, 200)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the in-process fake: no line per request
    fake = FakeLine(access_token=None).start()
    rows = []
    try:
        port = free_port()
        env = env_for(url, fake.url, port, LINE_DATA_API_URL=fake.data_url)
        with gunicorn("app:app", env, port):
            for label, photos in (("without photos", 0), ("with 20 photos sent at once", 20)):
                fake.reset()
                texts = 40 if quick else 200
                sent_at: dict[str, float] = {}
                bodies = _webhook_bodies(texts, 200)
                for i, (body, headers) in enumerate(bodies):
                    if photos and i == texts // 4:  # the photos arrive together, a quarter of the way in
                        events = []
                        for k in range(photos):
                            message_id = f"{random.randrange(10**17, 10**18)}"
                            fake.put_content(message_id, photo_bytes, "image/jpeg")
                            events.append({"type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
                                           "source": {"type": "user", "userId": f"U{k:032x}"},
                                           "webhookEventId": uuid.uuid4().hex.upper()[:26],
                                           "deliveryContext": {"isRedelivery": False},
                                           "replyToken": f"photo-{uuid.uuid4().hex}",
                                           "message": {"id": message_id, "type": "image",
                                                       "contentProvider": {"type": "line"}}})
                        raw = json.dumps({"destination": "U" + "1" * 32, "events": events}).encode()
                        send_each_once(port, "/callback", [(raw, {"X-Line-Signature": line_signature(
                            CHANNEL_SECRET, raw), "Content-Type": "application/json"})], 1, 30)
                    sent_at[_token(body)] = time.time()
                    send_each_once(port, "/callback", [(body, headers)], 1, 30)
                    time.sleep(0.05)  # 20 text messages a second
                deadline = time.time() + 60
                while time.time() < deadline and sum(not s.to.startswith("photo-") for s in fake.replies()) < texts:
                    time.sleep(0.1)
                if photos:
                    while time.time() < deadline and sum(s.to.startswith("photo-") for s in fake.replies()) < photos:
                        time.sleep(0.1)
                replies = {s.to: s.at for s in fake.replies()}
                latencies = [(replies[t] - sent_at[t]) * 1000 for t in sent_at if t in replies]
                rows.append({"benchmark": f"photo isolation {backend}", "variant": f"text replies, {label}",
                             **summary(latencies), "replied": len(latencies), "sent": texts,
                             "photos_replied": sum(s.to.startswith("photo-") for s in fake.replies())})
    finally:
        fake.stop()
    base, loaded = rows
    loaded["p99_ratio_to_without"] = round(loaded["p99_ms"] / max(base["p99_ms"], 0.01), 2)
    return rows


_NAME_WORDS_A = ("เหล็ก", "ไทย", "สยาม", "รุ่งเรือง", "เจริญ", "พัฒนา", "อุตสาหกรรม", "ยานยนต์", "ไฟฟ้า", "เคมี",
                 "พลาสติก", "อาหาร", "เกษตร", "ก่อสร้าง", "ค้าส่ง", "บรรจุภัณฑ์", "สิ่งทอ", "ยาง", "กระดาษ", "แก้ว")
_NAME_WORDS_B = ("กรุ๊ป", "โฮลดิ้ง", "เทรดดิ้ง", "เอ็นจิเนียริ่ง", "แมนูแฟคเจอริ่ง", "ซัพพลาย", "อินเตอร์", "โปรดักส์",
                 "เทคโนโลยี", "แอนด์ซันส์", "ลิสซิ่ง", "โลจิสติกส์", "มาร์เก็ตติ้ง", "เมทัล", "พาร์ท", "อินดัสตรี",
                 "เซอร์วิส", "คอร์ปอเรชั่น", "อีสเทิร์น", "ไทยแลนด์")


def _console_data(url: str, size: int) -> None:
    """`size` invoices (a fifth of companies' tax IDs each have ~20; payer names from 400 word pairs),
    two audit entries each, a payment and its bank message for every other one (spread over 90
    days), a paid notice for one in ten: written with triggers off (the chain is not the subject)."""
    from sqlalchemy import text

    from bot.data.db import Database
    from bot.data.migrate import upgrade

    upgrade(url)
    db = Database(url)
    words_a = "ARRAY[" + ",".join(f"'{w}'" for w in _NAME_WORDS_A) + "]"
    words_b = "ARRAY[" + ",".join(f"'{w}'" for w in _NAME_WORDS_B) + "]"
    companies = max(1, size // 20)
    with db.transaction() as s:
        s.execute(text("SET LOCAL session_replication_role = replica"))
        s.execute(text(
            "INSERT INTO invoices (id, invoice_no, ref2, license_no, tax_id, payer_name, fee_code, description, amount, "
            "due_date, status, public_id, paid_at, created_at, updated_at) "
            "SELECT g, '2568' || lpad(g::text, 12, '0'), lpad((g % 100000000)::text, 8, '0'), "
            "'ท' || (1000 + g / 3) || '-1/68', lpad((1000000000000 + g % :companies)::text, 13, '0'), "
            f"'บริษัท ' || ({words_a})[1 + g % 20] || ({words_b})[1 + (g / 20) % 20] || ' จำกัด', "
            "(ARRAY['LICENSE','INSPECTION','CERTIFICATION','ANNUAL'])[1 + g % 4], '', 100000 + (g % 500) * 100, "
            "current_date + 60, CASE WHEN g % 2 = 0 THEN 'paid' ELSE 'unpaid' END, md5(g::text), "
            "CASE WHEN g % 2 = 0 THEN now() - ((g / 2) % 90) * interval '1 day' END, "
            "now() - (g % 90) * interval '1 day', now() FROM generate_series(1, :n) g"), {"n": size, "companies": companies})
        s.execute(text(
            "INSERT INTO audit_entries (at, invoice_id, action, from_status, to_status, actor, detail) "
            "SELECT now() - (g % 90) * interval '1 day', g, 'created', NULL, 'unpaid', 'import', '{\"amount\": \"1000.00\"}' "
            "FROM generate_series(1, :n) g UNION ALL "
            "SELECT now() - (g % 90) * interval '1 day', g, CASE WHEN g % 2 = 0 THEN 'paid' ELSE 'amount_changed' END, "
            "'unpaid', CASE WHEN g % 2 = 0 THEN 'paid' ELSE 'unpaid' END, 'bank', '{}' FROM generate_series(1, :n) g"),
            {"n": size})
        s.execute(text(
            "INSERT INTO payments (invoice_id, bank_code, bank_ref, amount, channel, transacted_at, status, tranx_id, "
            "created_at) SELECT g, '006', 'B' || g, 100000 + (g % 500) * 100, "
            "(ARRAY['QR','ATM','MOBILE','BRANCH'])[1 + g % 4], "
            "now() - ((g / 2) % 90) * interval '1 day' - (g % 600) * interval '1 minute', 'confirmed', 'T' || g, now() "
            "FROM generate_series(2, :n, 2) g"), {"n": size})
        # A receipt for every payment, numbered in the order paid; one payment in 1,000 reversed an
        # hour later (its receipt void) and one in 2,000 paid twice: what the day's close lists.
        s.execute(text(
            "INSERT INTO receipts (payment_id, number, fiscal_year, seq, issued_at, attempts) "
            "SELECT id, 'TISI-2570-' || lpad(n::text, 6, '0'), 2570, n, transacted_at, 0 FROM "
            "(SELECT id, transacted_at, row_number() OVER (ORDER BY transacted_at, id) n FROM payments) p"))
        s.execute(text(
            "UPDATE payments SET status = 'reversed', reversed_at = transacted_at + interval '1 hour' "
            "WHERE invoice_id % 2000 = 0"))
        s.execute(text(
            "UPDATE receipts SET voided_at = p.reversed_at, void_reason = 'bench' FROM payments p "
            "WHERE p.id = receipts.payment_id AND p.status = 'reversed'"))
        s.execute(text(
            "INSERT INTO payments (invoice_id, bank_code, bank_ref, amount, channel, transacted_at, status, tranx_id, "
            "created_at) SELECT g, '006', 'X' || g, 100000 + (g % 500) * 100, 'ATM', "
            "now() - ((g / 2) % 90) * interval '1 day' - (g % 500) * interval '1 minute', 'double_payment', 'X' || g, now() "
            "FROM generate_series(1000, :n, 2000) g"), {"n": size})
        s.execute(text(
            "INSERT INTO bank_messages (received_at, command, bank_code, bank_ref, ref1, request_body, http_status, "
            "resp_code, response_body, replayed) SELECT now(), 'payment', '006', 'B' || g, '2568' || lpad(g::text, 12, '0'), "
            "'{}', 200, '0000', '{}', false "
            "FROM generate_series(2, :n, 2) g"), {"n": size})
        s.execute(text(
            "INSERT INTO notices (retry_key, channel, event_key, to_user, messages, status, attempts, next_attempt_at, "
            "created_at, sent_at) SELECT md5('n' || g), 'line', 'paid:' || (g / 2), 'U' || md5(g::text), '[]', 'sent', 1, "
            "now(), now(), now() FROM generate_series(10, :n, 10) g"), {"n": size})
    with db.engine.begin() as conn:
        conn.exec_driver_sql("SELECT setval('invoices_id_seq', (SELECT max(id) FROM invoices))")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")  # as autovacuum leaves a table of that age
    db.dispose()


def console(backend: str, quick: bool) -> list[dict]:
    """Every page of the staff console (Today, Find, an invoice's story, the day's close, …) with 1,000,000 invoices and
    2,000,000 audit entries on PostgreSQL, against 1,000 invoices in the same run: through Flask's
    routing with a signed-in session, as a browser asks (issue 20: < 200 ms)."""
    import re

    import pyotp
    from sqlalchemy import select, update

    from bot.config import Settings
    from bot.data.db import Database
    from bot.data.models import StaffAccount
    from bot.data.states import StaffRole
    from bot.factory import create_app
    from bot.ledger.staff import add_account

    sizes = (1000, 20000) if quick else (1000, 1000000)
    samples_each = 15 if quick else 60
    rows, base = [], {}
    for size in sizes:
        url = _database("postgresql", f"bench_console_{size}")
        started = time.perf_counter()
        _console_data(url, size)
        loaded_s = round(time.perf_counter() - started, 1)
        db = Database(url)
        with db.transaction() as s:
            made = add_account(s, "bench", StaffRole.ADMIN)  # every page of the console
            s.execute(update(StaffAccount).values(password_temporary=False))
        env = env_for(url, "http://127.0.0.1:9", 8080, WORKER="external")
        app = create_app(Settings.from_env(env), db=db)
        client = app.test_client()
        page = client.get("/staff/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        with db.sessions() as s:
            secret = s.scalar(select(StaffAccount.totp_secret).where(StaffAccount.name == "bench"))
        answer = client.post("/staff/sign-in", data={"csrf_token": token, "name": "bench", "password": made.password,
                                                     "code": pyotp.TOTP(secret).now()})
        assert answer.status_code == 302, answer.status_code
        rng = random.Random(7)
        companies = max(1, size // 20)
        from bot.ledger.console import forget_past_days

        def days_ago(n: int):
            from bot.core.dates import today_bangkok
            return today_bangkok() - timedelta(days=n)

        def first_view() -> str:  # the chart's closed days not yet kept: added up from the payments
            forget_past_days()
            return "/staff/"

        cases = {
            "today": lambda: "/staff/",
            "today, first view in 5 minutes": first_view,
            "find by invoice no.": lambda: f"/staff/find?q=2568{rng.randrange(1, size):012d}",
            "invoice story": lambda: f"/staff/invoice/2568{rng.randrange(1, size):012d}",
            "find by license no.": lambda: f"/staff/find?q=ท{1000 + rng.randrange(1, size) // 3}-1/68",
            "find by tax ID": lambda: f"/staff/find?q={1000000000000 + rng.randrange(companies):013d}",
            "find by payer name (a word pair)": lambda: "/staff/find?q=" + _NAME_WORDS_A[rng.randrange(20)]
            + _NAME_WORDS_B[rng.randrange(20)],
            "find by payer name (a common word)": lambda: "/staff/find?q=" + _NAME_WORDS_B[rng.randrange(20)],
            "find by day and status": lambda: f"/staff/find?q={days_ago(rng.randrange(1, 80)).isoformat()}+paid",
            "day's close (a past day)": lambda: f"/staff/close?day={days_ago(rng.randrange(1, 80)).isoformat()}",
            "day's close (today)": lambda: "/staff/close",
            "reconciliation": lambda: "/staff/reconciliation",
            "queues": lambda: "/staff/queues",
            "export form": lambda: "/staff/export",
            "conversations": lambda: "/staff/conversations",
            "accounts": lambda: "/staff/accounts",
        }
        past_close = client.get(cases["day's close (a past day)"]()).get_data(as_text=True)
        assert "TISI-2570-" in past_close and 'id="close-reversals-table"' in past_close  # the data is on the page
        for name, path in cases.items():
            client.get(path())  # warm: the first request of a kind compiles and caches
            times = []
            for _ in range(samples_each):
                target = path()
                start = time.perf_counter()
                response = client.get(target)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code in (200, 302), (target, response.status_code)
            result = summary(times)
            base.setdefault(name, result)
            rows.append({"benchmark": "console postgresql", "variant": f"{name}, {size} invoices, {2 * size} audit entries",
                         **result, "ratio_to_1000": round(result["median_ms"] / base[name]["median_ms"], 2),
                         "data_loaded_s": loaded_s})
        app.extensions["tisi"].close()
        db.dispose()
    return rows
