"""The photo reader's child process: how it is started, and what it runs. A module of its own,
light to import, because the fork server preloads it: a child unpickles its initializer and its
task by module name, and a child that had to import bot.runtime.photos (SQLAlchemy, the models,
the SDK) took a second to start — after every worker start and every reader that died."""
from __future__ import annotations

import multiprocessing
import os
import threading
import time

from bot.vision.reader import read_codes


def context():
    """Readers are forked from a fork server (one per process, started once, single-threaded: safe
    to fork from a web process full of threads), with this module and the reader loaded already."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["bot.vision.reader", __name__])
    return ctx


def start(owner: int) -> None:
    """In the reader: low priority, and gone as soon as the process it reads for is (a SIGKILLed
    worker runs no clean-up, and its fork server's children would live on under PID 1)."""
    os.nice(10)
    _die_with_parent()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # someone else's process took the number: ours is gone
                os._exit(0)

    threading.Thread(target=watch, name="owner-watch", daemon=True).start()


def _die_with_parent() -> None:
    """Linux: SIGKILL when the parent (the fork server) exits."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def read_texts(data: bytes) -> list[str]:
    return read_codes(data).texts
