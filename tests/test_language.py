"""Which language a message is answered in (issue 31, item 3): by the message's words, so a Thai
license number, name or particle inside an English sentence keeps it English; English answers
carry English examples; counts go through Babel's plural forms."""
from __future__ import annotations

import json

import pytest

from bot.core.i18n import Translator
from bot.core.textparse import written_in
from tests.conftest import invoice_row


@pytest.mark.parametrize("message, language", [
    ("subscribe ท5137-2/10", "en"),  # the license's kind is a Thai letter: not a Thai word
    ("status of ท 5137-2/10 please", "en"),
    ("unsubscribe ส 12-3/4", "en"),
    ("Please check the invoice for บริษัท สยามสตีล จำกัด", "en"),  # a Thai name inside English
    ("TIS 85-2548 please", "en"),
    ("my licenses", "en"), ("hello", "en"),
    ("ขอชำระ 2568110400012345 ครับ", "th"),
    ("ขอ receipt", "th"),  # as many Thai words as English: Thai
    ("pay บริษัท ไทยอุตสาหกรรมเหล็ก จำกัด", "th"),  # more Thai words than English
    ("สวัสดี", "th"), ("ติดตาม ท5137-2/10", "th"),
    ("2568110400012345", None), ("INV2568110400012345", None), ("ท 5137-2/10", None), ("มอก. 2434-2555", None),
    ("👍", None),
])
def test_a_message_is_in_the_language_of_its_words(message, language):
    assert written_in(message) == language


def test_an_english_conversation_stays_english_with_a_license_number_in_it(line, seed):
    seed(invoice_row(1, license_no="ท5137-2/10", due_date="2099-01-15"))
    first = json.dumps(line.say("hello, what do I owe for ท 5137-2/10?"), ensure_ascii=False)
    assert "License fee" in first and "Unpaid" in first and "รอชำระ" not in first  # (the description is Thai data)
    second = json.dumps(line.say("subscribe ท5137-2/10"), ensure_ascii=False)
    rest = second.replace("ท5137-2/10", "").replace("ภาษาไทย", "")  # the number, and the switch to Thai
    assert "ท5137-2/10" in second and "Notifications on" in second
    assert not any("\u0e01" <= c <= "\u0e4e" for c in rest), second
    third = json.dumps(line.say("ท 5137-2/10"), ensure_ascii=False)  # the number alone: still English
    assert "License fee" in third


def test_the_english_help_has_english_examples(line):
    help_ = "\n".join(m.get("text", "") for m in line.say("help"))
    assert "pay invoice 2568-1104-0001-2345" in help_ and "license ท 5137-2/10" in help_
    assert "ชำระใบแจ้งหนี้" not in help_
    thai = "\n".join(m.get("text", "") for m in line.say("วิธีใช้"))
    assert "ชำระใบแจ้งหนี้ 2568-1104-0001-2345" in thai


def test_counts_take_babels_plural_forms():
    en, th = Translator("en"), Translator("th")
    assert en.plural("The last payment", "The last %(count)s payments", 1) == "The last payment"
    assert en.plural("The last payment", "The last %(count)s payments", 3) == "The last 3 payments"
    assert th.plural("The last payment", "The last %(count)s payments", 1) == "การชำระล่าสุด 1 รายการ"
    assert th.plural("The last payment", "The last %(count)s payments", 10) == "การชำระล่าสุด 10 รายการ"
