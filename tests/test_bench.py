"""The benchmarks are not tests, but they must not rot: run each for about a second on tiny sizes."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _pg_available, postgresql_in_use

ROOT = Path(__file__).resolve().parents[1]


GROUPS = {  # each group of `python -m bench` (bench/__main__.py ALL): the benchmark names it reports
    "webhook": {"webhook"}, "slowline": {"slow"}, "qr": {"qr"}, "slip": {"slip"}, "remind": {"remind"},
    "bank": {"bank"}, "chain": {"chain"}, "receipts": {"receipts", "receipt"}, "photo": {"photo"},
    "notices": {"notices"}, "import": {"import"}, "lookups": {"lookup"}, "console": {"console"},
    "memory": {"memory"}, "flood": {"anonymous"},
}


@pytest.mark.slow
@pytest.mark.parametrize("group", sorted(GROUPS))
def test_every_benchmark_runs_on_tiny_sizes(group, tmp_path):
    """One group at a time (the groups run in parallel under pytest-xdist), each checked below."""
    from bench.__main__ import ALL

    assert set(ALL) == set(GROUPS)  # a new benchmark is named here too
    if not _pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is required in CI")
        pytest.skip("PostgreSQL not reachable")
    out = tmp_path / "results.json"
    with postgresql_in_use():
        result = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", group, "--out", str(out)], cwd=ROOT,
                                capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    assert {r["benchmark"].split()[0] for r in rows} == GROUPS[group]
    CHECKS[group](rows)


def _bank(rows):
    soap = [r for r in rows if r["variant"] == "distinct invoices, Direct Link SOAP"]
    assert len(soap) == 1 and soap[0]["errors"] == 0 and soap[0]["requests"] > 0


def _chain(rows):
    chain = [r for r in rows if r["benchmark"] == "chain cost postgresql"]
    assert len(chain) == 3 and all(r["errors"] == 0 and r["requests"] > 0 for r in chain)
    in_process = [r for r in rows if r["benchmark"] == "chain cost in process postgresql"]
    assert len(in_process) == 2 and in_process[0]["ratio_to_without"] > 0


def _console(rows):
    console = [r for r in rows if r["benchmark"] == "console postgresql"]
    assert len(console) == 32 and all(r["n"] > 0 and r["p99_ms"] > 0 for r in console)


def _flood(rows):
    [row] = rows
    assert row["bank_message_rows_added"] == 0 and row["spool_growth_bytes"] == 0, row
    assert set(row["anonymous_answers"]) <= {"400", "401"} and row["inquiry_p99_ms_flooded"] > 0  # JSON keys


def _import(rows):
    assert rows and all(r.get("errors", 0) == 0 for r in rows)


def _lookups(rows):
    assert rows and all(r.get("errors", 0) == 0 for r in rows)


def _memory(rows):
    assert rows and all(r.get("errors", 0) == 0 for r in rows)


def _notices(rows):
    notices = [r for r in rows if r["variant"].endswith("worker(s)")]
    assert all(r["push_attempts"] == r["notices"] == r["distinct_keys"] for r in notices)


def _photo(rows):
    reads = [r for r in rows if r["benchmark"] == "photo read"]
    assert len(reads) == 2 and all(r["codes"] >= 1 and r["p95_ms"] > 0 for r in reads)
    beside = [r for r in rows if r["benchmark"].startswith("photo isolation")]
    assert len(beside) == 2 and all(r["replied"] == r["sent"] for r in beside) and beside[1]["photos_replied"] == 20


def _qr(rows):
    assert rows and all(r.get("errors", 0) == 0 for r in rows)


def _receipts(rows):
    costs = [r for r in rows if r["benchmark"] == "receipts cost postgresql"]
    assert len(costs) == 3 and all(r["errors"] == 0 and r["requests"] > 0 for r in costs)
    assert costs[0]["ratio_to_off"] > 0
    pdfs = [r for r in rows if r["benchmark"].startswith("receipt pdf")]
    assert len(pdfs) == 2 and all(r["n"] > 0 for r in pdfs)


def _remind(rows):
    reminds = [r for r in rows if r["benchmark"].startswith("remind")]
    assert len(reminds) == 2 and reminds[0]["notices_in_outbox"] > 0 and "queued 0" in reminds[1]["output"]


def _slip(rows):
    slips = {r["variant"]: r for r in rows if r["benchmark"].startswith("slip http")}
    assert slips["cached"]["n"] > 0 and slips["cold"]["n"] > 0


def _slowline(rows):
    slow = [r for r in rows if r["benchmark"].startswith("slow line")]
    assert len(slow) == 4 and all(r["errors"] == 0 and r["requests"] > 0 for r in slow)


def _webhook(rows):
    ours = [r for r in rows if r["benchmark"].startswith("webhook") and r["variant"].startswith("ours, LINE")]
    assert len(ours) == 2 and all(r["errors"] == 0 and r["requests"] > 0 for r in ours)  # 2 databases, LINE at once
    assert all(r["replies_seen_by_fake_line"] >= r["requests"] for r in ours)  # every request got its reply
    assert all(r["replies_per_s"] > 0 for r in ours)
    external = [r for r in rows if r["benchmark"].startswith("webhook") and r["variant"].startswith("ours external, LINE")]
    assert len(external) == 2 and all(r["errors"] == 0 and r["replies_seen_by_fake_line"] >= r["requests"] > 0
                                      for r in external)
    assert all(set(r["cpu_ms_per_reply"]) >= {"web", "fake LINE"} for r in ours + external)
    assert all("our workers" in r["cpu_ms_per_reply"] for r in external)
    celery = [r for r in rows if r["benchmark"].startswith("webhook") and r["variant"].startswith("celery, LINE")]
    assert len(celery) == 2 and all(r["errors"] == 0 and r["replies_seen_by_fake_line"] > 0 for r in celery)
    one = [r for r in rows if r["variant"].startswith("ours, one at a time")]
    assert all(r["replied"] == r["sent"] for r in one)


CHECKS = {g: globals()[f"_{g}"] for g in GROUPS}
