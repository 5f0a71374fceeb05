"""Every keyword the parser knows, said as people say it, lands on its intent (issue 34: a word
dropped from a list must fail a test; issue 31: intents as people write them). The phrases are
written out here, not read from bot/core/textparse.py."""
from __future__ import annotations

import pytest

from bot.core.textparse import Intent, parse_message, written_in

INV = "2568110400012345"
LIC = "ท5137-2/10"

WITHOUT_NUMBER = {
    Intent.END_CHAT: ["จบการสนทนา", "จบการสนทนากับเจ้าหน้าที่ครับ", "จบแชทค่ะ", "จบแชต", "ปิดแชท", "ปิดแชต", "เลิกคุยแล้ว",
                      "end chat", "end the chat please", "close chat", "stop chat"],
    Intent.HANDOFF: ["ติดต่อเจ้าหน้าที่ครับ", "ขอคุยกับเจ้าหน้าที่หน่อย", "คุยกับเจ้าหน้าที่ได้ไหม", "สอบถามเจ้าหน้าที่ค่ะ",
                     "มีเจ้าหน้าที่ไหมคะ", "ขอคุยกับคนครับ", "ขอสายพนักงาน", "talk to staff please", "can I talk to a person",
                     "talk to someone", "let me talk to a human", "contact staff", "human please", "agent", "operator",
                     "staff"],
    Intent.MY_LICENSES: ["ใบอนุญาตของฉัน", "ใบอนุญาตของผมมีอะไรบ้าง", "ใบอนุญาตของเรา", "ใบอนุญาตของดิฉันค่ะ",
                         "การแจ้งเตือนของฉัน", "ดูแจ้งเตือนของฉัน", "my licenses", "my licences", "show my license",
                         "my licence", "my subscriptions"],
    Intent.RECEIPT: ["ขอใบเสร็จ", "ใบเสร็จรับเงินครับ", "ขอดูใบเสร็จ", "receipt please", "my receipts", "e-receipt"],
    Intent.HISTORY: ["ประวัติการชำระ", "ประวัติการจ่ายเงิน", "ขอดูประวัติ", "รายการที่ชำระแล้ว", "history",
                     "my payments", "payment history please"],
    Intent.UNSUBSCRIBE: ["ยกเลิกแจ้งเตือน", "ยกเลิกการแจ้งเตือนค่ะ", "เลิกแจ้งเตือน", "หยุดแจ้งเตือนได้ไหม",
                         "ไม่ต้องแจ้งเตือนแล้ว", "ปิดแจ้งเตือน", "ปิดการแจ้งเตือน", "unsubscribe", "unsub",
                         "stop notifications", "stop reminders"],
    Intent.SUBSCRIBE: ["แจ้งเตือนด้วย", "เตือนด้วยนะ", "เปิดแจ้งเตือน", "subscribe", "notify me", "remind me please",
                       "notifications on", "reminders please"],
    Intent.HELP: ["วิธีใช้", "ช่วยเหลือ", "ช่วยด้วยครับ", "ช่วยหน่อย", "เมนู", "วิธีชำระเงินทำยังไง", "ใช้ยังไง",
                  "ใช้อย่างไรคะ", "ทำยังไงดี", "ทำอย่างไร", "สอบถามหน่อย", "help", "menu", "how does this work", "?"],
    Intent.NEED_NUMBER: ["สถานะ", "เช็คยอดหน่อย", "เช็กให้หน่อย", "ตรวจสอบให้ที", "ค้างชำระเท่าไร", "ยอดค้างเท่าไหร่",
                         "ติดตามให้หน่อย", "status", "check", "track", "ชำระเงิน", "จ่ายเงิน", "โอนเงิน", "ขอqr",
                         "ขอคิวอาร์", "qr code", "ใบแจ้งหนี้", "ใบแจ้งชำระ", "ใบนำฝาก", "ค่าธรรมเนียม", "ยอดเท่าไร",
                         "pay", "invoice", "bill", "fee", "is it paid?"],
    Intent.GREETING: ["สวัสดีครับ", "หวัดดี", "ดีครับ", "ดีค่ะ", "hello", "hi", "hey there", "good morning"],
    Intent.LANGUAGE: ["English", "ภาษาอังกฤษ", "อังกฤษ", "eng", "en", "ภาษาไทย", "thai", "ไทย", "th"],
}

