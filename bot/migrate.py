"""Schema migrations (Alembic) run from code: `tisi-pay db upgrade`."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from bot.core.resources import resource_dir

MIGRATIONS_DIR = resource_dir("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from bot.db import normalize_url

    command.upgrade(alembic_config(normalize_url(url)), revision)
