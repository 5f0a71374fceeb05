"""The app with the audit chain's hooks removed: only for `python -m bench --only chain`, which
measures what the chain costs the bank path (the same code, the same run, chain on and off)."""
from app import app  # noqa: F401
from bot import chain

chain.uninstall()
