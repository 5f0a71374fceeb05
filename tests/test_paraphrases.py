"""Intents as people say them (issue 31): every message of tests/paraphrases.py lands on its
family's intent — 50 per family, written as Thai business owners and clerks write in LINE. A
claim of payment ("paid but not showing") is recognised with or without the number."""
from __future__ import annotations

import pytest

from bot.core.textparse import Intent, parse_message
from tests.paraphrases import FAMILIES

INTENTS = {
    "history": Intent.HISTORY, "receipt": Intent.RECEIPT, "person": Intent.HANDOFF, "subscribe": Intent.SUBSCRIBE,
    "unsubscribe": Intent.UNSUBSCRIBE, "my licenses": Intent.MY_LICENSES, "help": Intent.HELP,
    "greeting": Intent.GREETING,
}


@pytest.mark.parametrize("family, message", [(f, m) for f in INTENTS for m in FAMILIES[f]])
def test_each_message_lands_on_its_intent(family, message):
    assert parse_message(message).intent is INTENTS[family], (family, message)


@pytest.mark.parametrize("message", FAMILIES["paid but not showing"])
def test_each_claim_of_payment_is_heard(message):
    parsed = parse_message(message)
    assert parsed.says_paid, message
    # with its number: about that invoice; without: the number (or the e-slip) is asked for
    wanted = (Intent.PAY, Intent.STATUS) if parsed.invoice_numbers or parsed.license_numbers else (Intent.NEED_NUMBER,)
    assert parsed.intent in wanted, message


def test_fifty_messages_a_family_and_none_twice():
    assert all(len(messages) == 50 == len(set(messages)) for messages in FAMILIES.values())
    assert len(FAMILIES) == 9


@pytest.mark.parametrize("message", ["ไม่ต้องเตือนแล้วครับ", "ยังไม่ได้โอนค่ะ 2568110400000001", "3 เดือนที่แล้ว",
                                     "จ่ายแล้วหรือยังคะ 2568110400000001", "เปิดแจ้งเตือนค่ะ", "วันหยุดทำการ"])
def test_near_misses_are_not_taken_for_what_they_resemble(message):
    parsed = parse_message(message)
    assert not parsed.says_paid, message
    assert parsed.intent is not Intent.UNSUBSCRIBE or message == "ไม่ต้องเตือนแล้วครับ", message
    if message == "3 เดือนที่แล้ว":  # a month, not "เตือน" mistyped
        assert parsed.intent is not Intent.SUBSCRIBE


@pytest.mark.parametrize("message", ["เบอร์ 081-234-5678 นะคะ", "0812345678", "โทร 02-123-4567", "093 456 7890"])
def test_a_phone_number_is_not_a_mistyped_invoice_number(message):
    """Found in the simulator: a phone number left for staff was answered "an invoice number has 16
    digits" (and so kept from staff during a conversation)."""
    parsed = parse_message(message)
    assert parsed.hint is None and parsed.intent is not Intent.NEED_NUMBER, message


@pytest.mark.parametrize("message, hint", [("12345678", "wrong_length"), ("1812345678", "wrong_length"),
                                           ("08123456789", "wrong_length")])
def test_numbers_near_a_phone_number_still_get_their_hint(message, hint):
    assert parse_message(message).hint == hint
