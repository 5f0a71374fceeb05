"""Run the benchmarks and print a table: `python -m bench [--quick] [--only NAME ...]`.

The load generator, the fake LINE API and the servers share this machine: read the numbers
as ratios measured in the same run, not as what a production host would do.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from bench import hostile, profile, scenarios, soak
from bench.common import OUT

SOAK_SECONDS: float | None = None  # --seconds
SOAK_CALM = False  # --calm: the soak's traffic without its faults (receipts' pace at a steady 5 payments/s)


def _soak(backend: str, quick: bool) -> list[dict]:
    """Mixed chat and bank traffic while PostgreSQL, workers, gunicorn and LINE fail (bench/soak.py)."""
    return soak.soak(SOAK_SECONDS or (20.0 if quick else 600.0), quick, faults=not SOAK_CALM)


def _profile(backend: str, quick: bool) -> list[dict]:
    """py-spy over every process of ours and of the Celery baseline under load (bench/profile.py)."""
    return profile.profile(backend, quick)


RUNNERS = {"hostile": hostile, "": scenarios}
LOCAL = {"soak": _soak, "profile": _profile}

ALL = {
    "webhook": [("webhook", "sqlite"), ("webhook", "postgresql")],
    "slowline": [("slow_line", "sqlite"), ("slow_line", "postgresql")],
    "qr": [("qr", "sqlite")],
    "slip": [("slip", "sqlite")],
    "remind": [("remind", "postgresql")],
    "bank": [("bank", "postgresql")],
    "chain": [("chain", "postgresql"), ("chain_in_process", "postgresql")],
    "receipts": [("receipts", "postgresql"), ("receipts_in_process", "postgresql")],
    "photo": [("photo", "postgresql")],
    "notices": [("notices", "postgresql")],
    "import": [("import_", "sqlite"), ("import_", "postgresql")],
    "lookups": [("lookups", "postgresql")],
    "console": [("console", "postgresql")],
    "memory": [("memory", "sqlite")],
    "flood": [("hostile.anonymous_flood", "postgresql")],
}
# Run only when named: the soak restarts and stops this machine's PostgreSQL.
ON_REQUEST = {"soak": [("soak", "postgresql")],
              "profile": [("profile", "sqlite"), ("profile", "postgresql")],  # needs py-spy
              "fuzz": [("hostile.fuzz", "both")]}  # minutes: the suite's fuzz with a long budget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, about a second each (used by the test)")
    parser.add_argument("--only", nargs="*", choices=sorted({**ALL, **ON_REQUEST}), help="run only these")
    parser.add_argument("--seconds", type=float, default=None, help="how long the soak runs (default 600; 20 quick)")
    parser.add_argument("--calm", action="store_true", help="the soak without its faults")
    parser.add_argument("--out", type=Path, default=None, help="where the results go (default bench/out/results.json)")
    args = parser.parse_args()
    global SOAK_SECONDS, SOAK_CALM
    SOAK_SECONDS, SOAK_CALM = args.seconds, args.calm
    rows = []
    for name in args.only or ALL:
        for function, backend in {**ALL, **ON_REQUEST}[name]:
            started = time.perf_counter()
            module, _, name_ = function.rpartition(".")
            run = LOCAL.get(function) or getattr(RUNNERS[module], name_)
            result = run(backend, args.quick)
            for row in result:
                row["seconds_to_run"] = round(time.perf_counter() - started, 1)
            rows += result
            _print(result)
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {"cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
            "quick": args.quick, "when": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    (args.out or OUT / ("results-quick.json" if args.quick else "results.json")).write_text(
        json.dumps({"meta": meta, "rows": rows}, ensure_ascii=False, indent=1))


def _print(rows: list[dict]) -> None:
    for row in rows:
        rest = {k: v for k, v in row.items() if k not in ("benchmark", "variant", "seconds_to_run")}
        cells = "  ".join(f"{k}={v}" for k, v in rest.items())
        print(f"{row['benchmark']:<24} {row['variant']:<44} {cells}", flush=True)


if __name__ == "__main__":
    main()
