"""What anonymous callers cost the bank (issue 28): a flood of unsigned 64 KB requests beside the
bank's own inquiries, and a long fuzz of every endpoint (`python -m bench --only flood fuzz`)."""
from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import BANK_SECRET, BILLER_ID, env_for, fake_line, free_port, gunicorn, send_each_once
from bench.scenarios import _database, _invoice_rows, _prepare
from bot.core.signing import bank_signature

ROOT = Path(__file__).resolve().parents[1]


def _inquiry(inv: dict, n: int) -> tuple[bytes, dict]:
    body = json.dumps({"command": "inquiry", "bankCode": "006", "bankRef": f"INQ{n:010d}", "billerId": BILLER_ID,
                       "ref1": inv["invoice_no"], "ref2": inv["ref2"], "channel": "QR",
                       "transDateTime": "2026-11-25T14:30:00+07:00"}).encode()
    ts = str(int(time.time()))
    return body, {"X-Bank-Timestamp": ts, "X-Bank-Signature": bank_signature(BANK_SECRET, ts, body),
                  "Content-Type": "application/json"}


ANONYMOUS = (  # what the attacker of issue 28 sent, in turn
    (b'{"x":"' + b"a" * 65_000 + b'"}', {"X-Bank-Timestamp": "1", "X-Bank-Signature": "0" * 64}),
    (b'{"x":"\x00' + b"b" * 65_000 + b'"}', {}),
    (b'{"x":"' + b"c" * 70_000 + b'"}', {"X-Bank-Timestamp": "1", "X-Bank-Signature": "0" * 64}),
    (b'{"x":"' + b"d" * 65_000 + b'"}', {"X-Bank-Timestamp": str(int(time.time())), "X-Bank-Signature": "f" * 64}),
)


def _flood(port: int, total: int, threads: int, answers: dict) -> None:
    sent = iter(range(total))
    lock = threading.Lock()

    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                n = next(sent, None)
            if n is None:
                break
            body, headers = ANONYMOUS[n % len(ANONYMOUS)]
            try:
                conn.request("POST", "/bank/ktb/billpayment", body=body,
                             headers={"Content-Type": "application/json", **headers})
                status = conn.getresponse()
                status.read()
                code = status.status
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                code = 0
            with lock:
                answers[code] = answers.get(code, 0) + 1

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def _sizes(url: str, spool: Path) -> tuple[int, int, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        db = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
        rows = conn.execute(text("SELECT count(*) FROM bank_messages")).scalar()
    engine.dispose()
    spooled = sum(p.stat().st_size for p in spool.glob("*")) if spool.exists() else 0
    return db, spooled, rows


def anonymous_flood(backend: str, quick: bool) -> list[dict]:
    """The bank's inquiry p99 undisturbed, then beside 10,000 anonymous 64 KB requests; database
    and spool sizes before and after (issue 28: within 1 MB, p99 within 20 %)."""
    total, duration = (400, 2.0) if quick else (10_000, 20.0)
    url = _database(backend, f"bench_flood_{backend}")
    invoices = _invoice_rows(200)
    _prepare(url, len(invoices))
    spool = Path(tempfile.mkdtemp(prefix="tisi-spool-"))
    rows = []
    with fake_line() as fake_url:
        port = free_port()
        with gunicorn("app:app", env_for(url, fake_url, port, BANK_SPOOL_DIR=str(spool)), port):
            warm = [_inquiry(invoices[i % 200], i) for i in range(200)]
            send_each_once(port, "/bank/ktb/billpayment", warm, 4, 2.0)
            quiet = send_each_once(port, "/bank/ktb/billpayment",
                                   [_inquiry(invoices[i % 200], 10_000 + i) for i in range(100_000)], 4, duration)
            before = _sizes(url, spool)  # the flood alone: what it leaves behind
            alone: dict = {}
            started = time.perf_counter()
            _flood(port, total, 4, alone)
            flood_s = time.perf_counter() - started
            after = _sizes(url, spool)
            # The flood again, beside the bank's inquiries: what it costs them. In a process of its
            # own, as an attacker is: sharing the inquiry clients' GIL would be our own noise.
            flood = multiprocessing.get_context("fork").Process(target=_flood, args=(port, total, 4, {}))
            flood.start()
            # Inquiries only while the flood lasts (as long as it took alone): every one of them is
            # answered beside it, and their p99 is the flood's cost, not diluted by quiet seconds.
            noisy = send_each_once(port, "/bank/ktb/billpayment",
                                   [_inquiry(invoices[i % 200], 200_000 + i) for i in range(100_000)], 4,
                                   max(1.0, flood_s * 0.9))
            flood.join()
    ratio = round(noisy["p99_ms"] / quiet["p99_ms"], 2) if quiet.get("p99_ms") else None
    rows.append({"benchmark": f"anonymous flood {backend}", "variant": f"{total} anonymous 64 KB bank requests",
                 "anonymous_answers": alone, "anonymous_per_s": round(total / flood_s, 1),
                 "db_growth_bytes": after[0] - before[0], "spool_growth_bytes": after[1] - before[1],
                 "bank_message_rows_added": after[2] - before[2],
                 "inquiry_p99_ms_undisturbed": quiet.get("p99_ms"), "inquiry_p99_ms_flooded": noisy.get("p99_ms"),
                 "inquiries_per_s": [quiet.get("rps"), noisy.get("rps")], "p99_ratio": ratio})
    return rows


def fuzz(backend: str, quick: bool) -> list[dict]:
    """The suite's fuzz tests (tests/test_fuzz.py) with a long budget: FUZZ_EXAMPLES per operation
    and per console form run (default 2,000; 50 quick)."""
    examples = 50 if quick else int(os.environ.get("FUZZ_EXAMPLES_LONG", "2000"))
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_fuzz.py"],
                            cwd=ROOT, env={**os.environ, "FUZZ_EXAMPLES": str(examples)}, capture_output=True, text=True)
    last = (result.stdout.strip().splitlines() or ["?"])[-1]
    return [{"benchmark": "fuzz", "variant": f"{examples} examples per operation and role, SQLite and PostgreSQL",
             "outcome": last, "exit": result.returncode, "seconds": round(time.perf_counter() - started, 1)}]
