"""`tisi-pay`: the project's commands (a click group of ours; the web app is built by
`bot.factory.create_app` only where a command serves it)."""
from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from bot.config import ConfigError, Settings


def _create_app():
    from bot.factory import create_app

    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"tisi-pay: {exc}", err=True)
        sys.exit(2)


class _Group(click.Group):
    """Lists the commands in the order a reader meets them, not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


cli = _Group(help="TISI Pay: the LINE payment assistant of the Thai Industrial Standards Institute.",
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})


@cli.command("demo", short_help='Try it locally: SQLite, demo invoices, a LINE simulator.')
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the database and demo data, then exit.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Run on embedded defaults: SQLite, demo invoices, fake LINE API and /simulator."""
    from bot.dev.demo import run_demo

    run_demo(host, port, serve=not no_serve)


@cli.command("run", short_help="Serve the web app on one process (small setups; production: serve).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Serve the web app (LINE webhook, bank endpoints, pages, API) on one threaded process.

    For small setups (WORKER=inline: this process also replies and delivers). For production,
    `tisi-pay serve` runs gunicorn and the workers together."""
    from werkzeug.serving import run_simple

    run_simple(host, port, _create_app(), threaded=True)


@cli.command("serve", short_help="Production: gunicorn and the workers under one supervisor.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address gunicorn listens on.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--web-processes", default=2, show_default=True, type=click.IntRange(1, 64),
              help="gunicorn processes (webhook, bank, pages, API).")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 256),
              help="Threads per gunicorn process.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="`tisi-pay worker` processes (replies, pushes, receipts, photos).")
def serve(host: str, port: int, web_processes: int, threads: int, workers: int) -> None:
    """The production layout in one command: gunicorn serving the app and `tisi-pay worker`
    processes handling what it stores (WORKER=external is set for all of them), started and
    stopped together. SIGTERM/SIGINT stop everything; SIGHUP reloads; a process that dies is started
    again, and one that keeps dying stops the lot (exit 1) for the service manager to see."""
    import logging

    from bot.runtime.supervisor import serve as run_supervisor

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    _ready_settings({**os.environ, "WORKER": "external"})
    sys.exit(run_supervisor(host, port, web_processes, threads, workers))


@cli.group(short_help='Create or migrate the database schema.')
def db() -> None:
    """Database schema."""


@db.command("upgrade", short_help="Create or migrate the schema on DATABASE_URL.")
def db_upgrade() -> None:
    """Create or migrate the schema (Alembic) on DATABASE_URL."""
    from sqlalchemy.engine import make_url

    from bot.data.db import normalize_url
    from bot.data.migrate import upgrade

    url = _database_url()
    upgrade(url)
    shown = make_url(normalize_url(url)).render_as_string(hide_password=True)
    click.echo(f"database schema is up to date: {shown}")


@cli.group(short_help="Load invoices from the Institute's CSV files.")
def invoices() -> None:
    """Invoices from the Institute's systems."""


@invoices.command("import", short_help="Load invoices from a CSV file.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--encoding", type=click.Choice(["utf-8", "tis-620"]), default="utf-8", show_default=True,
              help="tis-620: a file saved as Thai (Windows-874), as Excel does.")
def invoices_import(file: Path, encoding: str) -> None:
    """Load invoices from a CSV file with a header row (UTF-8, a BOM allowed).

    \b
    Columns, in any order: invoice_no, ref2, license_no (optional),
    tax_id, payer_name, fee_code, description, amount (baht, e.g.
    1000.00), due_date (Gregorian YYYY-MM-DD). Every column is described
    in docs/integrators.md. Prints created / updated / unchanged /
    rejected; exit 1 if any row was rejected (nothing of it is written)."""
    from bot.ledger.invoices import CsvFormatError, read_csv_records, upsert_invoices

    database = _existing_database(_database_url())
    settings, why_not = _settings_or_reason()
    notified = 0
    try:
        rows = ((line, record if error is None else error) for line, record, error in read_csv_records(file.read_bytes(), encoding))
        with database.transaction() as session:
            result = upsert_invoices(session, rows, actor="import")
            if settings is not None and result.created_ids:
                from bot.core.dates import utcnow
                from bot.ledger.reminders import queue_new_invoice_notices
                from bot.render.links import make_links

                notified = queue_new_invoice_notices(session, result.created_ids, settings, make_links(settings), utcnow())
    except CsvFormatError as exc:
        click.echo(f"rejected the whole file: {exc}", err=True)
        sys.exit(1)
    finally:
        database.dispose()
    click.echo(f"created: {result.created}  updated: {result.updated}  unchanged: {result.unchanged}  "
               f"rejected: {len(result.rejected)}")
    if notified:
        click.echo(f"new-invoice notices queued for subscribers: {notified}")
    elif result.created_ids and settings is None:
        click.echo(f"new-invoice notices: not queued here ({why_not}); the next `tisi-pay remind` sends them")
    for line, reason in result.rejected:
        click.echo(f"  line {line}: {reason}")
    if result.rejected:
        sys.exit(1)


def _moment(at: str) -> datetime:
    """--at: ISO-8601; without an offset it is Bangkok time. A Buddhist-era year is refused with
    the Gregorian date to type, as the invoice import does."""
    from bot.core.dates import BANGKOK, BE_OFFSET, looks_buddhist

    year = at[:4]
    if year.isdigit() and looks_buddhist(int(year)):
        click.echo(f"tisi-pay remind: --at {at} has a Buddhist-era year; write the Gregorian year (BE − 543): "
                   f"{int(year) - BE_OFFSET}{at[4:]}", err=True)
        sys.exit(2)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        click.echo(f"tisi-pay remind: --at {at!r} is not an ISO date and time such as 2026-12-24T09:00", err=True)
        sys.exit(2)
    return (moment.replace(tzinfo=BANGKOK) if moment.tzinfo is None else moment).astimezone(timezone.utc)


def _missing_database(url: str) -> str | None:
    """Why commands that work on an existing database cannot start, or None. A SQLite file that
    is not there is named (opening it would create an empty one in whatever folder this runs)."""
    from sqlalchemy.engine import make_url

    from bot.data.db import normalize_url

    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        return (f"the database file {Path(parsed.database).resolve()} does not exist: run this where the bot's "
                "database is, set DATABASE_URL, or create it with `tisi-pay db upgrade` (or `tisi-pay demo`)")
    return None


def _existing_database(url: str):
    """A Database for a command that must not create one: exit 2 with one line if it is missing."""
    from bot.data.db import Database

    problem = _missing_database(url)
    if problem:
        click.echo(f"tisi-pay: {problem}", err=True)
        sys.exit(2)
    return Database(url)


def _settings_or_exit() -> Settings:
    """The whole configuration, or one line saying what is wrong and exit 2."""
    try:
        return Settings.from_env()
    except ConfigError as exc:
        click.echo(f"tisi-pay: {exc}", err=True)
        sys.exit(2)


def _settings_or_reason() -> tuple[Settings | None, str]:
    try:
        return Settings.from_env(), ""
    except ConfigError as exc:
        return None, str(exc)


@cli.command("remind", short_help='Queue due-date reminders, overdue and new-invoice notices (cron).')
@click.option("--at", "at", default=None, metavar="ISO-DATETIME",
              help="The moment to run as (default: now). Without a UTC offset it is Bangkok time, "
                   "e.g. 2026-12-24T09:00.")
def remind(at: str | None) -> None:
    """Queue the due-date reminders, overdue and new-invoice notices due now, to subscribers.

    Each (user, invoice, kind) goes out once ever, however often and on however many machines
    this runs (cron every 10 minutes is the intent); nothing inside QUIET_HOURS."""
    from bot.core.dates import utcnow
    from bot.ledger.reminders import remind as run_remind
    from bot.render.links import make_links

    settings = _settings_or_exit()
    moment = _moment(at) if at else utcnow()
    database = _existing_database(settings.database_url)
    try:
        with database.transaction() as session:
            report = run_remind(session, settings, make_links(settings), moment)
    finally:
        database.dispose()
    click.echo(report.line())


@cli.group(short_help="Build and deploy the chat's rich menu on the LINE channel.")
def richmenu() -> None:
    """The chat's rich menu."""


@richmenu.command("deploy", short_help="Create the menu on LINE, make it the default.")
@click.option("--image", "image_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the menu image here, to look at it.")
def richmenu_deploy(image_path: Path | None) -> None:
    """Build the menu image, create the menu on the LINE channel, set it as default, delete the
    menus it replaces."""
    from linebot.v3.messaging.exceptions import ApiException
    from urllib3.exceptions import HTTPError as TransportError

    from bot.line.richmenu import build_image, deploy

    settings = _settings_or_exit()
    if image_path:
        image_path.write_bytes(build_image())
    try:
        result = deploy(settings.line_api_url, settings.line_data_api_url, settings.line_channel_access_token)
    except ApiException as exc:
        click.echo(f"tisi-pay richmenu deploy: LINE answered {exc.status}: {(exc.body or '')[:300]}", err=True)
        sys.exit(1)
    except (OSError, TransportError) as exc:
        click.echo(f"tisi-pay richmenu deploy: cannot reach LINE at {settings.line_api_url}: {exc}", err=True)
        sys.exit(1)
    click.echo(f"rich menu {result.rich_menu_id} is the default ({result.image_bytes} bytes); "
               f"deleted {len(result.deleted)} older: {', '.join(result.deleted) or '-'}")


@cli.command("worker", short_help='Reply to stored webhook events and deliver pushes until stopped.')
@click.option("--lease", default=None, type=float,
              help="Seconds a claimed item stays reserved (default: 30 for replies, 60 for notices); "
                   "after a crash it is taken up again when this runs out.")
def worker(lease: float | None) -> None:
    """Handle stored webhook events and deliver queued pushes until stopped (for WORKER=external)."""
    from bot.runtime.worker import run_worker

    run_worker(_ready_settings(), lease=lease)


def _ready_settings(env: dict[str, str] | None = None) -> Settings:
    """The settings, when they are complete and the database's schema is this release's; else one
    line and exit status 2 (what a process that serves or works must not start without)."""
    from bot.data.migrate import schema_behind

    try:
        settings = Settings.from_env(env)
    except ConfigError as exc:
        click.echo(f"tisi-pay: {exc}", err=True)
        sys.exit(2)
    database = _existing_database(settings.database_url)
    problem = schema_behind(database.engine)
    database.dispose()
    if problem:
        click.echo(f"tisi-pay: {problem}", err=True)
        sys.exit(2)
    return settings


@cli.command("health", short_help='Exit 0 when all is well, else 1 with the reason (monitoring).')
def health_command() -> None:
    """Exit 0 when all is well; else exit 1 with the reason on one line (for cron and monitoring).

    Checks that the database answers, that a worker was seen within 60 s and that nothing
    queued (webhook events, notices) has waited over 120 s.
    """
    from bot.data.db import Database
    from bot.runtime import health

    url = _database_url()
    problem = _missing_database(url)
    if problem:
        click.echo(f"unhealthy: {problem}")
        sys.exit(1)
    database = Database(url)
    try:
        state = health.check(database)
    except Exception as exc:
        orig = getattr(exc, "orig", None) or exc
        if "does not exist" in str(orig):  # the server answered: it has no such database
            click.echo(f"unhealthy: {str(orig).strip().splitlines()[0][:200]}")
        else:
            click.echo(f"unhealthy: database unavailable ({type(orig).__name__})")
        sys.exit(1)
    finally:
        database.dispose()
    problems = state.problems()
    figures = ", ".join(f"{k}={v}" for k, v in state.as_dict().items())
    spool_problem, spool_used = _bank_spool()
    if spool_problem:
        problems.append(spool_problem)
    figures += f", bank_spool_bytes={spool_used}"
    if problems:
        click.echo(f"unhealthy: {'; '.join(problems)} ({figures})")
        sys.exit(1)
    click.echo(f"ok ({figures})")


def _bank_spool() -> tuple[str | None, int]:
    """The bank spool of this machine (BANK_SPOOL_DIR): a problem when it is at its cap."""
    from bot.bank.spool import is_full, spool_bytes
    from bot.config import DEFAULT_SPOOL_DIR, DEFAULT_SPOOL_MAX_BYTES

    used = spool_bytes(Path(os.environ.get("BANK_SPOOL_DIR", "").strip() or DEFAULT_SPOOL_DIR))
    cap_mb = os.environ.get("BANK_SPOOL_MAX_MB", "").strip()
    cap = int(cap_mb) * 1024 * 1024 if cap_mb.isdigit() and int(cap_mb) > 0 else DEFAULT_SPOOL_MAX_BYTES
    if is_full(used, cap):
        return (f"the bank spool is full ({used} of {cap} bytes): the bank is answered 9999 without being kept "
                "until the database takes what waits"), used
    return None, used


@cli.command("reconcile", short_help="Check the bank's daily statement file against the payments.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["en", "th"]), default="en", show_default=True,
              help="The report's language: English (for scripts) or Thai (for the finance office).")
def reconcile(file: Path, lang: str) -> None:
    """Import a bank statement file and print the reconciliation report.

    Exit 0 when every line matches, 1 when staff must look at something, 2 when the file was refused.
    """
    from bot.core.statement import StatementError, parse_statement
    from bot.ledger.reconcile import reconcile_file, render

    try:  # a refused file is refused before any database is opened
        parse_statement(file.read_bytes())
    except StatementError as exc:
        click.echo(f"rejected the whole file: {exc}", err=True)
        sys.exit(2)
    database = _existing_database(_database_url())
    try:
        with database.transaction() as session:
            report = reconcile_file(session, file.read_bytes())
    except StatementError as exc:
        click.echo(f"rejected the whole file: {exc}", err=True)
        sys.exit(2)
    finally:
        database.dispose()
    click.echo(render(report, lang))
    sys.exit(0 if report.balanced else 1)


@cli.group(short_help='Verify the audit chain; print its daily digest.')
def audit() -> None:
    """The audit chain: verify it, publish its daily digest."""


@audit.command("verify", short_help="Re-check the chain, bank signatures, invoices.")
@click.option("--digest", "digest_files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A digest published earlier (the JSON `audit digest` printed); may be given several times.")
def audit_verify(digest_files: tuple[Path, ...]) -> None:
    """Re-check the chain, the bank's signatures and every invoice against its audit entries.

    Exit 0 when intact; 1 naming the first broken link, row or invoice."""
    import json

    from bot.ledger.audit import verify

    digests = []
    for path in digest_files:
        try:
            digests.append({k: v for k, v in json.loads(path.read_text()).items() if k in ("date", "last_seq", "last_hash")})
        except (ValueError, AttributeError):
            click.echo(f"tisi-pay audit verify: {path} is not a digest printed by `tisi-pay audit digest`", err=True)
            sys.exit(2)
    secret = os.environ.get("BANK_WEBHOOK_SECRET") or None
    database = _existing_database(_database_url())
    try:
        with database.sessions() as session:
            verdict = verify(session, secret, digests)
        from bot.ledger.console import remember_check

        with database.transaction() as session:  # shown on the console's first page
            remember_check(session, verdict)
    finally:
        database.dispose()
    click.echo(verdict.line())
    if not secret:
        click.echo("(bank signatures not checked: BANK_WEBHOOK_SECRET is not set)")
    sys.exit(0 if verdict.intact else 1)


@audit.command("digest", short_help="Print a day's last chain hash and counts.")
@click.option("--date", "day", default=None, metavar="YYYY-MM-DD", help="The day (Bangkok); default: yesterday.")
def audit_digest(day: str | None) -> None:
    """Print the day's last chain hash and counts as JSON; with UPSTREAM_CALLBACK_URL set, also
    send it there (once per day, through the outbox). Run it from cron after midnight."""
    import json
    from datetime import date, timedelta

    from bot.core.dates import today_bangkok
    from bot.ledger.audit import digest

    try:
        when = date.fromisoformat(day) if day else today_bangkok() - timedelta(days=1)
    except ValueError:
        click.echo(f"tisi-pay audit digest: --date {day!r} is not YYYY-MM-DD", err=True)
        sys.exit(2)
    database = _existing_database(_database_url())
    try:
        with database.transaction() as session:
            published = digest(session, when)
            sent = None
            if os.environ.get("UPSTREAM_CALLBACK_URL") and os.environ.get("UPSTREAM_API_TOKEN"):
                from bot.data.states import NoticeChannel
                from bot.ledger.notices import UPSTREAM_RECIPIENT, enqueue

                body = json.dumps({"event": "audit.digest", **published}, separators=(",", ":"))
                sent = enqueue(session, channel=NoticeChannel.UPSTREAM, event_key=f"digest:{when.isoformat()}",
                               to=UPSTREAM_RECIPIENT, body=body)
    finally:
        database.dispose()
    click.echo(json.dumps(published, sort_keys=True))
    if sent is not None:
        click.echo("queued for UPSTREAM_CALLBACK_URL" if sent else "already queued for UPSTREAM_CALLBACK_URL", err=True)


@cli.group(short_help="Check a receipt PDF.")
def receipt() -> None:
    """Receipts (ใบเสร็จรับเงิน) issued with confirmed payments."""


@receipt.command("verify", short_help="Check a receipt's signature, chain link and status.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def receipt_verify(file: Path) -> None:
    """Check FILE.pdf: the signature is intact and covers the whole file (unmodified since
    signing), the signer is the certificate of RECEIPT_SIGNING_P12 (or chains to
    RECEIPT_TRUST_ROOTS), the file's SHA-256, number and amount are in the audit chain, and the
    receipt is not void. Exit 0 valid; 1 with the reason."""
    from bot.ledger.receipts import trusted_certificates, verify_file
    from bot.render.pades import SignerError

    try:
        trusted = trusted_certificates(os.environ.get("RECEIPT_SIGNING_P12", "").strip(),
                                       os.environ.get("RECEIPT_SIGNING_PASSWORD"),
                                       os.environ.get("RECEIPT_TRUST_ROOTS", "").strip())
    except (SignerError, OSError, ValueError) as exc:
        click.echo(f"tisi-pay receipt verify: {exc}", err=True)
        sys.exit(2)
    if not trusted:
        click.echo("tisi-pay receipt verify: set RECEIPT_SIGNING_P12 (and RECEIPT_SIGNING_PASSWORD) or "
                   "RECEIPT_TRUST_ROOTS: the certificates a receipt may be signed with", err=True)
        sys.exit(2)
    database = _existing_database(_database_url())
    try:
        with database.sessions() as session:
            verdict = verify_file(session, file.read_bytes(), trusted)
    finally:
        database.dispose()
    for line in verdict.lines:
        click.echo(line)
    sys.exit(0 if verdict.valid else 1)


@cli.group(short_help="Accounts of the staff console (/staff).")
def staff() -> None:
    """Accounts of the staff console: viewer (reads), finance (also retries and exports, answers
    conversations), admin (also manages accounts)."""


@staff.command("add", short_help="Make an account; print its one-time password and TOTP QR.")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "finance", "admin"]), required=True)
def staff_add(name: str, role: str) -> None:
    """Make an account NAME with a role. Prints a one-time password (the first sign-in must set a
    new one) and the TOTP provisioning URI, as text and as a QR code to scan with an
    authenticator app (Google Authenticator, Microsoft Authenticator, FreeOTP, …). Show them only
    to the person: they are not printed again."""
    import segno

    from bot.data.states import StaffRole
    from bot.ledger.staff import AccountError, add_account

    database = _existing_database(_database_url())
    try:
        with database.transaction() as session:
            made = add_account(session, name, StaffRole(role))
    except AccountError as exc:
        click.echo(f"tisi-pay staff add: {exc}", err=True)
        sys.exit(1)
    finally:
        database.dispose()
    click.echo(f"account {made.name} ({made.role}) is ready.")
    click.echo(f"one-time password: {made.password}")
    click.echo(f"TOTP provisioning URI: {made.totp_uri}")
    click.echo("scan it with an authenticator app:")
    segno.make(made.totp_uri, error="m").terminal(compact=True)
    click.echo("sign in at /staff with the name, this password and the app's 6-digit code; then choose a new password.")


