"""It installs like a package: a wheel built from pyproject.toml, installed (not editable) in a
fresh virtualenv, run from an empty directory, answers a chat message with a QR; the CLI's help
needs no configuration; configuration errors are one line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.conftest import NO_ENV_FILE, free_port, wait_until_answers

ROOT = Path(__file__).resolve().parents[1]
BARE_ENV = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
                   check=True, capture_output=True, timeout=600)
    [built] = out.glob("tisi_pay-*.whl")
    return built


def test_wheel_carries_templates_locale_migrations_and_the_font(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("bot/_shipped/templates/flex/invoice_card.json", "bot/_shipped/templates/html/track.html",
                   "bot/_shipped/templates/html/assets/tisi.css", "bot/_shipped/locale/th/LC_MESSAGES/messages.mo",
                   "bot/_shipped/locale/en/LC_MESSAGES/messages.mo", "bot/_shipped/migrations/env.py",
                   "bot/_shipped/migrations/versions/0006_audit_chain.py", "bot/fonts/Laksaman.ttf",
                   "bot/fonts/LICENSE-Laksaman.txt", "bot/dev/fake_line.py", "handlers/chat.py", "app.py",
                   "bot/dev/line_openapi/messaging-api.yml", "bot/dev/line_openapi/LICENSE",
                   "bot/_shipped/migrations/versions/0012_payer_address.py"):
        assert needed in names, needed


@pytest.mark.slow
def test_installed_wheel_runs_the_demo_to_a_qr_reply(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], capture_output=True, text=True,
                         timeout=900)
    assert pip.returncode == 0, pip.stderr[-3000:]
    exe = str(venv / "bin" / "tisi-pay")
    work = tmp_path / "empty"
    work.mkdir()
    shown = subprocess.run([exe, "--help"], cwd=work, env=BARE_ENV, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "remind" in shown.stdout and "audit" in shown.stdout, shown.stderr
    for command in (["remind", "--help"], ["audit", "verify", "--help"], ["richmenu", "deploy", "--help"]):
        assert subprocess.run([exe, *command], cwd=work, env=BARE_ENV, capture_output=True, timeout=60).returncode == 0
    port = free_port()
    demo = subprocess.Popen([exe, "demo", "--port", str(port)], cwd=work, env=BARE_ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answers(f"{base}/healthz", demo)
        user = "U" + "f" * 32
        request = urllib.request.Request(f"{base}/simulator/send", method="POST",
                                         data=json.dumps({"userId": user, "text": "ท 5137-2/10"}).encode(),
                                         headers={"Content-Type": "application/json"})
        assert json.loads(urllib.request.urlopen(request, timeout=30).read())["status"] == 200
        deadline = time.time() + 30
        image = None
        while image is None and time.time() < deadline:
            feed = json.loads(urllib.request.urlopen(f"{base}/simulator/feed?since=0", timeout=10).read())
            image = next((m for item in feed["items"] if item["userId"] == user for m in item["messages"]
                          if m["type"] in ("image", "flex")), None)
            time.sleep(0.2)
        assert image is not None, "no reply"
        page = urllib.request.urlopen(f"{base}/simulator", timeout=10)
        assert page.headers["Content-Security-Policy"]
        assert (work / "instance" / "tisi_pay.db").exists()  # the demo's SQLite, beside where it was started
    finally:
        demo.terminate()
        demo.wait(timeout=30)


def test_configuration_errors_are_one_line(tmp_path):
    from click.testing import CliRunner

    from bot.cli import cli

    result = CliRunner().invoke(cli, ["run"], env={k: "" for k in ("LINE_CHANNEL_SECRET", "SECRET_KEY")})
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "SECRET_KEY" in result.output
    env = {**BARE_ENV, "PYTHONPATH": str(ROOT)}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    port = free_port()
    ran = subprocess.run([str(gunicorn), "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT), "app:app"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode != 0 and "Traceback" not in ran.stderr
    assert "tisi-pay: missing required environment variables: LINE_CHANNEL_SECRET" in ran.stderr


def test_production_refuses_short_keys_and_plain_http():
    from bot.config import ConfigError, Settings
    from tests.conftest import make_env

    base = make_env("sqlite:///instance/tisi_pay.db", "http://127.0.0.1:9", ENV="production")
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(base)
    assert "SECRET_KEY must be at least 32 bytes" in str(refused.value) and "https://" in str(refused.value)
    ok = Settings.from_env({**base, "SECRET_KEY": "k" * 32, "PUBLIC_BASE_URL": "https://pay.tisi.go.th"})
    assert ok.public_base_url == "https://pay.tisi.go.th"
    assert Settings.from_env({**base, "ENV": ""}).secret_key == "test-secret-key"  # development keeps its ease


def test_db_upgrade_names_the_database_without_its_password(tmp_path):
    from click.testing import CliRunner

    from bot.cli import cli

    url = f"sqlite:///{tmp_path}/named.db"
    result = CliRunner().invoke(cli, ["db", "upgrade"], env={"DATABASE_URL": url})
    assert result.exit_code == 0 and f"database schema is up to date: {url}" in result.output
    from sqlalchemy.engine import make_url

    from bot.cli import _database_url  # noqa: F401  (the same URL the command used)

    hidden = make_url("postgresql+psycopg://tisi:s3cret@db.example:5432/tisi").render_as_string(hide_password=True)
    assert "s3cret" not in hidden and "***" in hidden


@pytest.mark.parametrize("url, said, code", [
    ("not a url", "tisi-pay: DATABASE_URL is not a database URL", 2),
    ("mysql://tisi:s3cret@db/tisi", "tisi-pay: DATABASE_URL must be a SQLite file or PostgreSQL, not mysql", 2),
    ("sqlite://", "tisi-pay: DATABASE_URL names an in-memory SQLite database", 2),
    ("postgresql://tisi:s3cret@127.0.0.1:1/tisi", "tisi-pay: the database did not answer (OperationalError: ", 3),
])
def test_a_bad_or_silent_database_is_one_line(url, said, code):
    """What an operator sees from cron: one line naming the problem, never a traceback or the password."""
    exe = str(Path(sys.executable).parent / "tisi-pay")
    for command in (["audit", "verify"], ["audit", "digest"], ["db", "upgrade"]):
        ran = subprocess.run([exe, *command], cwd=NO_ENV_FILE, env={**BARE_ENV, "DATABASE_URL": url}, capture_output=True, text=True,
                             timeout=60)
        assert ran.returncode == code and ran.stderr.startswith(said), (command, ran.stderr)
        assert ran.stderr.count("\n") == 1 and "s3cret" not in ran.stderr and not ran.stdout


def test_settings_refuse_an_in_memory_database():
    from bot.config import ConfigError, Settings
    from tests.conftest import make_env

    with pytest.raises(ConfigError) as refused:
        Settings.from_env(make_env("sqlite://", "http://127.0.0.1:9"))
    assert "in-memory SQLite database" in str(refused.value)
