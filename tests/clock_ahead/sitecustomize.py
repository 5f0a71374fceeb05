"""Put on PYTHONPATH by tests/conftest.py when TEST_CLOCK_AHEAD_DAYS is set: the processes a test
starts (`tisi-pay …`, gunicorn, workers) see the same clock as the test, N days ahead, ticking."""
import os

_days = int(os.environ.get("TEST_CLOCK_AHEAD_DAYS", "0") or 0)
if _days:
    from datetime import datetime, timedelta, timezone

    import time_machine

    time_machine.travel(datetime.now(timezone.utc) + timedelta(days=_days), tick=True).start()