@staff.command("list", short_help="List the accounts.")
def staff_list() -> None:
    """Each account: name, role, state (active, locked, disabled, one-time password unchanged), last sign-in."""
    from bot.core.dates import to_bangkok, utcnow
    from bot.ledger.staff import accounts

    database = _existing_database(_database_url())
    try:
        with database.sessions() as session:
            found = accounts(session)
    finally:
        database.dispose()
    if not found:
        click.echo("no accounts yet: tisi-pay staff add NAME --role viewer|finance|admin")
        return
    now = utcnow()
    for a in found:
        if a.disabled_at:
            state = f"disabled {a.disabled_at:%Y-%m-%d %H:%M}Z"
        elif a.locked_until and a.locked_until > now:
            state = f"locked until {a.locked_until:%Y-%m-%d %H:%M}Z"
        elif a.password_temporary:
            state = "one-time password not yet changed"
        else:
            state = "active"
        # Bangkok time, as the console shows it (there in the Buddhist era, in Thai)
        last = f"{to_bangkok(a.last_sign_in_at):%Y-%m-%d %H:%M} +07:00" if a.last_sign_in_at else "never"
        click.echo(f"{a.name:<24} {a.role:<8} {state:<36} last sign-in: {last}")


@staff.command("disable", short_help="Disable an account (its sessions end at once).")
@click.argument("name")
def staff_disable(name: str) -> None:
    """Disable account NAME: it can no longer sign in, and its open sessions end at their next click."""
    from bot.ledger.staff import AccountError, disable_account

    database = _existing_database(_database_url())
    try:
        with database.transaction() as session:
            disable_account(session, name)
    except AccountError as exc:
        click.echo(f"tisi-pay staff disable: {exc}", err=True)
        sys.exit(1)
    finally:
        database.dispose()
    click.echo(f"account {name.strip().lower()} is disabled")


