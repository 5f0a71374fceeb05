"""Settings from the environment; a missing required variable names every missing one."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping

from bot.core.clientip import parse_networks
from bot.core.etda import TISI_ADDRESS, IssuerAddress, issuer_address_from
from bot.core.receiptno import DEFAULT_PREFIX, PREFIX_RE
from bot.core.refs import is_biller_id
from bot.core.schedule import (
    DEFAULT_OFFICE_HOURS,
    DEFAULT_QUIET_HOURS,
    DEFAULT_REMINDER_DAYS,
    OfficeHours,
    QuietHours,
    parse_reminder_days,
)
from bot.core.taxid import is_valid_tax_id

DEFAULT_DATABASE_URL = "sqlite:///instance/tisi_pay.db"
DEMO_BILLER_ID = "099999999999990"  # the published test biller, never a real one
# Its first 13 digits with the check digit the Revenue Department's rule gives (0999999999999 fails
# it): the demo's receipts name a tax ID that passes every check and belongs to nobody real.
DEMO_ISSUER_TAX_ID = "0999999999991"


class ConfigError(RuntimeError):
    pass


def database_url(env: Mapping[str, str]) -> str:
    """DATABASE_URL (or the default), or ConfigError saying in one line what is wrong with it.

    Only SQLite files and PostgreSQL: an in-memory SQLite database would be a new, empty one on
    every connection, so payments would vanish between two requests."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    try:
        parsed = make_url(url)
    except ArgumentError:  # the URL itself is not repeated: it may hold a password
        raise ConfigError("DATABASE_URL is not a database URL (e.g. sqlite:///instance/tisi_pay.db or "
                          "postgresql://user@host:5432/tisi)") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql", "postgres"):
        raise ConfigError(f"DATABASE_URL must be a SQLite file or PostgreSQL, not {backend}")
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ConfigError("DATABASE_URL names an in-memory SQLite database, empty again on every connection: "
                          "give a file, e.g. sqlite:///instance/tisi_pay.db")
    return url


DEFAULT_SPOOL_DIR = "instance/bank-spool"
DEFAULT_SPOOL_MAX_BYTES = 64 * 1024 * 1024  # 64 MB: a day of the bank's traffic many times over


@dataclass(frozen=True)

