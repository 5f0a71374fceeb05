"""The shapes of bill-payment identifiers, in one place: the biller ID (tag 30 sub-tag 01, the
bank's billerId), Ref1/Ref2 (the invoice number and its second reference) and the bank's own
reference. Pure."""
from __future__ import annotations

import re

# 13-digit tax ID of the Institute + 2-digit suffix (Thai QR tag 30 sub-tag 01).
BILLER_ID_RE = re.compile(r"^[0-9]{15}\Z")
# Ref1 and Ref2 of a bill payment: up to 20 of 0-9 and A-Z (Thai QR tag 30 sub-tags 02 and 03).
REF_RE = re.compile(r"^[0-9A-Z]{1,20}\Z")
# The bank's reference of one payment (bankRef): our idempotency key with the command and bank.
BANK_REF_RE = re.compile(r"^[0-9A-Za-z_-]{1,64}\Z")


def is_biller_id(value: object) -> bool:
    return isinstance(value, str) and bool(BILLER_ID_RE.match(value))


def is_ref(value: object) -> bool:
    return isinstance(value, str) and bool(REF_RE.match(value))
