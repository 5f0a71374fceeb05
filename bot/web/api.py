"""/api/v1: the Institute's e-License and e-Surveillance systems push and read invoices."""
from __future__ import annotations

import hmac
import json

from flask import Blueprint, jsonify, request

from bot.core.dates import utcnow
from bot.core.refs import is_ref
from bot.ledger import payments
from bot.ledger.invoices import find_invoice, upsert_invoices
from bot.ledger.reminders import queue_new_invoice_notices
from bot.services import services
from bot.web.errors import json_error

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_ITEMS = 10000


@bp.before_request
def _bearer_token():
    expected = services().settings.upstream_api_token
    given = request.headers.get("Authorization", "")
    if not expected or not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].encode(), expected.encode()):
        return json_error(401, "unauthorized", "a valid bearer token is required")
    return None




@bp.post("/invoices")
def upsert():
    try:
        items = json.loads(request.get_data())
    except RecursionError:  # valid JSON, but nested deeper than any invoice list
        return json_error(422, "invalid_invoices", "the JSON is nested too deeply to be a list of invoices")
    except ValueError:
        items = None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items or len(items) > MAX_ITEMS:
        return json_error(400, "invalid_body", f"send a JSON list of 1-{MAX_ITEMS} invoices")
    records = [(i, item if isinstance(item, dict) else "each invoice must be a JSON object") for i, item in enumerate(items)]
    for i, item in records:
        if isinstance(item, dict) and not isinstance(item.get("amount"), str):
            records[i] = (i, "amount must be a decimal string such as \"1000.00\"")
    try:
        with services().db.transaction() as session:
            result = upsert_invoices(session, records, actor="api")
            if result.rejected:
                raise _Rejected(result)  # all or nothing for an API call: the caller fixes and resends
            tisi = services()
            queue_new_invoice_notices(session, result.created_ids, tisi.settings, tisi.links, utcnow())
    except _Rejected as rejected:
        body = {"error": "invalid_invoices", "created": 0, "updated": 0, "unchanged": 0,
                "rejected": [{"index": n, "reason": r} for n, r in rejected.result.rejected]}
        return jsonify(body), 422
    return jsonify(result.as_dict())


class _Rejected(Exception):
    def __init__(self, result):
        super().__init__("rejected invoices")
        self.result = result


def _invoice_json(session, inv) -> dict:
    return {
        "invoice_no": inv.invoice_no, "ref2": inv.ref2, "license_no": inv.license_no, "tax_id": inv.tax_id,
        "payer_name": inv.payer_name, "payer_branch": inv.payer_branch,
        "payer_address": inv.payer_address, "payer_postcode": inv.payer_postcode, "fee_code": inv.fee_code, "description": inv.description,
        "amount": f"{inv.amount:.2f}", "due_date": inv.due_date.isoformat(), "status": inv.effective_status(),
        "paid_at": inv.paid_at.isoformat() if inv.paid_at else None,
        "payments": [{"bank_code": p.bank_code, "bank_ref": p.bank_ref, "amount": f"{p.amount:.2f}",
                      "channel": p.channel, "transacted_at": p.transacted_at.isoformat(), "status": p.status,
                      "tranx_id": p.tranx_id} for p in payments.payments_of(session, inv)],
    }


@bp.get("/invoices/<invoice_no>")
def show(invoice_no: str):
    if not is_ref(invoice_no):
        return json_error(404, "not_found", "no such invoice")
    with services().db.sessions() as session:
        inv = find_invoice(session, invoice_no)
        if inv is None:
            return json_error(404, "not_found", "no such invoice")
        return jsonify(_invoice_json(session, inv))


@bp.post("/invoices/<invoice_no>/cancel")
def cancel(invoice_no: str):
    if not is_ref(invoice_no):
        return json_error(404, "not_found", "no such invoice")
    reason = str((request.get_json(silent=True) or {}).get("reason", ""))[:500]
    with services().db.transaction() as session:
        inv = find_invoice(session, invoice_no, for_update=True)
        if inv is None:
            return json_error(404, "not_found", "no such invoice")
        if payments.cancel(session, inv, "api", reason) is payments.Cancelled.PAID:
            return json_error(409, "already_paid", "a paid invoice cannot be cancelled")
        return jsonify(_invoice_json(session, inv))
