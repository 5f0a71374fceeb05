"""The benchmarks are not tests, but they must not rot: run each for about a second on tiny sizes."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _pg_available

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_every_benchmark_runs_on_tiny_sizes():
    if not _pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is required in CI")
        pytest.skip("PostgreSQL not reachable")
    result = subprocess.run([sys.executable, "-m", "bench", "--quick"], cwd=ROOT, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads((ROOT / "bench" / "out" / "results-quick.json").read_text())["rows"]
    names = {r["benchmark"].split()[0] for r in rows}
    assert names == {"webhook", "slow", "qr", "slip", "remind", "bank", "chain", "receipts", "receipt", "notices", "import", "lookup",
                     "memory", "photo", "console"}
    console = [r for r in rows if r["benchmark"] == "console postgresql"]
    assert len(console) == 16 and all(r["n"] > 0 and r["p99_ms"] > 0 for r in console)
    reads = [r for r in rows if r["benchmark"] == "photo read"]
    assert len(reads) == 2 and all(r["codes"] >= 1 and r["p95_ms"] > 0 for r in reads)
    beside = [r for r in rows if r["benchmark"].startswith("photo isolation")]
    assert len(beside) == 2 and all(r["replied"] == r["sent"] for r in beside) and beside[1]["photos_replied"] == 20
    costs = [r for r in rows if r["benchmark"] == "receipts cost postgresql"]
    assert len(costs) == 3 and all(r["errors"] == 0 and r["requests"] > 0 for r in costs)
    assert costs[0]["ratio_to_off"] > 0
    pdfs = [r for r in rows if r["benchmark"].startswith("receipt pdf")]
    assert len(pdfs) == 2 and all(r["n"] > 0 for r in pdfs)
    chain = [r for r in rows if r["benchmark"] == "chain cost postgresql"]
    assert len(chain) == 3 and all(r["errors"] == 0 and r["requests"] > 0 for r in chain)
    in_process = [r for r in rows if r["benchmark"] == "chain cost in process postgresql"]
    assert len(in_process) == 2 and in_process[0]["ratio_to_without"] > 0
    reminds = [r for r in rows if r["benchmark"].startswith("remind")]
    assert len(reminds) == 2 and reminds[0]["notices_in_outbox"] > 0 and "queued 0" in reminds[1]["output"]
    slips = {r["variant"]: r for r in rows if r["benchmark"].startswith("slip http")}
    assert slips["cached"]["n"] > 0 and slips["cold"]["n"] > 0
    ours = [r for r in rows if r["benchmark"].startswith("webhook") and r["variant"].startswith("ours, LINE")]
    assert len(ours) == 4 and all(r["errors"] == 0 and r["requests"] > 0 for r in ours)
    assert all(r["replies_seen_by_fake_line"] >= r["requests"] for r in ours)  # every request got its reply
    assert all(r["replies_per_s"] > 0 for r in ours)
    external = [r for r in rows if r["benchmark"].startswith("webhook") and r["variant"].startswith("ours external, LINE")]
    assert len(external) == 4 and all(r["errors"] == 0 and r["replies_seen_by_fake_line"] >= r["requests"] > 0
                                      for r in external)
    assert all(set(r["cpu_ms_per_reply"]) >= {"web", "fake LINE"} for r in ours + external)
    assert all("our workers" in r["cpu_ms_per_reply"] for r in external)
    celery = [r for r in rows if r["benchmark"].startswith("webhook") and r["variant"].startswith("celery, LINE")]
    assert len(celery) == 4 and all(r["errors"] == 0 and r["replies_seen_by_fake_line"] > 0 for r in celery)
    one = [r for r in rows if r["variant"].startswith("ours, one at a time")]
    assert all(r["replied"] == r["sent"] for r in one)
    soap = [r for r in rows if r["variant"] == "distinct invoices, Direct Link SOAP"]
    assert len(soap) == 1 and soap[0]["errors"] == 0 and soap[0]["requests"] > 0
    slow = [r for r in rows if r["benchmark"].startswith("slow line")]
    assert len(slow) == 4 and all(r["errors"] == 0 and r["requests"] > 0 for r in slow)
    notices = [r for r in rows if r["variant"].endswith("worker(s)")]
    assert all(r["push_attempts"] == r["notices"] == r["distinct_keys"] for r in notices)
