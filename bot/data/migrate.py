"""Schema migrations (Alembic) run from code: `tisi-pay db upgrade`."""
from __future__ import annotations

import functools

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
    from bot.data.db import normalize_url

    command.upgrade(alembic_config(normalize_url(url)), revision)


@functools.cache
def _revisions() -> tuple[str, frozenset[str]]:
    """This release's head revision and every revision it knows (read once: /healthz asks often)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return script.get_current_head() or "", frozenset(rev.revision for rev in script.walk_revisions())


def head_revision() -> str:
    return _revisions()[0]


def schema_behind(engine) -> str | None:
    """Why this release must not run on that database yet, in one line; None when it may.

    A schema this release's migrations lead up to but do not reach (or none) is refused: the
    code would fail on missing tables, or on PostgreSQL write payments the audit chain's
    triggers never see. A revision unknown here belongs to a newer release, whose migrations only
    add: it runs. A database that does not answer is the outage handling's business: it runs."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except DBAPIError:
        return None
    head, known = _revisions()
    if current == head or (current is not None and current not in known):
        return None
    return (f"the database is at schema revision {current or 'none (empty)'}, this release needs {head}: "
            "run `tisi-pay db upgrade`")
