"""The money records and what follows from them: invoices, the audit trail and its chain check,
reconciliation with the bank's statement, payment history, subscriptions, reminders, and queueing
a notice — a row written in the same transaction as the money change it announces (the bank
service may import that; it never imports what sends)."""
