"""A SIGKILLed worker leaves no process behind (issue 29, item 5): its photo reader exits when the
worker is gone, and `tisi-pay worker` kills what an earlier one left under PID 1."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from bot.core.dates import utcnow
from bot.data.models import InboxEvent
from bot.data.states import InboxStatus
from tests.conftest import NO_ENV_FILE, USER, make_env, wait_for

pytestmark = pytest.mark.slow
EXE = os.path.join(os.path.dirname(sys.executable), "tisi-pay")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                pass
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _descendants(pid: int) -> set[int]:
    out, todo = set(), [pid]
    while todo:
        for child in _children(todo.pop()):
            out.add(child)
            todo.append(child)
    return out


def test_a_killed_worker_leaves_no_photo_reader_behind(database_url, db, fake_line):
    fake_line.put_content("555000111", b"not really a photo", "image/jpeg")
    event = {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000), "replyToken": uuid.uuid4().hex,
             "source": {"type": "user", "userId": USER}, "webhookEventId": uuid.uuid4().hex[:26].upper(),
             "message": {"type": "image", "id": "555000111", "contentProvider": {"type": "line"}}}
    with db.transaction() as s:
        s.add(InboxEvent(webhook_event_id=event["webhookEventId"], event_type="message", user_id=USER,
                         reply_token=event["replyToken"], payload=json.dumps(event), received_at=utcnow(),
                         status=InboxStatus.PHOTO, attempts=0, next_attempt_at=utcnow()))
    env = dict(os.environ, **make_env(database_url, fake_line.url, WORKER="external"))
    worker = subprocess.Popen([EXE, "worker"], cwd=NO_ENV_FILE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # The photo is read in a reader process, forked from the worker's fork server.
        family = wait_for(lambda: (lambda d: d if len(d) >= 2 else None)(_descendants(worker.pid)), timeout=60)
        wait_for(lambda: _read_done(db), timeout=60)
        family |= _descendants(worker.pid)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    wait_for(lambda: not any(_alive(p) for p in family), timeout=15)


def _read_done(db) -> bool:
    from sqlalchemy import func, select

    from bot.data.models import PhotoRead

    with db.sessions() as s:
        return bool(s.scalar(select(func.count()).select_from(PhotoRead)))


def test_worker_start_kills_what_a_killed_predecessor_left():
    from bot.runtime.photos import reap_orphans

    marker = "import time; time.sleep(120)  # bot.vision.reader (an orphan, as a SIGKILLed worker leaves it)"
    # Forked twice: the grandchild is adopted by PID 1, as an orphaned reader is.
    parent = subprocess.Popen([sys.executable, "-c", f"import subprocess, sys; p = subprocess.Popen([sys.executable, "
                               f"'-c', {marker!r}], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, "
                               f"start_new_session=True); print(p.pid)"], stdout=subprocess.PIPE, text=True)
    orphan = int(parent.communicate(timeout=30)[0].strip())
    try:
        wait_for(lambda: _alive(orphan) and int((Path("/proc") / str(orphan) / "stat").read_text()
                                                 .rsplit(")", 1)[1].split()[1]) == 1, timeout=10)
        assert reap_orphans() >= 1
        wait_for(lambda: not _alive(orphan), timeout=10)
    finally:
        if _alive(orphan):
            os.kill(orphan, signal.SIGKILL)
