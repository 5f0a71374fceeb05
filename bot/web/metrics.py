"""GET /metrics: Prometheus text, for a scraper holding METRICS_TOKEN (registered only when set)."""
from __future__ import annotations

import hmac
import os

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from bot.ledger import reconcile
from bot.runtime import health
from bot.services import services
from bot.web.errors import json_error

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape():
    tisi = services()
    given = request.headers.get("Authorization", "")
    expected = f"Bearer {tisi.settings.metrics_token}"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return json_error(401, "unauthorized", "a valid bearer token is required")
    body, content_type = exposition(tisi.db)
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


class DatabaseCollector(Collector):
    """Figures read from the database at scrape time."""

    def __init__(self, db):
        self.db = db

    def collect(self):
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
            found = reconcile.latest_outcome(session)
        if found is not None:
            for outcome, count in sorted(found[1].items()):
                latest.add_metric([outcome], count)
        balanced.add_metric([], -1 if found is None else int(found[0]))
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
