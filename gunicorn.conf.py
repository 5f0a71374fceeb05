"""gunicorn settings for production (`gunicorn -c gunicorn.conf.py 'app:app'`): with
PROMETHEUS_MULTIPROC_DIR set, a worker that exits has its live gauges forgotten."""
import os


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
