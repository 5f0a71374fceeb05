"""Production entry point: `gunicorn 'app:app'`. Settings come from the environment.

A configuration error is one line on stderr, and gunicorn stops ("App failed to load") instead
of printing a traceback and restarting workers that can only fail the same way."""
import sys

from bot.config import ConfigError
from bot.factory import create_app

try:
    app = create_app()
except ConfigError as exc:
    print(f"tisi-pay: {exc}", file=sys.stderr, flush=True)
    sys.exit(4)  # gunicorn's APP_LOAD_ERROR: the arbiter halts
