"""Shared pieces of the benchmarks: processes, ports, load generation, statistics."""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CHANNEL_SECRET = "bench-channel-secret"
ACCESS_TOKEN = "bench-token"
BANK_SECRET = "bench-bank-secret"
KTB_USER, KTB_PASSWORD, KTB_COMCODE = "bench-ktb", "bench-ktb-password", "99999"
BILLER_ID = "099999999999990"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def env_for(database_url: str, fake_url: str, port: int, **extra) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url, "LINE_CHANNEL_SECRET": CHANNEL_SECRET, "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "LINE_API_URL": fake_url, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "BILLER_ID": BILLER_ID,
        "SECRET_KEY": "bench-secret", "BANK_WEBHOOK_SECRET": BANK_SECRET, "WORKER": "inline",
        "KTB_DIRECTLINK_USER": KTB_USER, "KTB_DIRECTLINK_PASSWORD": KTB_PASSWORD, "KTB_COMPANY_CODE": KTB_COMCODE,
    })
    env.update(extra)
    return env


STOP_GRACE = 2.0  # seconds a stopped server gets before SIGKILL (see process())


@contextmanager
def process(args: list[str], env: dict | None = None, port: int | None = None, quiet: bool = True):
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL if quiet else None,
                            stderr=subprocess.DEVNULL if quiet else None, start_new_session=True)
    try:
        if port:
            wait_port(port)
        yield proc
    finally:
        # What was measured is in: a short grace, then SIGKILL. (A gunicorn stopping gracefully
        # waits for requests that LINE's latency holds — seconds each — and for the senders'
        # queued calls: most of a quick run's minute went to those stops.)
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=STOP_GRACE)
        except Exception:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@contextmanager
def fake_line():
    port = free_port()
    # Enough threads that a fake LINE answering late (latency set per test) is never the bottleneck.
    args = [str(BIN / "gunicorn"), "-w", "1", "-k", "gthread", "--threads", "128", "-b", f"127.0.0.1:{port}",
            "--log-level", "warning", "bot.dev.fake_line:create_app()"]
    with process(args, port=port):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def gunicorn(app: str, env: dict, port: int, workers: int = 2):
    """Same settings for ours and the baseline: 2 processes; GUNICORN_THREADS>1 uses gthread."""
    threads = os.environ.get("GUNICORN_THREADS", "1")
    args = [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
            "--backlog", "2048", "--threads", threads, app]
    with process(args, env=env, port=port) as proc:
        wait_ready(port)
        yield proc


def wait_ready(port: int, timeout: float = 60.0) -> None:
    """The master listens before its workers have imported the app: wait until answers are quick."""
    deadline = time.time() + timeout
    quick = 0
    while quick < 20 and time.time() < deadline:
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
        except OSError:
            time.sleep(0.1)
            continue
        quick = quick + 1 if time.perf_counter() - start < 0.05 else 0


def fake_stats(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/__fake__/stats", timeout=30) as r:
        return json.loads(r.read())


def fake_reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/__fake__/reset", data=b"", method="POST"), timeout=10).close()


def fake_latency(url: str, seconds: float) -> None:
    """Every LINE call (reply, push, loading) answers `seconds` late from now on."""
    body = json.dumps({"seconds": seconds}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{url}/__fake__/latency", data=body, method="POST",
                                                  headers={"Content-Type": "application/json"}), timeout=10).close()


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def summary(latencies_ms: list[float]) -> dict:
    return {"n": len(latencies_ms), "median_ms": round(statistics.median(latencies_ms), 3) if latencies_ms else None,
            "p99_ms": round(pct(latencies_ms, 99), 3) if latencies_ms else None}


def load(port: int, path: str, bodies: list[tuple[bytes, dict]], concurrency: int, duration: float,
         warmup: bool = False) -> dict:
    """Closed-loop load: `concurrency` clients, each sends the next body when the last answered.

    Uses wrk when it is installed (a C load generator steals less CPU from the servers on a
    two-core machine); otherwise Python threads. Each body is sent at most once.
    """
    if shutil.which("wrk"):
        return _wrk(port, path, bodies, concurrency, duration, warmup)
    return send_each_once(port, path, bodies, concurrency, duration)


