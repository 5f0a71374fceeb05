"""GET /metrics: Prometheus text, for a scraper holding METRICS_TOKEN (registered only when set)."""
from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request

from bot import metrics
from bot.errors import json_error

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape():
    tisi = current_app.extensions["tisi"]
    given = request.headers.get("Authorization", "")
    expected = f"Bearer {tisi.settings.metrics_token}"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return json_error(401, "unauthorized", "a valid bearer token is required")
    body, content_type = metrics.exposition(tisi.db)
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
