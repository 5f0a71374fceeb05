"""The app factory: wires settings, database, LINE gateway and blueprints together."""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from linebot.v3 import SignatureValidator
from werkzeug.routing import IntegerConverter

from bot.bank.spool import Spool
from bot.config import ConfigError, Settings
from bot.data.db import Database
from bot.data.states import WorkerKind
from bot.line.gateway import LineGateway
from bot.render.links import make_links
from bot.render.messages import Links
from bot.render.qrcache import QrCache
from bot.services import KEY as SERVICES_KEY

if TYPE_CHECKING:
    from bot.ledger.receipts import ReceiptBook, ReceiptMaker
    from bot.runtime.worker import InlineWorker
from bot.render.templates import TEMPLATE_DIR
from bot.web import guard as webguard


@dataclass
class Services:
    """Everything a request needs, built once per app (one per process)."""

    settings: Settings
    db: Database
    line: LineGateway
    signature: SignatureValidator  # X-Line-Signature of /callback
    links: Links
    bank_db: Database  # its own connection pool: a webhook burst cannot starve the bank
    spool: Spool  # bank messages kept while the database was down, replayed when it is back
    qr_cache: QrCache  # what QR images showed: served while the database is down
    receipt_book: ReceiptBook | None = None  # payments get receipt numbers (RECEIPT_SIGNING_P12 set)
    receipt_maker: ReceiptMaker | None = None  # renders and signs receipt PDFs
    worker: InlineWorker | None = None  # when this process handles events and delivers (WORKER=inline)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        self.bank_db.dispose()


class DatabaseId(IntegerConverter):
    def __init__(self, map, *args, **kwargs):  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", 2**31 - 1)  # the tables' ids are INTEGER
        super().__init__(map, *args, **kwargs)


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> Flask:
    settings = settings or Settings.from_env()
    # Styles and scripts are files (CSP allows no inline ones), served from templates/html/assets.
    app = Flask(__name__, template_folder=str(TEMPLATE_DIR), static_folder=str(TEMPLATE_DIR / "html" / "assets"),
                static_url_path="/assets")
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024  # LINE's own request limit
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Flask's DefaultJSONProvider, which this is
    # <int:…> in every route: at most an INTEGER id, so an absurd number in an address is a 404, not a
    # database error.
    app.url_map.converters["int"] = DatabaseId
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    services = Services(
        settings=settings,
        db=db or Database(settings.database_url),  # waits at most a second for a connection, then 503
        line=LineGateway(settings.line_api_url, settings.line_channel_access_token,
                         data_api_url=settings.line_data_api_url),
        signature=SignatureValidator(settings.line_channel_secret),
        links=make_links(settings),
        bank_db=Database(settings.database_url, **BANK_POOL),
        spool=Spool(Path(settings.bank_spool_dir), settings.bank_spool_max_bytes),
        qr_cache=QrCache(Path(settings.qr_cache_dir)),
    )
    app.extensions[SERVICES_KEY] = services
    _refuse_old_schema(services.db)
    services.receipt_book, services.receipt_maker = _receipts(settings, services.links)

    from bot.web import pages as web
    from bot.web import webhook

    webguard.install_headers(app, https=settings.public_base_url.startswith("https://"))
    limiter = webguard.make_limiter(app, settings)
    app.register_blueprint(webhook.bp)
    app.register_blueprint(web.bp)
    for endpoint in ("web.track", "web.slip", "web.receipt"):  # per client; never /callback, /bank or /qr
        app.view_functions[endpoint] = limiter.limit(webguard.PAGE_LIMIT)(app.view_functions[endpoint])  # type: ignore[assignment]
    _console(app, limiter)
    _register_optional(app, services, limiter)
    _json_errors(app)
    _warm_up()
    return app


def _console(app: Flask, limiter) -> None:
    """The staff console (/staff); its sign-in is rate-limited per client, besides the account's lock."""
    from bot.web import console

    console.install(app)
    app.view_functions["console.sign_in"] = limiter.limit(console.SIGN_IN_LIMIT, methods=["POST"])(
        app.view_functions["console.sign_in"])


def _refuse_old_schema(db: Database) -> None:
    from bot.data.migrate import schema_behind

    problem = schema_behind(db.engine)
    if problem:
        raise ConfigError(problem)


