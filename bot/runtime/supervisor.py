"""`tisi-pay serve`: the production layout under one supervisor — gunicorn serving the web app
(webhook, bank, pages, API) and `tisi-pay worker` processes replying and delivering (WORKER=external),
started together and stopped together.

- SIGTERM or SIGINT: every child is asked to stop (gunicorn finishes its requests, a worker its
  claimed item), then killed after `STOP_GRACE_S`; the supervisor exits 0.
- SIGHUP: gunicorn reloads its workers gracefully and the `tisi-pay worker`s are restarted (new
  code or settings are picked up without dropping a webhook).
- A child that exits on its own is started again after a back-off (1 s doubling to 30 s); one that
  fails `CRASH_LIMIT` times within `CRASH_WINDOW_S` stops everything with exit status 1, so that the
  service manager (systemd, a container runtime) sees it and can alert.
- Each child gets SIGTERM if the supervisor itself dies (Linux's parent-death signal, set by
  util-linux `setpriv --pdeathsig` as the child starts; without setpriv, children outlive a
  supervisor that is SIGKILLed). Not a `preexec_fn`: code between fork and exec can deadlock in a
  process with threads.

Deliberately small: one command for a deployer who has no process manager yet; under systemd or
Kubernetes, running gunicorn and the workers as separate units is as good (README).
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

STOP_GRACE_S = 30.0  # gunicorn's own graceful timeout; a worker needs a few seconds
CRASH_LIMIT = 5
CRASH_WINDOW_S = 60.0
BACKOFF_FIRST_S, BACKOFF_MAX_S = 1.0, 30.0
POLL_S = 0.2


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    crashes: deque[float] = field(default_factory=deque)
    backoff: float | None = None  # the wait before the next restart (BACKOFF_FIRST_S at first)
    restart_at: float | None = None  # when a crashed child is started again


def _with_parent(argv: list[str]) -> list[str]:
    """The command, to receive SIGTERM when the supervisor dies (when setpriv is installed)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *argv] if setpriv else argv


def plan(host: str, port: int, web_processes: int, threads: int, workers: int) -> list[Child]:
    """gunicorn, then the workers: the commands, run with this interpreter."""
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", str(web_processes), "--threads", str(threads),
                "--bind", f"{host}:{port}", "--graceful-timeout", str(int(STOP_GRACE_S)),
                "bot.factory:create_app()"]
    tisi_pay = [sys.executable, "-m", "bot.cli"]
    return [Child("web", gunicorn)] + [Child(f"worker-{i + 1}", tisi_pay + ["worker"]) for i in range(workers)]


class Supervisor:
    def __init__(self, children: list[Child], env: dict[str, str]):
        self.children = children
        self.env = env
        self.stopping = False
        self.reload = False
        self.failed: str | None = None

    def start(self, child: Child) -> None:
        child.proc = subprocess.Popen(_with_parent(child.argv), env=self.env)
        child.restart_at = None
        log.info("serve: started %s (pid %s)", child.name, child.proc.pid)

    def run(self) -> int:
        handlers = {sig: signal.signal(sig, self._on_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        handlers[signal.SIGHUP] = signal.signal(signal.SIGHUP, self._on_hup)
        try:
            return self._run()
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)

    def _run(self) -> int:
        for child in self.children:
            self.start(child)
        while not self.stopping:
            if self.reload:
                self.reload = False
                self._reload()
            now = time.monotonic()
            for child in self.children:
                if child.proc is not None and child.proc.poll() is not None:
                    self._exited(child, now)
                elif child.proc is None and child.restart_at is not None and now >= child.restart_at:
                    self.start(child)
            time.sleep(POLL_S)
        self._stop_all()
        if self.failed:
            print(f"tisi-pay serve: {self.failed}", file=sys.stderr)
            return 1
        return 0

    def _exited(self, child: Child, now: float) -> None:
        assert child.proc is not None
        code = child.proc.returncode
        child.proc = None
        child.crashes.append(now)
        while child.crashes and now - child.crashes[0] > CRASH_WINDOW_S:
            child.crashes.popleft()
        if len(child.crashes) >= CRASH_LIMIT:
            self.failed = (f"{child.name} exited {len(child.crashes)} times within {int(CRASH_WINDOW_S)} s "
                           f"(last status {code}); stopping everything")
            self.stopping = True
            return
        delay = child.backoff or BACKOFF_FIRST_S
        child.restart_at = now + delay
        log.warning("serve: %s exited with status %s; starting it again in %.1f s", child.name, code, delay)
        child.backoff = min(delay * 2, BACKOFF_MAX_S)

    def _reload(self) -> None:
        for child in self.children:
            if child.proc is None:
                continue
            if child.name == "web":
                child.proc.send_signal(signal.SIGHUP)  # gunicorn: new workers, then the old ones stop
            else:
                child.proc.terminate()
                child.proc.wait(timeout=STOP_GRACE_S)
                self.start(child)
        log.info("serve: reloaded")

    def _stop_all(self) -> None:
        running = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        for proc in running:
            proc.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.info("serve: stopped")

    def _on_stop(self, signum, frame) -> None:
        self.stopping = True

    def _on_hup(self, signum, frame) -> None:
        self.reload = True


def serve(host: str, port: int, web_processes: int, threads: int, workers: int) -> int:
    env = dict(os.environ, WORKER="external")
    return Supervisor(plan(host, port, web_processes, threads, workers), env).run()
