"""Prometheus metrics for operators (`GET /metrics`, only when METRICS_TOKEN is set).

Counters and histograms are counted where things happen, in whichever process: under gunicorn
set PROMETHEUS_MULTIPROC_DIR (an empty directory, the same for the web processes, `tisi-pay
worker` and `tisi-pay remind`) and every process's figures are added up at scrape time
(prometheus_client's multiprocess mode; see gunicorn.conf.py for the hook that forgets a dead
worker's gauges). Queue depths and ages, and reconciliation outcomes, are read from the database
at scrape time: the same for every process and right after a restart.
"""
from __future__ import annotations

import json
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import select

LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 3, 5, 10, 30, 60, 300)

WEBHOOK_EVENTS = Counter("tisi_webhook_events", "Webhook events received, by type and what became of them "
                         "(stored, redelivered: already stored, unavailable: 503 asked LINE to redeliver).",
                         ["type", "outcome"])
REPLY_LATENCY = Histogram("tisi_reply_latency_seconds", "From the webhook's arrival to LINE accepting the reply.",
                          buckets=LATENCY_BUCKETS)
PUSH_LATENCY = Histogram("tisi_push_latency_seconds", "From a notice being queued to LINE accepting the push.",
                         buckets=LATENCY_BUCKETS)
LINE_ANSWERS = Counter("tisi_line_api_answers", "LINE Messaging API answers by call and HTTP status "
                       "(0: no answer: timeout or connection refused).", ["call", "status"])
LINE_CALL_SECONDS = Histogram("tisi_line_api_call_seconds", "How long one LINE API call took.", ["call"],
                              buckets=LATENCY_BUCKETS)
BANK_COMMANDS = Counter("tisi_bank_commands", "Bank commands answered, by endpoint, command and respCode.",
                        ["endpoint", "command", "resp_code"])
NOTICES_SENT = Counter("tisi_notices_sent", "Notices delivered, by kind (paid, reversed, new, remind7, "
                       "remind1, overdue, upstream, …).", ["kind"])
RECONCILIATION_OUTCOMES = Counter("tisi_reconciliation_outcomes", "Lines of reconciled bank statements, by "
                                  "outcome (counted by `tisi-pay reconcile`).", ["outcome"])
REMINDERS_QUEUED = Counter("tisi_reminders_queued", "Reminders, overdue and new-invoice notices queued by "
                           "`tisi-pay remind`, by kind.", ["kind"])


def notice_kind(event_key: str) -> str:
    """'remind7:123' -> 'remind7'; 'upstream:paid:5' -> 'upstream'."""
    return event_key.split(":", 1)[0][:32]


def line_call(call: str, status: int, seconds: float) -> None:
    LINE_ANSWERS.labels(call, str(status)).inc()
    LINE_CALL_SECONDS.labels(call).observe(seconds)


class DatabaseCollector(Collector):
    """Figures read from the database at scrape time."""

    def __init__(self, db):
        self.db = db

    def collect(self):
        from bot import health
        from bot.models import StatementFile

        state = health.check(self.db)
        depth = GaugeMetricFamily("tisi_queue_depth", "Items waiting, by queue.", labels=["queue"])
        depth.add_metric(["inbox"], state.inbox_pending)
        depth.add_metric(["outbox"], state.outbox_pending)
        yield depth
        oldest = GaugeMetricFamily("tisi_queue_oldest_seconds", "Age of the oldest waiting item (0 when none).",
                                   labels=["queue"])
        oldest.add_metric(["inbox"], state.inbox_oldest_s or 0.0)
        oldest.add_metric(["outbox"], state.outbox_oldest_s or 0.0)
        yield oldest
        seen = GaugeMetricFamily("tisi_worker_seen_seconds", "Seconds since any worker's heartbeat (-1: never).")
        seen.add_metric([], -1.0 if state.worker_seen_s is None else state.worker_seen_s)
        yield seen
        # The latest statement only: one row, whatever the years of history (reports can be large).
        latest = GaugeMetricFamily("tisi_reconciliation_latest_lines", "Lines of the most recently reconciled "
                                   "statement, by outcome.", labels=["outcome"])
        balanced = GaugeMetricFamily("tisi_reconciliation_latest_balanced", "1 if the most recent statement "
                                     "matched every payment, 0 if staff must look, -1 if none yet.")
        with self.db.sessions() as session:
            row = session.execute(select(StatementFile.balanced, StatementFile.report)
                                  .order_by(StatementFile.id.desc()).limit(1)).first()
        if row is not None:
            for outcome, count in sorted(json.loads(row.report).get("counts", {}).items()):
                latest.add_metric([outcome], count)
        balanced.add_metric([], -1 if row is None else int(bool(row.balanced)))
        yield latest
        yield balanced


def exposition(db) -> tuple[bytes, str]:
    """The text exposition: every process's counters (multiprocess mode) or this one's, and the
    database's figures."""
    database = CollectorRegistry()
    database.register(DatabaseCollector(db))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    return generate_latest(counted) + generate_latest(database), CONTENT_TYPE_LATEST
