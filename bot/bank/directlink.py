"""Krungthai's Direct Link web service (SOAP 1.1); docs/integrators.md has the fields. Pure: bytes in, a
`BankCommand` out; an answer of the bank core in, SOAP bytes out.

Where each value comes from — every value Krungthai's own specification would fix is in the
block below, so that the day "Direct Link WebService Message Specification 5.1" is in hand,
aligning with it is one edit here:

- Element names (`RequestCode`, `RequestCodeResponse`, `user`, `password`, `comcode`,
  `prodcode`, `command`, `bankcode`, `bankref`, `datetime`, `effdate`, `amount`, `channel`,
  `cusname`, `ref1`..`ref4`, `tranxid`, `respcode`, `respmsg`): one public implementation that
  cites spec 5.1 (zercle/thai-cross-bank-format, pkg/ktb/bill.go). Confirmed by that one
  source only.
- Command values, date formats, the channel names and the respcode table: **ours** (the table in
  docs/integrators.md), not Krungthai's: that source does not give them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.bank import protocol as p
from bot.core.dates import BANGKOK
from bot.core.money import MoneyError, parse_amount
from bot.core.refs import BANK_REF_RE

# -- what Krungthai's spec would fix (see the module docstring) -----------------------------------
REQUEST_ELEMENT = "requestcode"  # local names, compared without case
RESPONSE_ELEMENT = "RequestCodeResponse"
RESPONSE_NAMESPACE = "http://tisi.go.th/ktb/directlink"  # ours: the WSDL Krungthai gets from us names it
COMMANDS = {"inquiry": "inquiry", "payment": "payment", "reversal": "reversal"}  # theirs (any case) -> ours
DATETIME_FORMATS = ("%Y%m%d%H%M%S",)  # or ISO-8601; a time without an offset is Bangkok time
EFFDATE_FORMAT = "%Y%m%d"
# Their channel names -> ours (the JSON endpoint's). Until their list is known, ours are accepted too.
CHANNELS = {
    "QR": "QR", "MOBILE": "MOBILE", "NEXT": "MOBILE", "INTERNET": "MOBILE", "ATM": "ATM",
    "BRANCH": "BRANCH", "TELLER": "BRANCH", "COUNTER": "COUNTER", "CDM": "ATM",
}
RESPCODES = {code: code for code in p.MESSAGES}  # ours -> theirs: the same table until theirs is known
REQUIRED = ("user", "password", "comcode", "command", "bankcode", "bankref", "datetime", "channel", "ref1", "ref2")
# -------------------------------------------------------------------------------------------------------

MAX_BODY = 64 * 1024  # refused before parsing (413)
_BANK_CODE_RE = re.compile(r"^[0-9]{1,3}\Z")
_AMOUNT_RE = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,2})?\Z")


class Fault(Exception):
    """A SOAP Fault (`Client`): the request is refused whole and changes nothing."""

    def __init__(self, http_status: int, message: str):
        super().__init__(message)
        self.http_status = http_status
        self.message = message


@dataclass(frozen=True)
class DirectLinkRequest:
    fields: dict[str, str]  # local names, lower case -> text

    @property
    def user(self) -> str:
        return self.fields.get("user", "")

    @property
    def password(self) -> str:
        return self.fields.get("password", "")

    @property
    def comcode(self) -> str:
        return self.fields.get("comcode", "")

    @property
    def bankref(self) -> str:
        return self.fields.get("bankref", "")


def parse_request(body: bytes) -> DirectLinkRequest:
    """The `RequestCode` element's fields, whatever the namespaces and the order. A DTD, an entity,
    malformed XML or a missing element is a Fault 400; nothing outside the body is ever read."""
    if len(body) > MAX_BODY:
        raise Fault(413, "request larger than 64 KB")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, SyntaxError, ValueError) as exc:
        raise Fault(400, f"not acceptable XML: {type(exc).__name__}") from None
    if _local(root.tag) != "envelope":
        raise Fault(400, "not a SOAP Envelope")
    body_el = next((child for child in root if _local(child.tag) == "body"), None)
    request = None if body_el is None else next(
        (child for child in body_el if _local(child.tag) == REQUEST_ELEMENT), None)
    if request is None:
        raise Fault(400, "Envelope/Body/RequestCode is missing")
    fields: dict[str, str] = {}
    for child in request:
        if len(child):
            raise Fault(400, f"{_local(child.tag)} must be a simple value")
        name = _local(child.tag)
        if name in fields:
            raise Fault(400, f"{name} appears twice")
        fields[name] = (child.text or "").strip()
    missing = [name for name in REQUIRED if not fields.get(name)]
    if missing:
        raise Fault(400, "missing: " + ", ".join(missing))
    return DirectLinkRequest(fields)


def to_command(req: DirectLinkRequest, biller_id: str) -> p.BankCommand:
    """The same command the JSON endpoint builds: one bank core, one idempotency key."""
    f = req.fields
    command = COMMANDS.get(f["command"].lower())
    if command is None:
        raise Fault(400, f"command must be one of {', '.join(k.title() for k in COMMANDS)}")
    if not _BANK_CODE_RE.match(f["bankcode"]):
        raise Fault(400, "bankcode must be a number")
    bank_code = f["bankcode"].zfill(3)  # Krungthai sends 6; the JSON endpoint and our keys use 006
    # The same patterns as the JSON endpoint's: one rule for a bank reference and for a Ref.
    if not BANK_REF_RE.match(f["bankref"]):
        raise Fault(400, "bankref has the wrong format")
    for name in ("ref1", "ref2"):
        if not p.REF_RE.match(f[name].upper()):
            raise Fault(400, f"{name} has the wrong format")
    amount = None
    if f.get("amount"):
        if not _AMOUNT_RE.match(f["amount"]):
            raise Fault(400, "amount must be a decimal such as 1000, 1000.5 or 1000.00")
        try:
            amount = parse_amount(f["amount"])
        except MoneyError as exc:
            raise Fault(400, f"amount: {exc}") from None
    elif command != "inquiry":
        raise Fault(400, "amount is required")
    channel = CHANNELS.get(f["channel"].upper())
    if channel is None:
        raise Fault(400, f"channel must be one of {', '.join(sorted(CHANNELS))}")
    if f.get("effdate"):
        try:
            datetime.strptime(f["effdate"], EFFDATE_FORMAT)
        except ValueError:
            raise Fault(400, "effdate must be YYYYMMDD") from None
    return p.BankCommand(command, bank_code, f["bankref"], biller_id, f["ref1"].upper(), f["ref2"].upper(), amount,
                         channel, _moment(f["datetime"]))


def _moment(text: str) -> datetime:
    for fmt in DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=BANGKOK)
        except ValueError:
            pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Fault(400, "datetime must be YYYYMMDDHHMMSS or ISO-8601") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=BANGKOK)


def _local(tag) -> str:
    """`{namespace}Name` or `prefix:Name` -> `name`."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


