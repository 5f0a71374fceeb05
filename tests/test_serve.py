"""`tisi-pay serve` (issue 33): gunicorn and the workers under one supervisor — LINE's webhooks are
answered by the external workers; a worker SIGKILLed is started again and the next webhook is
answered; SIGTERM stops every process and the supervisor exits 0. The supervisor's own rules
(restart with back-off, a crash loop stops everything with status 1, SIGHUP restarts the workers)
with short-lived children."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.core.signing import line_signature
from bot.runtime import supervisor
from tests.conftest import CHANNEL_SECRET, free_port, make_env, text_event, wait_for


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def _say(base: str, fake_line, text: str) -> str:
    event = text_event(text)
    fake_line.issue_reply_token(event["replyToken"])
    body = json.dumps({"destination": "U" + "1" * 32, "events": [event]}, ensure_ascii=False).encode()
    request = urllib.request.Request(f"{base}/callback", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Line-Signature": line_signature(CHANNEL_SECRET, body)})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    return event["replyToken"]


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_serve_answers_restarts_a_killed_worker_and_stops_everything(database_url, db, fake_line, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, **make_env(database_url, fake_line.url, PUBLIC_BASE_URL=base))
    env.pop("WORKER", None)  # serve sets it
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--web-processes", "1",
                             "--threads", "2", "--workers", "2"], env=env, stdout=log, stderr=log)
    try:
        assert wait_for(lambda: _healthy(base), timeout=30, what="gunicorn answering /healthz"), \
            (tmp_path / "serve.log").read_text()
        token = _say(base, fake_line, "วิธีใช้")
        assert wait_for(lambda: any(s.to == token for s in fake_line.replies()), timeout=20,
                        what="the reply, sent by a worker")
        workers = [p for p in _children(proc.pid) if " worker" in _cmdline(p)]
        web = [p for p in _children(proc.pid) if "gunicorn" in _cmdline(p)]
        assert len(workers) == 2 and len(web) == 1, [_cmdline(p) for p in _children(proc.pid)]

        os.kill(workers[0], signal.SIGKILL)
        assert wait_for(lambda: len([p for p in _children(proc.pid) if " worker" in _cmdline(p)
                                     and p not in workers]) == 1, timeout=20, what="the killed worker replaced")
        token = _say(base, fake_line, "help")
        assert wait_for(lambda: any(s.to == token for s in fake_line.replies()), timeout=20)

        everyone = _children(proc.pid)
        gunicorn_workers = [c for p in web for c in _children(p)]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert not [p for p in everyone + gunicorn_workers if _alive(p)]
        assert not _healthy(base)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_supervisor_killed_leaves_no_process_behind(database_url, db, fake_line, tmp_path):
    if shutil.which("setpriv") is None:  # util-linux, essential on Debian: serve then cannot promise it
        pytest.skip("setpriv (util-linux) is not installed")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, **make_env(database_url, fake_line.url, PUBLIC_BASE_URL=base))
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--web-processes", "1",
                             "--workers", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _healthy(base), timeout=30, what="gunicorn answering /healthz")
        children = _children(proc.pid)
        assert len(children) == 2
        proc.kill()  # no chance to stop anything itself
        proc.wait()
        wait_for(lambda: not [p for p in children if _alive(p)], timeout=40, what="its children gone")
    finally:
        if proc.poll() is None:
            proc.kill()


def _on_each_start(run: supervisor.Supervisor, then) -> list[int]:
    """The pids `run` starts, in order; `then(how many so far)` after each start."""
    pids: list[int] = []
    original = run.start

    def counted(child):
        original(child)
        pids.append(child.proc.pid)
        then(len(pids))

    run.start = counted  # type: ignore[method-assign]
    return pids


def _child(code: str) -> supervisor.Child:
    return supervisor.Child("test", [sys.executable, "-c", code])


def test_a_child_that_keeps_dying_stops_everything(monkeypatch, capsys):
    monkeypatch.setattr(supervisor, "BACKOFF_FIRST_S", 0.01)
    monkeypatch.setattr(supervisor, "POLL_S", 0.01)
    steady = supervisor.Child("steady", [sys.executable, "-c", "import time; time.sleep(60)"])
    crashing = _child("import sys; sys.exit(3)")
    run = supervisor.Supervisor([steady, crashing], dict(os.environ))
    started = time.monotonic()
    assert run.run() == 1
    assert time.monotonic() - started < 30
    assert "test exited 5 times" in capsys.readouterr().err and "status 3" in run.failed
    assert steady.proc is not None and steady.proc.poll() is not None  # stopped with the rest


def test_a_child_that_dies_once_is_started_again_with_a_back_off(monkeypatch, tmp_path):
    monkeypatch.setattr(supervisor, "BACKOFF_FIRST_S", 0.05)
    monkeypatch.setattr(supervisor, "POLL_S", 0.01)
    marker = tmp_path / "ran"
    # dies the first time, then stays up; the test stops the supervisor when it came back
    child = _child(f"import pathlib, sys, time\np = pathlib.Path({str(marker)!r})\n"
                   "if not p.exists():\n    p.write_text('1'); sys.exit(1)\ntime.sleep(60)")
    run = supervisor.Supervisor([child], dict(os.environ))
    starts = _on_each_start(run, lambda n: n == 2 and setattr(run, "stopping", True))
    assert run.run() == 0
    assert len(starts) == 2 and child.backoff == 0.1  # doubled after the one crash


def test_sighup_restarts_the_workers(monkeypatch):
    monkeypatch.setattr(supervisor, "POLL_S", 0.01)
    worker = supervisor.Child("worker-1", [sys.executable, "-c", "import time; time.sleep(60)"])
    run = supervisor.Supervisor([worker], dict(os.environ))
    # the first start: a SIGHUP to the supervisor's own handler; the second (the restart): stop
    pids = _on_each_start(run, lambda n: os.kill(os.getpid(), signal.SIGHUP) if n == 1
                          else setattr(run, "stopping", True))
    assert run.run() == 0
    assert len(pids) == 2 and pids[0] != pids[1]


def test_the_plan_is_gunicorn_then_the_workers():
    children = supervisor.plan("0.0.0.0", 8000, 3, 8, 2)
    assert [c.name for c in children] == ["web", "worker-1", "worker-2"]
    web = children[0].argv
    assert web[1:3] == ["-m", "gunicorn"] and web[web.index("--workers") + 1] == "3"
    assert web[web.index("--bind") + 1] == "0.0.0.0:8000" and web[-1] == "bot.factory:create_app()"
    assert children[1].argv[-1] == "worker"
