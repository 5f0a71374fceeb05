"""/api/v1: the e-License and e-Surveillance systems push, read and cancel invoices."""
import pytest
from sqlalchemy import select

from bot.data.models import AuditEntry, Invoice
from tests.conftest import API_TOKEN, invoice_row

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": API_TOKEN}])
def test_bearer_token_required(client, headers):
    response = client.post("/api/v1/invoices", json=[invoice_row(1)], headers=headers)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert client.get("/api/v1/invoices/2568110400000001", headers=headers).status_code == 401


def test_upsert_read_and_idempotent_resend(client, db):
    response = client.post("/api/v1/invoices", json=[invoice_row(1), invoice_row(2)], headers=AUTH)
    assert response.status_code == 200 and response.get_json()["created"] == 2
    again = client.post("/api/v1/invoices", json=[invoice_row(1), invoice_row(2)], headers=AUTH)
    assert again.get_json() == {"created": 0, "updated": 0, "unchanged": 2, "rejected": []}
    body = client.get("/api/v1/invoices/2568110400000001", headers=AUTH).get_json()
    assert body["amount"] == "1000.00" and body["status"] == "unpaid" and body["payments"] == []


def test_one_bad_invoice_rejects_the_whole_call(client, db):
    response = client.post("/api/v1/invoices", json=[invoice_row(1), invoice_row(2, amount=1000.0)], headers=AUTH)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_invoices" and body["rejected"][0]["index"] == 1
    with db.sessions() as s:
        assert s.scalars(select(Invoice)).all() == []


@pytest.mark.parametrize("payload", [None, "text", {"not": "a list"}, [], ["x"], [1]])
def test_malformed_bodies_are_4xx(client, payload):
    response = client.post("/api/v1/invoices", json=payload, headers=AUTH) if payload is not None else \
        client.post("/api/v1/invoices", data=b"{broken", headers={**AUTH, "Content-Type": "application/json"})
    assert 400 <= response.status_code < 500 and "error" in response.get_json()


def test_cancel_unpaid_then_paid_is_refused(client, bank, db, seed):
    row = seed(invoice_row(1), invoice_row(2))
    response = client.post("/api/v1/invoices/2568110400000001/cancel", json={"reason": "ยื่นซ้ำ"}, headers=AUTH)
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert client.post("/api/v1/invoices/2568110400000001/cancel", headers=AUTH).status_code == 200  # idempotent
    assert bank.post(bank.body("payment", row[0])).get_json()["respCode"] == "1005"
    assert bank.post(bank.body("payment", row[1], bank_ref="P2")).get_json()["respCode"] == "0000"
    refused = client.post("/api/v1/invoices/2568110400000002/cancel", headers=AUTH)
    assert refused.status_code == 409 and refused.get_json()["error"] == "already_paid"
    paid = client.get("/api/v1/invoices/2568110400000002", headers=AUTH).get_json()
    assert paid["status"] == "paid" and paid["payments"][0]["bank_ref"] == "P2"
    assert client.post("/api/v1/invoices/2568119999999999/cancel", headers=AUTH).status_code == 404
    with db.sessions() as s:
        assert "cancelled" in s.scalars(select(AuditEntry.action)).all()


def test_payer_branch_for_the_receipt(client, db):
    """Optional: empty is the head office; a branch number is kept as 5 digits; anything else is refused."""
    sent = client.post("/api/v1/invoices", json=[invoice_row(1, payer_branch="12"), invoice_row(2)], headers=AUTH)
    assert sent.status_code == 200, sent.get_json()
    assert client.get("/api/v1/invoices/2568110400000001", headers=AUTH).get_json()["payer_branch"] == "00012"
    assert client.get("/api/v1/invoices/2568110400000002", headers=AUTH).get_json()["payer_branch"] is None
    refused = client.post("/api/v1/invoices", json=[invoice_row(3, payer_branch="สาขา 1")], headers=AUTH)
    assert refused.status_code == 422 and "payer_branch" in refused.get_json()["rejected"][0]["reason"]
