"""Fuzzing every integrator endpoint against docs/openapi.yaml (Schemathesis) and every console
form as each role (Hypothesis): no input gets a 5xx, what is refused changes nothing, and what
is answered matches the document. FUZZ_EXAMPLES sets the budget (the suite's is short;
`python -m bench --only fuzz` runs a long one)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import func, select

from bot.core.signing import bank_signature
from bot.data.models import AuditEntry, Invoice, Payment
from tests.conftest import API_TOKEN, BANK_SECRET, invoice_row

SPEC = Path(__file__).resolve().parents[1] / "docs" / "openapi.yaml"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def _money_state(db) -> tuple:
    with db.sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Invoice, Payment, AuditEntry)) + (
            tuple(s.execute(select(Invoice.invoice_no, Invoice.status, Invoice.amount).order_by(Invoice.id)).all()),)


OPERATIONS = {op.label: op for op in (r.ok() for r in schemathesis.openapi.from_path(SPEC).get_all_operations())}


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_input_gets_a_5xx_and_refused_input_changes_nothing(label, app, db, seed):
    seed(invoice_row(1, invoice_no="2568110400000001", ref2="68110001"))  # something to find, pay and cancel
    client = app.test_client()

    @FUZZ
    @given(case=OPERATIONS[label].as_strategy())
    def run(case):
        headers = {k: str(v) for k, v in (case.headers or {}).items()}
        body = None if case.body is NOT_SET else case.body
        raw = (body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
               if body is not None else b"")
        if case.path.startswith("/api/"):
            headers.setdefault("Authorization", f"Bearer {API_TOKEN}")
        if case.path.startswith("/bank/") and len(raw) % 2 == 0:  # half of them signed: past authentication
            ts = str(int(time.time()))
            headers.update({"X-Bank-Timestamp": ts, "X-Bank-Signature": bank_signature(BANK_SECRET, ts, raw)})
        before = _money_state(db)
        response = client.open(case.formatted_path, method=case.method, query_string=case.query or None, data=raw,
                               headers={"Content-Type": case.media_type or "application/json", **headers})
        assert response.status_code < 500, (case.method, case.formatted_path, raw[:300], response.status_code)
        if 400 <= response.status_code < 500:
            assert _money_state(db) == before, (case.formatted_path, response.status_code)
        if response.is_json:
            # Data the document allows may still break a business rule (a tax ID's check digit, another
            # biller's ID): only "schema-invalid data is refused" and the answers' shapes are checked.
            case.validate_response(response, excluded_checks=[positive_data_acceptance])

    run()


# -- the console's forms, as each role ---------------------------------------------------------------
FORMS = [
    ("/staff/sign-in", ("name", "password", "code", "next")),
    ("/staff/password", ("password", "again")),
    ("/staff/export", ("first", "last")),
    ("/staff/queues/notice/{n}/retry", ()),
    ("/staff/queues/event/{n}/push", ()),
    ("/staff/conversations/{n}/reply", ("text",)),
    ("/staff/conversations/{n}/close", ()),
    ("/staff/accounts/{name}/disable", ()),
]
TEXT = st.one_of(st.text(max_size=80), st.sampled_from(["", "\x00", "9" * 30, "-1", "2569-12-31", "0001-01-01",
                                                         "9999-12-31", "=1+1", "'; DROP TABLE invoices; --"]))


@pytest.mark.parametrize("role", ["viewer", "finance", "admin"])
def test_console_forms_never_answer_5xx(signed_in, db, role):
    client = signed_in(role)

    @FUZZ
    @given(form=st.sampled_from(FORMS), values=st.fixed_dictionaries({}), data=st.data(),
           n=st.one_of(st.integers(min_value=-5, max_value=2**70), st.text(max_size=12)))
    def run(form, values, data, n):
        path, fields = form
        filled = {f: data.draw(TEXT, label=f) for f in fields}
        url = path.replace("{n}", str(n)).replace("{name}", str(n) or "x")
        before = _money_state(db)
        answer = client.post(url, filled, token_from="/staff/")
        assert answer.status_code < 500, (url, filled, answer.status_code)
        if answer.status_code >= 400:
            assert _money_state(db) == before

    run()
