"""GET /metrics: only with METRICS_TOKEN, bearer-protected, Prometheus text with what operators
watch; and added up across gunicorn's worker processes (multiprocess mode)."""
from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings
from bot.factory import create_app
from tests.conftest import drain, invoice_row, make_env

TOKEN = "metrics-token-for-tests"


def _samples(text: str) -> dict:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metered(database_url, fake_line, db):
    app = create_app(Settings.from_env(make_env(database_url, fake_line.url, METRICS_TOKEN=TOKEN)), db=db)
    yield app
    app.extensions["tisi"].close()


def test_no_token_no_endpoint(client):
    assert client.get("/metrics").status_code == 404


def test_bearer_required(metered):
    client = metered.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_what_operators_watch_is_counted(metered, fake_line, db, seed):
    from tests.conftest import Bank, Line, text_event

    client = metered.test_client()
    line, bank = Line(client, fake_line, db), Bank(client)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = _samples(client.get("/metrics", headers=auth).get_data(as_text=True))
    row = seed(invoice_row(1))[0]
    event_messages = line.say(row["invoice_no"])
    assert event_messages
    hello = text_event("hello")
    line.post([hello])
    line.post([hello])  # LINE redelivers the same event
    assert bank.post(bank.body("payment", row, bank_ref="KTBMETRIC1")).get_json()["respCode"] == "0000"
    assert bank.post(bank.body("payment", row, bank_ref="KTBMETRIC2")).get_json()["respCode"] == "1002"
    assert fake_line.wait_for(lambda f: len(f.pushes()) >= 1)
    drain(db)
    response = client.get("/metrics", headers=auth)
    assert response.mimetype == "text/plain"
    after = _samples(response.get_data(as_text=True))

    def grew(name, **labels):
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("tisi_webhook_events_total", type="message", outcome="stored") == 2
    assert grew("tisi_webhook_events_total", type="message", outcome="redelivered") == 1
    assert grew("tisi_bank_commands_total", endpoint="json", command="payment", resp_code="0000") == 1
    assert grew("tisi_bank_commands_total", endpoint="json", command="payment", resp_code="1002") == 1
    assert grew("tisi_line_api_answers_total", call="reply", status="200") == 2
    assert grew("tisi_line_api_answers_total", call="push", status="200") == 1
    assert grew("tisi_notices_sent_total", kind="paid") == 1
    assert grew("tisi_reply_latency_seconds_count") == 2 and grew("tisi_push_latency_seconds_count") == 1
    assert ("tisi_queue_depth", (("queue", "outbox"),)) in after
    assert ("tisi_queue_oldest_seconds", (("queue", "inbox"),)) in after


@pytest.mark.slow
def test_counts_add_up_across_gunicorn_workers(database_url, fake_line, tmp_path):
    if database_url.startswith("sqlite"):
        pytest.skip("the multi-process run uses PostgreSQL")
    from tests.conftest import free_port, wait_until_answers

    port = free_port()
    env = {**os.environ, **make_env(database_url, fake_line.url, METRICS_TOKEN=TOKEN,
                                    PUBLIC_BASE_URL=f"http://127.0.0.1:{port}"),
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen([gunicorn, "-w", "3", "-b", f"127.0.0.1:{port}", "-c", "gunicorn.conf.py", "app:app"],
                            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answers(f"{base}/healthz", proc)
        for _ in range(60):  # spread over the three workers by the kernel
            try:
                urllib.request.urlopen(urllib.request.Request(f"{base}/bank/ktb/billpayment", data=b"{}", method="POST",
                                                              headers={"Content-Type": "application/json"}), timeout=10)
            except urllib.error.HTTPError as exc:
                assert exc.code == 401
        files = list(tmp_path.glob("counter_*.db"))
        request = urllib.request.Request(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        text = urllib.request.urlopen(request, timeout=10).read().decode()
        total = _value(_samples(text), "tisi_bank_commands_total", endpoint="json", command="unknown", resp_code="2001")
        assert total == 60, (total, [f.name for f in files])
        assert len(files) >= 2  # the counts came from more than one process
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_reconciliation_is_counted_and_the_latest_statement_shown(metered, seed, tmp_path, database_url):
    from bot.core.statement import build_statement
    from tests.conftest import Bank
    from tests.test_reconcile import DAY, _detail, _run

    client = metered.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert _value(_samples(client.get("/metrics", headers=auth).get_data(as_text=True)),
                  "tisi_reconciliation_latest_balanced") == -1  # none yet
    rows = seed(invoice_row(1), invoice_row(2))
    assert Bank(client).post(Bank(client).body("payment", rows[0], bank_ref="R1")).get_json()["respCode"] == "0000"
    before = _value(_samples(client.get("/metrics", headers=auth).get_data(as_text=True)),
                    "tisi_reconciliation_outcomes_total", outcome="unknown_invoice")
    unknown = {**rows[1], "invoice_no": "2568999900000001"}
    code, _ = _run(database_url, tmp_path, build_statement("1234567890", "TISI", DAY, [_detail(rows[0]), _detail(unknown)]))
    assert code == 1
    after = _samples(client.get("/metrics", headers=auth).get_data(as_text=True))
    assert _value(after, "tisi_reconciliation_latest_lines", outcome="matched") == 1
    assert _value(after, "tisi_reconciliation_latest_lines", outcome="unknown_invoice") == 1
    assert _value(after, "tisi_reconciliation_latest_balanced") == 0
    assert _value(after, "tisi_reconciliation_outcomes_total", outcome="unknown_invoice") - before == 1