WITH_NUMBER = {
    Intent.STATUS: [f"สถานะ {INV}", f"เช็ค {INV}", f"เช็ก {INV}", f"ตรวจสอบ {INV}", f"{INV} จ่ายแล้วหรือยัง",
                    f"{INV} โอนแล้วยัง", f"{INV} หรือยัง", f"ค้างชำระ {INV}", f"ยอดค้าง {INV}", f"ติดตาม {INV}",
                    f"status {INV}", f"check {INV}", f"track {INV}", f"{INV} paid?"],
    Intent.PAY: [INV, f"ชำระ {INV}", f"จ่าย {INV}", f"โอน {INV}", f"pay {INV}", f"invoice {INV}", f"bill {INV}",
                 f"license {LIC}", f"licence {LIC}", f"fee {INV}"],
    Intent.RECEIPT: [f"ใบเสร็จ {INV}", f"ใบเสร็จรับเงิน {INV}", f"ขอใบเสร็จ {INV}", f"receipt {INV}",
                     f"receipts {INV}", f"e-receipt {INV}"],
    Intent.SUBSCRIBE: [f"แจ้งเตือน {LIC}", f"subscribe {LIC}", f"notify me {LIC}", f"remind me {INV}"],
    Intent.UNSUBSCRIBE: [f"ยกเลิกแจ้งเตือน {LIC}", f"unsubscribe {LIC}", f"stop reminders {LIC}"],
}


@pytest.mark.parametrize("intent, message", [(i, m) for i, ms in WITHOUT_NUMBER.items() for m in ms])
def test_each_word_without_a_number(intent, message):
    assert parse_message(message).intent is intent, message


@pytest.mark.parametrize("intent, message", [(i, m) for i, ms in WITH_NUMBER.items() for m in ms])
def test_each_word_with_a_number(intent, message):
    assert parse_message(message).intent is intent, message


@pytest.mark.parametrize("message", ["สวัสดีครับ ขอถามหน่อย", "hi, how are you", "ขอบคุณครับ", "👍", "ok"])
def test_what_is_not_understood_is_unknown_or_help_never_a_guess(message):
    assert parse_message(message).intent in (Intent.UNKNOWN, Intent.HELP, Intent.GREETING)


# A word for ending the chat beats the word for a person in the same message, even when it is
# spelt another way (the typo-tolerant pass comes after every list's exact pass).
@pytest.mark.parametrize("message", ["จบแชทกับเจ้าหน้าที่", "จบแชตกับเจ้าหน้าที่", "ปิดแชทกับเจ้าหน้าที่",
                                     "ปิดแชตกับเจ้าหน้าที่ค่ะ", "เลิกคุยกับเจ้าหน้าที่", "end chat with staff"])
def test_ending_the_chat_is_not_asking_for_a_person(message):
    assert parse_message(message).intent is Intent.END_CHAT


PAID_CLAIMS = ["โอนแล้ว", "โอนไปแล้ว", "โอนเงินแล้ว", "โอนเงินไปแล้ว", "จ่ายแล้ว", "จ่ายไปแล้ว", "จ่ายเงินแล้ว",
               "ชำระแล้ว", "ชำระไปแล้ว", "ชำระเงินแล้ว", "ชำระเงินไปแล้ว", "สแกนจ่ายแล้ว", "i paid", "i have paid",
               "i've paid", "we paid", "we have paid", "we've paid", "already paid", "paid already", "transferred",
               "i transfered"]
QUESTION_TAILS = ["หรือยัง", "ยัง", "รึยัง", "หรือไม่", "ไหม", "มั้ย", "หรือเปล่า", "รึเปล่า", "หรอ", "เหรอ", "ใช่ไหม"]


@pytest.mark.parametrize("claim", PAID_CLAIMS)
def test_each_way_of_saying_it_is_paid(claim):
    assert parse_message(f"{INV} {claim}").says_paid, claim


@pytest.mark.parametrize("tail", QUESTION_TAILS)
def test_each_way_of_asking_whether_it_is_paid_is_not_a_claim(tail):
    message = f"{INV} โอนเงินแล้ว{tail}"
    assert not parse_message(message).says_paid, message


@pytest.mark.parametrize("question", ["is it paid already", "has it been paid already", "was it paid already",
                                      "isit paid already", "hasit been paid already", "wasit paid already",
                                      "did it go through, i paid", "already paid?"])
def test_english_questions_are_not_claims(question):
    assert not parse_message(f"{question} {INV}").says_paid, question