def _database_url() -> str:
    """Schema and import commands need only the database, not the LINE settings; a bad
    DATABASE_URL is one line and exit 2."""
    from bot.config import database_url

    try:
        return database_url(os.environ)
    except ConfigError as exc:
        click.echo(f"tisi-pay: {exc}", err=True)
        sys.exit(2)


ENV_FILE = ".env"


def load_env_file(folder: Path | None = None) -> None:
    """./.env, when present: its variables for every command; real environment variables win."""
    from dotenv import load_dotenv

    path = (folder or Path.cwd()) / ENV_FILE
    if path.is_file():
        load_dotenv(path, override=False)


def main() -> None:
    from sqlalchemy.exc import InterfaceError, OperationalError

    load_env_file()
    try:
        cli.main(prog_name="tisi-pay")
    except (OperationalError, InterfaceError) as exc:  # the database is down or unreachable: no traceback
        reason = str(exc.orig or exc).strip().splitlines()[0][:300]
        if "does not exist" in reason:  # the server answered: it has no such database
            click.echo(f"tisi-pay: the server has no such database ({reason}): create it, then run "
                       "`tisi-pay db upgrade`", err=True)
            sys.exit(2)
        click.echo(f"tisi-pay: the database did not answer ({type(exc.orig or exc).__name__}: {reason})", err=True)
        sys.exit(3)


if __name__ == "__main__":
    main()
