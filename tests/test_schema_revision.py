"""A release refuses a database whose schema it has not been migrated to: the web app (one line,
gunicorn halts), the worker and `tisi-pay health` say what to run. On PostgreSQL this is also
what keeps payments from being written where the audit chain's triggers do not exist yet."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from tests.conftest import free_port, make_env

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def behind(request, tmp_path):
    """A database one release behind: migrated to the revision before this release's head."""
    from bot.data.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/behind.db"
        upgrade(url, "0006")
        yield url
        return
    from tests.conftest import empty_pg_database

    with empty_pg_database("tisi_behind") as url:
        upgrade(url, "0006")
        yield url


def test_web_worker_and_health_refuse_a_schema_behind_until_upgraded(behind, fake_line):
    from bot.cli import cli
    from bot.config import ConfigError, Settings
    from bot.data.migrate import head_revision, upgrade
    from bot.factory import create_app

    expected = f"the database is at schema revision 0006, this release needs {head_revision()}: run `tisi-pay db upgrade`"
    env = make_env(behind, fake_line.url)
    with pytest.raises(ConfigError) as refused:
        create_app(Settings.from_env(env))
    assert str(refused.value) == expected
    worker = CliRunner().invoke(cli, ["worker"], env=env)
    assert worker.exit_code == 2 and worker.output == f"tisi-pay: {expected}\n"
    health = CliRunner().invoke(cli, ["health"], env={"DATABASE_URL": behind})
    assert health.exit_code == 1 and health.output.startswith(f"unhealthy: {expected}")

    upgrade(behind)
    app = create_app(Settings.from_env(env))
    assert app.test_client().get("/healthz").status_code in (200, 503)  # 503 only for the worker not seen yet
    assert "schema" not in CliRunner().invoke(cli, ["health"], env={"DATABASE_URL": behind}).output


def test_a_newer_releases_schema_runs(tmp_path, fake_line):
    """Migrations only add: rolling the code back one release must not stop the service."""
    from bot.config import Settings
    from bot.data.migrate import upgrade
    from bot.factory import create_app

    url = f"sqlite:///{tmp_path}/newer.db"
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    assert create_app(Settings.from_env(make_env(url, fake_line.url))).test_client().get("/healthz").status_code


def test_gunicorn_on_an_empty_database_is_one_line(tmp_path, fake_line):
    url = f"sqlite:///{tmp_path}/empty.db"
    env = {**make_env(url, fake_line.url), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    ran = subprocess.run([str(gunicorn), "-b", f"127.0.0.1:{free_port()}", "--chdir", str(ROOT), "app:app"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode != 0 and "Traceback" not in ran.stderr, ran.stderr
    assert "tisi-pay: the database is at schema revision none (empty), this release needs" in ran.stderr
    from bot.cli import cli

    health = CliRunner().invoke(cli, ["health"], env={"DATABASE_URL": url})
    assert health.exit_code == 1 and health.output.startswith("unhealthy: the database is at schema revision none")
