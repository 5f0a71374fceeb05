"""Where a webhook's time goes (issue 17, item 6): `python -m bench --only profile`.

Ours (`gunicorn -w 2 'app:app'`, WORKER=inline), the Celery baseline (its web processes and its
workers) and the fake LINE API run under a closed-loop load of text webhooks with LINE answering
at once, while py-spy samples every process of each for the same seconds. The report gives, per
process kind, the share of busy samples by where they were spent (self time: the innermost frame),
grouped by library, and the heaviest functions.
"""
from __future__ import annotations

import subprocess
import time
from collections import Counter
from contextlib import nullcontext
from pathlib import Path

from bench.common import BIN, OUT, children, env_for, fake_line, free_port, gunicorn, load

GROUPS = (  # (name, a path fragment of the innermost frame), first match wins
    ("SQLite (driver)", "sqlite3"),
    ("PostgreSQL driver (psycopg)", "psycopg"),
    ("SQLAlchemy", "sqlalchemy/"),
    ("line-bot-sdk and pydantic", "linebot/"),
    ("line-bot-sdk and pydantic", "pydantic"),
    ("HTTP client (urllib3, http.client)", "urllib3/"),
    ("HTTP client (urllib3, http.client)", "http/client"),
    ("sockets and ssl", "socket.py"),
    ("sockets and ssl", "selectors.py"),
    ("Flask and Werkzeug", "flask/"),
    ("Flask and Werkzeug", "werkzeug/"),
    ("gunicorn", "gunicorn/"),
    ("JSON", "json/"),
    ("Jinja and templates", "jinja2/"),
    ("Babel", "babel/"),
    ("Celery and kombu", "celery/"),
    ("Celery and kombu", "kombu/"),
    ("Redis client", "redis/"),
    ("our code: runtime (inbox, outbox, worker)", "bot/runtime/"),
    ("our code: data and chain", "bot/data/"),
    ("our code: web (webhook)", "bot/web/"),
    ("our code: render (cards, templates)", "bot/render/"),
    ("our code: ledger", "bot/ledger/"),
    ("our code: core (parsing, money, dates)", "bot/core/"),
    ("our code: handlers", "handlers/"),
    ("our code: LINE gateway", "bot/line/"),
    ("threading and queues", "threading.py"),
    ("threading and queues", "queue.py"),
    ("threading and queues", "concurrent/"),
)


def _group(frame: str) -> str:
    for name, fragment in GROUPS:
        if fragment in frame:
            return name
    return "other (interpreter, stdlib)"


def _record(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "py-spy"), "record", "--pid", str(pid), "--duration", str(int(seconds)),
                             "--rate", "200", "--format", "raw", "--nonblocking", "--threads", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _summarise(paths: list[Path]) -> dict:
    groups, functions, total = Counter(), Counter(), 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit() or not stack:
                continue
            frames = [f for f in stack.split(";") if not f.startswith("thread (") and not f.startswith("process ")]
            if not frames:
                continue
            n = int(count)
            total += n
            innermost = frames[-1]
            groups[_group(innermost)] += n
            functions[innermost.split(" (")[0] + " (" + innermost.split("(")[-1].split(":")[0].rsplit("/", 1)[-1]
                      + ")"] += n
    share = {k: round(100 * v / total, 1) for k, v in groups.most_common()} if total else {}
    top = {k: round(100 * v / total, 1) for k, v in functions.most_common(12)} if total else {}
    return {"samples": total, "by_library_pct": share, "top_functions_pct": top}


def profile(backend: str, quick: bool) -> list[dict]:
    from bench.scenarios import _celery_workers, _database, _our_workers, _prepare, _webhook_bodies

    seconds = 4.0 if quick else 15.0
    url = _database(backend, f"bench_profile_{backend}")
    _prepare(url, 1000)
    rows = []
    OUT.mkdir(parents=True, exist_ok=True)
    with fake_line() as fake_url:
        fake_pid = _pid_listening(fake_url)
        for name, app in (("ours", "app:app"), ("ours external", "app:app"), ("celery", "bench.celery_app:app")):
            port = free_port()
            external = name == "ours external"
            env = env_for(url, fake_url, port, **({"WORKER": "external"} if external else {}))
            helpers = _celery_workers(env) if name == "celery" else _our_workers(env) if external else nullcontext()
            with gunicorn(app, env, port) as web:
                with helpers as workers:
                    load(port, "/callback", _webhook_bodies(500, 1000), 8, 2.0, warmup=True)
                    targets = {"web": children(web.pid), "fake LINE API": children(fake_pid) or [fake_pid]}
                    if name == "celery":
                        targets["celery worker"] = _celery_pids()
                    if external:
                        targets["tisi-pay worker"] = [w.pid for w in workers]
                    recorders, files = [], {}
                    for kind, pids in targets.items():
                        for pid in pids:
                            out = OUT / f"profile-{backend}-{name}-{kind.replace(' ', '_')}-{pid}.txt"
                            out.unlink(missing_ok=True)
                            files.setdefault(kind, []).append(out)
                            recorders.append(_record(pid, seconds, out))
                    time.sleep(0.5)
                    result = load(port, "/callback", _webhook_bodies(int(3000 * seconds), 1000), 8, seconds)
                    for r in recorders:
                        r.wait(timeout=seconds + 60)
            for kind, paths in files.items():
                rows.append({"benchmark": f"profile {backend}", "variant": f"{name}: {kind} ({len(paths)} process(es))",
                             "webhooks_per_s": result["rps"], **_summarise(paths)})
    return rows


def _pid_listening(url: str) -> int:
    port = url.rsplit(":", 1)[1]
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return int(out.split("pid=")[1].split(",")[0])


def _celery_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "celery" in cmd and " worker " in cmd and "bench.celery_app" in cmd:
                pids.append(int(entry.name))
    return pids
