"""Prometheus metrics for operators (`GET /metrics`, only when METRICS_TOKEN is set).

Counters and histograms are counted where things happen, in whichever process: under gunicorn
set PROMETHEUS_MULTIPROC_DIR (an empty directory, the same for the web processes, `tisi-pay
worker` and `tisi-pay remind`) and every process's figures are added up at scrape time
(prometheus_client's multiprocess mode; see gunicorn.conf.py for the hook that forgets a dead
worker's gauges). Queue depths and ages, and reconciliation outcomes, are read from the database
at scrape time (`bot.web.metrics`): the same for every process and right after a restart.
"""
from __future__ import annotations

from prometheus_client import Counter, Histogram

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
REPLIES_UNCONFIRMED = Counter("tisi_replies_unconfirmed", "Replies whose delivery LINE never confirmed: an attempt "
                              "went unanswered and the one more try was refused as a used token (or unanswered).")
BANK_COMMANDS = Counter("tisi_bank_commands", "Bank commands answered, by endpoint, command and respCode.",
                        ["endpoint", "command", "resp_code"])
BANK_UNAUTHENTICATED = Counter("tisi_bank_unauthenticated", "Requests to the bank endpoint refused before or at "
                               "authentication (size, encoding, signature, timestamp): answered, never stored.",
                               ["resp_code", "reason"])
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