def send_each_once(port, path, bodies, concurrency, duration) -> dict:
    """Python threads as clients; stops when every body has been sent once (or at `duration`)."""
    lock = threading.Lock()
    it = iter(bodies)
    latencies: list[float] = []
    errors = [0]
    stop_at = time.perf_counter() + duration

    def client():
        while time.perf_counter() < stop_at:
            with lock:
                item = next(it, None)
            if item is None:
                return
            body, headers = item
            start = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                conn.close()
                ok = resp.status < 400
            except OSError:
                ok = False
            with lock:
                latencies.append((time.perf_counter() - start) * 1000)
                errors[0] += not ok

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "rps": round(len(latencies) / elapsed, 1), "errors": errors[0],
            **summary(latencies), "generator": "python threads"}


_WRK_LUA = r"""
local bodies, sigs, heads, i = {}, {}, {}, 0
function init(args)
  local f = io.open(args[1], "r")
  for line in f:lines() do
    local h, b = line:match("^(.-)\t(.*)$")
    heads[#heads + 1] = h
    bodies[#bodies + 1] = b
  end
  f:close()
end
function request()
  i = i + 1
  if i > #bodies then i = 1; wrapped = true end
  local headers = {["Content-Type"] = "application/json"}
  for k, v in heads[i]:gmatch("([^=;]+)=([^;]*)") do headers[k] = v end
  return wrk.format("POST", nil, headers, bodies[i])
end
done = function(summary, latency, requests)
  io.write(string.format("JSON{\"requests\":%d,\"errors\":%d,\"p50\":%f,\"p99\":%f,\"duration_us\":%d}\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.duration))
end
"""


def _wrk(port, path, bodies, concurrency, duration, warmup=False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "bodies.tsv"
        with open(data, "w", encoding="utf-8") as f:
            for body, headers in bodies:
                text = body.decode()
                assert "\t" not in text and "\n" not in text
                f.write(";".join(f"{k}={v}" for k, v in headers.items()) + "\t" + text + "\n")
        script = Path(tmp) / "bench.lua"
        script.write_text(_WRK_LUA)
        out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, int(duration))}s", "--timeout", "10s",
                              "-s", str(script), f"http://127.0.0.1:{port}{path}", "--", str(data)],
                             capture_output=True, text=True, timeout=duration + 60)
    line = next(row for row in out.stdout.splitlines() if row.startswith("JSON"))
    r = json.loads(line[4:])
    if r["requests"] > len(bodies) and not warmup:
        raise RuntimeError("wrk ran out of distinct bodies; raise the body count")
    return {"requests": r["requests"], "rps": round(r["requests"] / (r["duration_us"] / 1e6), 1),
            "errors": r["errors"], "n": r["requests"], "median_ms": round(r["p50"], 3), "p99_ms": round(r["p99"], 3),
            "generator": "wrk"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def pg_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


# -- CPU by role -------------------------------------------------------------------------------------
_HZ = os.sysconf("SC_CLK_TCK")
_ROLES = (("fake_line", "fake LINE"), ("celery_app:celery worker", "celery workers"),
          ("tisi-pay worker", "our workers"), ("gunicorn", "web"), ("wrk ", "load generator"),
          ("postgres", "postgres"), ("redis-server", "redis"))


def cpu_snapshot() -> dict[str, tuple[str, float]]:
    """CPU seconds used so far by every process of a role we know, by pid (Linux /proc)."""
    seen = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        role = next((name for key, name in _ROLES if key in cmd and (key != "wrk " or cmd.startswith(key))), None)
        if role is not None:
            seen[pid] = (role, (int(fields[11]) + int(fields[12])) / _HZ)
    return seen


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds each role used between two snapshots (processes started between them count whole)."""
    used: dict[str, float] = {}
    for pid, (role, seconds) in after.items():
        used[role] = used.get(role, 0.0) + seconds - before.get(pid, (role, 0.0))[1]
    return used