# -- answers -------------------------------------------------------------------------------------
_ENVELOPE = ('<?xml version="1.0" encoding="utf-8"?>'
             '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>{}</soap:Body>'
             '</soap:Envelope>')


def render_answer(answer: dict, bankref: str) -> bytes:
    """The bank core's answer (the JSON endpoint's fields) as a RequestCodeResponse. Deterministic,
    so a repeated request gets byte-identical bytes."""
    parts = [("tranxid", answer["tranxId"]), ("bankref", bankref), ("respcode", RESPCODES[answer["respCode"]]),
             ("respmsg", answer["respMsg"])]
    if "customerName" in answer:
        parts.append(("cusname", answer["customerName"]))
    if "amount" in answer:
        parts.append(("amount", answer["amount"]))
    inner = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in parts)
    return _ENVELOPE.format(f'<{RESPONSE_ELEMENT} xmlns="{RESPONSE_NAMESPACE}">{inner}</{RESPONSE_ELEMENT}>').encode()


def render_fault(code: str, message: str, respcode: str | None = None) -> bytes:
    """`code` is Client (the request is at fault) or Server (ours: Krungthai may retry)."""
    detail = f"<detail><respcode>{escape(RESPCODES.get(respcode, respcode))}</respcode></detail>" if respcode else ""
    return _ENVELOPE.format(f"<soap:Fault><faultcode>soap:{code}</faultcode><faultstring>{escape(message)}"
                            f"</faultstring>{detail}</soap:Fault>").encode()

