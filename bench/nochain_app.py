"""The app with the audit chain's hooks removed: only for `python -m bench --only chain`, which
measures what the chain costs the bank path (the same code, the same run, chain on and off).
On PostgreSQL the database links rows by trigger: the benchmark drops those in this app's own
database (bench/scenarios.py `_drop_chain_triggers`); the hooks removed here are SQLite's."""
from app import app  # noqa: F401
from bot.data import chain

chain.uninstall()