class Settings:
    database_url: str
    line_channel_secret: str
    line_channel_access_token: str
    line_api_url: str
    public_base_url: str
    biller_id: str
    secret_key: str
    bank_webhook_secret: str | None = None
    upstream_api_token: str | None = None
    upstream_callback_url: str | None = None
    worker: str = "inline"
    ktb_directlink_user: str | None = None
    ktb_directlink_password: str | None = None
    ktb_company_code: str | None = None
    ktb_allowed_ips: tuple = ()  # networks allowed to call /bank/ktb/directlink (empty: any)
    trusted_proxies: tuple = ()  # networks whose X-Forwarded-For is believed
    support_contact: str = ""  # shown to people beside the Institute's name
    ratelimit_storage_uri: str = "memory://"  # redis://… when several machines share the limits
    reminder_days: tuple = (7, 1)  # days before the due date on which subscribers are reminded
    quiet_hours: QuietHours | None = QuietHours.parse(DEFAULT_QUIET_HOURS)  # Bangkok hours with no reminders
    metrics_token: str | None = None  # bearer token of GET /metrics; the endpoint exists only when set
    # LINE's content host: what users send and rich-menu images live only there, not at line_api_url.
    line_data_api_url: str = "https://api-data.line.me"
    receipt_prefix: str = DEFAULT_PREFIX
    # Receipts are issued only with a signing key: without one a payment gets no receipt number.
    receipt_signing_p12: str | None = None
    receipt_signing_password: str | None = None
    receipt_trust_roots: str | None = None  # PEM file of CAs `receipt verify` accepts besides our certificate
    # The issuer printed on receipts and in their ETDA XML: tax ID (else BILLER_ID's first 13 digits)
    # and structured address (else the Institute's own)
    receipt_issuer_tax_id: str | None = None
    receipt_issuer_address: IssuerAddress = TISI_ADDRESS
    office_hours: OfficeHours = OfficeHours.parse(DEFAULT_OFFICE_HOURS)  # told to users who ask for a person
    # Authenticated bank messages kept while the database cannot be reached (bot.bank.spool).
    bank_spool_dir: str = DEFAULT_SPOOL_DIR
    bank_spool_max_bytes: int = DEFAULT_SPOOL_MAX_BYTES  # past it the bank gets 9999 unspooled, and health alerts
    qr_cache_dir: str = "instance/qr-cache"  # what QR images showed: served while the database is down

    @property
    def issuer_tax_id(self) -> str:
        return self.receipt_issuer_tax_id or self.biller_id[:13]

    @property
    def receipts_enabled(self) -> bool:
        return bool(self.receipt_signing_p12)

    @property
    def directlink_enabled(self) -> bool:
        return bool(self.ktb_directlink_user and self.ktb_directlink_password)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, demo_defaults: Mapping[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        for key, value in (demo_defaults or {}).items():
            env.setdefault(key, value)
        required = (
            "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "PUBLIC_BASE_URL", "BILLER_ID", "SECRET_KEY",
        )
        missing = [name for name in required if not env.get(name, "").strip()]
        if missing:
            raise ConfigError("missing required environment variables: " + ", ".join(missing))
        problems = []
        if not is_biller_id(env["BILLER_ID"]):
            problems.append("BILLER_ID must be 15 digits (13-digit tax ID + 2-digit suffix)")
        worker = env.get("WORKER", "inline").strip() or "inline"
        if worker not in ("inline", "external"):
            problems.append("WORKER must be 'inline' or 'external'")
        base = env["PUBLIC_BASE_URL"].strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", base):
            problems.append("PUBLIC_BASE_URL must be an http(s) origin")
        networks = {}
        for name in ("KTB_ALLOWED_IPS", "TRUSTED_PROXIES"):
            try:
                networks[name] = parse_networks(env.get(name, ""))
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        directlink = bool(env.get("KTB_DIRECTLINK_USER") and env.get("KTB_DIRECTLINK_PASSWORD"))
        if directlink and not env.get("KTB_COMPANY_CODE", "").strip():
            problems.append("KTB_COMPANY_CODE is required with KTB_DIRECTLINK_USER and KTB_DIRECTLINK_PASSWORD")
        ratelimit_uri = env.get("RATELIMIT_STORAGE_URI", "").strip() or "memory://"
        if not ratelimit_uri.startswith(("memory://", "redis://", "rediss://")):
            problems.append("RATELIMIT_STORAGE_URI must be memory:// or redis://host:port")
        reminder_days: tuple[int, ...] = ()
        quiet_hours = None
        try:
            reminder_days = parse_reminder_days(env.get("REMINDER_DAYS", DEFAULT_REMINDER_DAYS))
        except ValueError as exc:
            problems.append(f"REMINDER_DAYS: {exc}")
        try:
            quiet_hours = QuietHours.parse(env.get("QUIET_HOURS", DEFAULT_QUIET_HOURS))
        except ValueError as exc:
            problems.append(f"QUIET_HOURS: {exc}")
        office_hours = OfficeHours.parse(DEFAULT_OFFICE_HOURS)
        try:
            office_hours = OfficeHours.parse(env.get("OFFICE_HOURS", "").strip() or DEFAULT_OFFICE_HOURS)
        except ValueError as exc:
            problems.append(f"OFFICE_HOURS: {exc}")
        receipt_prefix = env.get("RECEIPT_PREFIX", "").strip() or DEFAULT_PREFIX
        if not PREFIX_RE.match(receipt_prefix):
            problems.append("RECEIPT_PREFIX must be 1-12 characters of A-Z and 0-9")
        p12 = env.get("RECEIPT_SIGNING_P12", "").strip() or None
        if p12 and not os.path.isfile(p12):
            problems.append(f"RECEIPT_SIGNING_P12 names no file: {p12}")
        trust_roots = env.get("RECEIPT_TRUST_ROOTS", "").strip() or None
        if trust_roots and not os.path.isfile(trust_roots):
            problems.append(f"RECEIPT_TRUST_ROOTS names no file: {trust_roots}")
        issuer_tax_id = env.get("RECEIPT_ISSUER_TAX_ID", "").strip() or None
        if issuer_tax_id and not is_valid_tax_id(issuer_tax_id):
            problems.append("RECEIPT_ISSUER_TAX_ID must be 13 digits with a valid check digit")
        issuer_address = TISI_ADDRESS
        try:
            issuer_address = issuer_address_from(env.get("RECEIPT_ISSUER_ADDRESS", ""))
        except ValueError as exc:
            problems.append(f"RECEIPT_ISSUER_ADDRESS: {exc}")
        spool_max = env.get("BANK_SPOOL_MAX_MB", "").strip()
        if spool_max and not (spool_max.isdigit() and 0 < int(spool_max) <= 100_000):
            problems.append("BANK_SPOOL_MAX_MB must be a whole number of megabytes, 1-100000")
        if env.get("ENV", "").strip().lower() == "production":
            # LINE fetches images only over https, and a short key makes the tokens guessable.
            if len(env["SECRET_KEY"].encode()) < 32:
                problems.append("SECRET_KEY must be at least 32 bytes with ENV=production")
            if not base.startswith("https://"):
                problems.append("PUBLIC_BASE_URL must be https:// with ENV=production")
        try:
            db_url = database_url(env)
        except ConfigError as exc:
            problems.append(str(exc))
        if problems:
            raise ConfigError("invalid configuration: " + "; ".join(problems))
        return cls(
            database_url=db_url,
            line_channel_secret=env["LINE_CHANNEL_SECRET"],
            line_channel_access_token=env["LINE_CHANNEL_ACCESS_TOKEN"],
            # The SDK concatenates host + path: a trailing slash would give "//v2/...".
            line_api_url=(env.get("LINE_API_URL", "").strip() or "https://api.line.me").rstrip("/"),
            line_data_api_url=(env.get("LINE_DATA_API_URL", "").strip() or "https://api-data.line.me").rstrip("/"),
            public_base_url=base,
            biller_id=env["BILLER_ID"],
            secret_key=env["SECRET_KEY"],
            bank_webhook_secret=env.get("BANK_WEBHOOK_SECRET") or None,
            upstream_api_token=env.get("UPSTREAM_API_TOKEN") or None,
            upstream_callback_url=env.get("UPSTREAM_CALLBACK_URL") or None,
            worker=worker,
            ktb_directlink_user=env.get("KTB_DIRECTLINK_USER") or None,
            ktb_directlink_password=env.get("KTB_DIRECTLINK_PASSWORD") or None,
            ktb_company_code=env.get("KTB_COMPANY_CODE", "").strip() or None,
            ktb_allowed_ips=networks.get("KTB_ALLOWED_IPS", ()),
            trusted_proxies=networks.get("TRUSTED_PROXIES", ()),
            support_contact=" ".join(env.get("SUPPORT_CONTACT", "").split())[:200],
            ratelimit_storage_uri=ratelimit_uri,
            reminder_days=reminder_days,
            quiet_hours=quiet_hours,
            metrics_token=env.get("METRICS_TOKEN", "").strip() or None,
            receipt_prefix=receipt_prefix,
            receipt_signing_p12=p12,
            receipt_signing_password=env.get("RECEIPT_SIGNING_PASSWORD") or None,
            receipt_trust_roots=trust_roots,
            receipt_issuer_tax_id=issuer_tax_id,
            receipt_issuer_address=issuer_address,
            office_hours=office_hours,
            bank_spool_dir=env.get("BANK_SPOOL_DIR", "").strip() or DEFAULT_SPOOL_DIR,
            qr_cache_dir=env.get("QR_CACHE_DIR", "").strip() or "instance/qr-cache",
            bank_spool_max_bytes=(int(spool_max) * 1024 * 1024 if spool_max else DEFAULT_SPOOL_MAX_BYTES),
        )