def _receipts(settings: Settings, links: Links):
    from bot.ledger.receipts import from_settings
    from bot.render.pades import SignerError

    try:
        book, maker = from_settings(settings, links)
    except SignerError as exc:
        raise ConfigError(str(exc)) from None
    if book is None:
        logging.getLogger(__name__).warning("receipts are off: RECEIPT_SIGNING_P12 is not set, so payments get no "
                                            "receipt")
    return book, maker


BANK_POOL = {"pool_size": 5, "max_overflow": 5, "pool_timeout": 5.0}


@functools.cache  # once per process: what it loads stays loaded for every app made after
def _warm_up() -> None:
    """Load locale data, catalogs and the QR encoder now, not on the first user's request
    (which otherwise took about a second after each deploy)."""
    from datetime import date, datetime, timezone
    from decimal import Decimal

    from bot.core.dates import (
        format_datetime_local,
        format_long_date,
        format_short_date,
    )
    from bot.core.i18n import Translator
    from bot.core.money import format_number
    from bot.core.textparse import parse_message
    from bot.render.qrimage import qr_png

    for lang in ("th", "en"):
        Translator(lang)("Unpaid")
        format_number(Decimal("1.00"), lang)
        format_long_date(date(2026, 1, 1), lang)
        format_short_date(date(2026, 1, 1), lang)
        format_datetime_local(datetime(2026, 1, 1, tzinfo=timezone.utc), lang)
    parse_message("ชำระ 2568110400012345")
    qr_png.__wrapped__("00020101021130")  # imports the encoder without filling the cache


def _register_optional(app: Flask, services: Services, limiter) -> None:
    """Blueprints that exist only when configured (bank, upstream API) and the inline worker."""
    from bot.bank import routes as bank_routes
    from bot.web import api

    if services.settings.bank_webhook_secret:
        from bot.bank.gate import BankGate
        from bot.bank.service import new_tranx_id

        app.register_blueprint(bank_routes.bp)
        app.wsgi_app = BankGate(app.wsgi_app, services.settings.bank_webhook_secret, new_tranx_id)  # type: ignore[method-assign]
    if services.settings.directlink_enabled:
        app.register_blueprint(bank_routes.directlink_bp)

    if services.settings.metrics_token:
        from bot.web import metrics as metrics_web

        app.register_blueprint(metrics_web.bp)
    if services.settings.upstream_api_token:
        limiter.limit(webguard.API_LIMIT, key_func=lambda: webguard.token_key(services.settings))(api.bp)
        app.register_blueprint(api.bp)
    if services.settings.worker == WorkerKind.INLINE:
        _inline_worker(app, services)


def _inline_worker(app: Flask, services: Services) -> None:
    from bot.runtime.worker import POOL, Dispatcher, InlineWorker, build_queues

    def make_dispatcher() -> Dispatcher:
        db = Database(services.settings.database_url, **POOL)  # its own pool, beside the requests'
        return Dispatcher(db, build_queues(services.settings, db, services.line, services.links,
                                           maker=services.receipt_maker), kind=WorkerKind.INLINE)

    services.worker = InlineWorker(make_dispatcher)

    @app.before_request
    def _start_worker() -> None:
        if services.worker is not None:
            services.worker.start()


def _json_errors(app: Flask) -> None:
    from flask import request
    from sqlalchemy.exc import InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout
    from werkzeug.exceptions import HTTPException

    from bot.web import pages as web
    from bot.web.errors import json_error

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def _database_unavailable(exc: Exception):
        """The database cannot be reached: one line in the log, no traceback, and a 503 that says
        when to come back (LINE and browsers retry)."""
        logging.getLogger(__name__).warning("%s %s answered 503: the database is unavailable (%s)", request.method,
                                            request.path, type(getattr(exc, "orig", None) or exc).__name__)
        if web.wants_page():
            response = web.error_page(503)
        else:
            response, _ = json_error(503, "unavailable", "the database is unavailable; please retry")
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if web.wants_page():  # a person in a browser: a page in their language (e.g. the 429)
            return web.error_page(exc.code or 500)
        return json_error(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or exc.name)
