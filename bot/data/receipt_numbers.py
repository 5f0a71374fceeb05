"""Receipt numbers on PostgreSQL: the database numbers a confirmed payment's receipt as the
payment's transaction commits (a deferred constraint trigger, migration 0009), like the audit
chain's links: the bank's path pays no round trip for it, and the fiscal year's counter row is
locked only while that commit finishes (the chain already serialises those commits).

A payment asks for a receipt by carrying `receipt_prefix` (set when RECEIPT_SIGNING_P12 is);
SQLite numbers it in Python instead (bot.ledger.receipts.issue). Both follow the same rules,
bot/core/receiptno.py and bot/core/dates.py (thai_fiscal_year); the tests run on both databases
and compare.
"""
from __future__ import annotations

from bot.core.dates import BANGKOK, BE_OFFSET, FISCAL_YEAR_STARTS
from bot.core.receiptno import SEQ_DIGITS
from bot.data.states import PaymentStatus, ReceiptVariant


def trigger_sql() -> list[str]:
    local = f"(NEW.transacted_at AT TIME ZONE '{BANGKOK.key}')"
    return [f"""
CREATE OR REPLACE FUNCTION tisi_issue_receipt() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  y integer;
  s integer;
BEGIN
  y := extract(year FROM {local})::integer + {BE_OFFSET}
       + CASE WHEN extract(month FROM {local}) >= {FISCAL_YEAR_STARTS} THEN 1 ELSE 0 END;
  INSERT INTO receipt_counters (fiscal_year, last_seq) VALUES (y, 1)
  ON CONFLICT (fiscal_year) DO UPDATE SET last_seq = receipt_counters.last_seq + 1
  RETURNING last_seq INTO s;
  INSERT INTO receipts (payment_id, number, fiscal_year, seq, issued_at, pending, attempts)
  VALUES (NEW.id, NEW.receipt_prefix || '-' || y || '-' || lpad(s::text, {SEQ_DIGITS}, '0'), y, s,
          NEW.created_at, '{ReceiptVariant.ISSUED}', 0);
  RETURN NULL;
END $$""", f"""
CREATE CONSTRAINT TRIGGER payments_receipt AFTER INSERT ON payments DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN (NEW.receipt_prefix IS NOT NULL AND NEW.status = '{PaymentStatus.CONFIRMED}')
EXECUTE FUNCTION tisi_issue_receipt()"""]


def drop_trigger_sql() -> list[str]:
    return ["DROP TRIGGER IF EXISTS payments_receipt ON payments", "DROP FUNCTION IF EXISTS tisi_issue_receipt()"]