# One typo (a letter missing, added or changed) is forgiven in a Thai keyword of 4 letters or
# more, anywhere in the message; two are not.
@pytest.mark.parametrize("message, intent", [
    ("ประวต", Intent.UNKNOWN),  # two letters missing from ประวัติ
    ("ประวติ", Intent.HISTORY),  # ั missing
    ("ประวััติ", Intent.HISTORY),  # ั doubled
    ("ประวัตี", Intent.HISTORY),  # ิ typed as ี
    ("ขอดูประวติหน่อย", Intent.HISTORY),  # inside a sentence
    ("ประวติ", Intent.HISTORY),
    ("ปรวติ", Intent.UNKNOWN),  # two edits
    ("ใบเสรจ", Intent.RECEIPT),  # ็ missing at the word's end
    ("บเสร็จ", Intent.RECEIPT),  # its first letter missing
    ("ใบเสร็จจจ", Intent.RECEIPT),
    ("ใเสรจ", Intent.UNKNOWN),
])
def test_one_typo_is_forgiven_two_are_not(message, intent):
    assert parse_message(message).intent is intent, message


# Why a number was not taken: 8 digits or more look like a wrong invoice number; fewer are
# something else (an amount, a year); 13 digits with a valid check digit are a tax ID.
@pytest.mark.parametrize("message, hint", [
    ("1234567", None), ("12345678", "wrong_length"), ("123456789012345", "wrong_length"),
    ("12345678901234567", "wrong_length"), ("0105550123451", "tax_id"), ("0105550123452", "wrong_length"),
    ("มอก. 2434-2555", "tis_standard"),
])
def test_the_hint_for_a_number_not_taken(message, hint):
    assert parse_message(message).hint == hint, message


# A language switch is a short message: 40 letters without spaces at most.
def test_a_language_switch_is_a_short_message():
    at_most = "เปลี่ยนเป็นภาษาอังกฤษนะครับขอบคุณมากครับ"  # 40 characters
    assert len(at_most) == 40 and parse_message(at_most).intent is Intent.LANGUAGE
    assert parse_message(at_most + "ค").intent is not Intent.LANGUAGE
    assert parse_message("please switch to english").language == "en"
    assert parse_message("change to thai").language == "th" and parse_message("th").language == "th"


@pytest.mark.parametrize("message, intent", [
    ("ใบอนุญาต", Intent.NEED_NUMBER), ("license", Intent.NEED_NUMBER), ("licence", Intent.NEED_NUMBER),
    ("ขอqrcode", Intent.NEED_NUMBER),  # "qr" glued to Latin letters is not the word qr; ขอqr still asks
    ("วิธีชำระเงิน", Intent.HELP),  # how to pay: help, not a payment without a number
    ("สวัสดี", Intent.GREETING),
    ("ใบ เสร็ จ", Intent.RECEIPT),  # Thai words are matched with the spaces taken out
])
def test_words_that_stand_alone(message, intent):
    assert parse_message(message).intent is intent, message


def test_typos_are_forgiven_in_short_messages_only():
    """Typo tolerance is quadratic: only while the text it searches (the message without spaces,
    then with them) is 200 characters at most."""
    assert parse_message("ใบเสรจ " + "ก" * 93).intent is Intent.RECEIPT  # 6 + 93 + 1 + 100 = 200
    assert parse_message("ใบเสรจ" + "ก" * 94).intent is not Intent.RECEIPT  # 201
    assert parse_message("ใบเสร็จ" + "ก" * 200).intent is Intent.RECEIPT  # an exact word, at any length


@pytest.mark.parametrize("message, found", [
    ("256811O40OO12345", ["2568110400012345"]),  # letter O among digits: zero
    ("2568ll0400012345", ["2568110400012345"]),  # letter l among digits: one
    ("25681I0400012345", ["2568110400012345"]),  # capital I among digits: one
    ("X1 2568110400012345", ["2568110400012345"]),  # a code glued to a letter before it is left out
    ("2568110400012345 1X", ["2568110400012345"]),  # and one after it
    ("INV2568110400012345", ["2568110400012345"]),  # an invoice prefix is not a code
])
def test_numbers_as_people_type_them(message, found):
    assert list(parse_message(message).invoice_numbers) == found, message


def test_numbers_too_short_to_be_anything_get_no_hint():
    assert parse_message("1234 567").hint is None  # 7 digits in two groups
    assert parse_message("1234 5678").hint == "wrong_length"


@pytest.mark.parametrize("message", ["ref 2568110400012345", "no. 2568110400012345", "INV 2568110400012345"])
def test_an_invoice_prefix_is_not_an_english_word(message):
    assert written_in(message) is None
