"""Understand what a business owner typed: invoice numbers, license numbers and intent.

Input arrives with Thai or full-width digits, zero-width characters, dash look-alikes, the
decomposed sara am (U+0E4D U+0E32), spaces or dashes inside numbers, typos and words around
the number. Everything here is pure text work: no Flask, LINE SDK or database.
"""
from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

INVOICE_DIGITS = 16  # the Institute issues 16-digit Ref1 invoice numbers
MAX_FUZZY_TEXT = 200  # typo-tolerant keyword search is quadratic: only for short messages

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"})
_SPACE_RE = re.compile(r"\s+")
# A letter O/o or l/I typed among digits is almost always a zero or a one.
_O_IN_DIGITS = re.compile(r"(?<=[0-9])[Oo]+(?=[0-9])")
_L_IN_DIGITS = re.compile(r"(?<=[0-9])[lI]+(?=[0-9])")

LICENSE_KINDS = ("นค", "ท", "ส", "น")  # longest first: "นค" must not be read as "น"
_LICENSE_RE = re.compile(
    "(" + "|".join(LICENSE_KINDS) + r") ?\.? ?([0-9]{1,5}) ?- ?([0-9]{1,4}) ?/ ?([0-9]{1,4})(?![0-9])"
)
# TIS standard numbers: "มอก. 2434-2555", "มอก.9999 เล่ม 1-2556", "TIS 85-2548".
_TIS_RE = re.compile(r"(มอก|tis)\.? ?[0-9]{1,5}( ?เล่ม ?[0-9]{1,3})? ?- ?[0-9]{4}", re.IGNORECASE)
# Thai telephone numbers: mobile 0[689] + 8 digits, fixed lines 0[2-7] + 7 digits.
_PHONE_RE = re.compile(r"^(0[689][0-9]{8}|0[2-7][0-9]{7})$")
_NUMBER_GROUP_RE = re.compile(r"[0-9]+(?:[ \-]+[0-9]+)*")
_CHUNK_SPLIT_RE = re.compile(r"[ \-]+")
# Accounting systems print our Ref1 with a prefix glued to it: "INV2568…", "REF#2568…".
_INVOICE_PREFIX_RE = re.compile(r"(?<![A-Za-z])(?:inv|invoice|ref|no)$", re.IGNORECASE)


class Intent(enum.Enum):
    """What a message asks for. Never stored or sent: the members' values mean nothing."""

    PAY = enum.auto()  # show what is owed, with the QR while payable
    STATUS = enum.auto()  # is it paid?
    HELP = enum.auto()
    LANGUAGE = enum.auto()
    GREETING = enum.auto()
    NEED_NUMBER = enum.auto()  # wants to pay or check but gave no number we can use
    SUBSCRIBE = enum.auto()  # notices of a license's (or an invoice's) new invoices and due dates
    UNSUBSCRIBE = enum.auto()
    MY_LICENSES = enum.auto()  # what am I subscribed to?
    HISTORY = enum.auto()  # my last payments
    RECEIPT = enum.auto()  # the receipt of an invoice named in the message
    HANDOFF = enum.auto()  # wants a person: a conversation with the Institute's staff
    END_CHAT = enum.auto()  # ends the conversation with staff
    UNKNOWN = enum.auto()


@dataclass(frozen=True)
class ParsedMessage:
    intent: Intent
    invoice_numbers: tuple[str, ...] = ()
    license_numbers: tuple[str, ...] = ()
    language: str | None = None  # "th" or "en" for Intent.LANGUAGE
    hint: str | None = None  # why a number was not taken: tax_id, tis_standard, wrong_length
    says_paid: bool = False  # "I transferred yesterday but it still shows unpaid": a claim, not a question


def normalize(text: str) -> str:
    """Fold the ways Thai users and keyboards write the same thing into one form."""
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")  # ZWSP, ZWJ, BOM, ...
    text = text.translate(_THAI_DIGITS)
    text = unicodedata.normalize("NFKC", text)  # full-width digits, letters and punctuation
    text = text.replace("\u0e4d\u0e32", "\u0e33")  # NFKC splits sara am; fold it back
    text = text.replace("\u0e40\u0e40", "\u0e41")  # sara e typed twice for sara ae ("เเจ้ง")
    text = text.translate(_DASHES)
    text = _SPACE_RE.sub(" ", text).strip()
    text = _O_IN_DIGITS.sub(lambda m: "0" * len(m.group()), text)
    text = _L_IN_DIGITS.sub(lambda m: "1" * len(m.group()), text)
    return text


_THAI_RUN_RE = re.compile(r"[\u0e01-\u0e4e]+")
_LATIN_WORD_RE = re.compile(r"[A-Za-z]{2,}")
_NOT_ENGLISH = ("inv", "ref", "no")  # the prefixes of an invoice number ("INV2568…", "no. …")


def written_in(raw: str) -> str | None:
    """The language a message is written in, for a user who never chose one, by its words: license
    numbers (whose kind is a Thai letter) and invoice numbers say nothing, so "status of ท 5137-2/10
    please" is English; otherwise the language with more words wins, Thai on a tie ("ขอ receipt"),
    since Thai runs its words together and a run counts once. None when no word is left (digits
    and signs only)."""
    _, rest = find_licenses(normalize(raw))
    rest = _TIS_RE.sub(" ", rest)
    thai = len(_THAI_RUN_RE.findall(rest))
    latin = sum(1 for w in _LATIN_WORD_RE.findall(rest) if w.lower() not in _NOT_ENGLISH)
    if latin > thai:
        return "en"
    return "th" if thai else None


def canonical_license(kind: str, a: str, b: str, c: str) -> str:
    return f"{kind}{int(a)}-{int(b)}/{int(c)}"


def normalize_license(value: str) -> str | None:
    """The canonical form of a license number (`ท5137-2/10`), or None if it is not one."""
    m = _LICENSE_RE.fullmatch(normalize(value))
    return canonical_license(*m.groups()) if m else None


def find_licenses(text: str) -> tuple[list[str], str]:
    """License numbers in normalized text, and the text with them blanked out."""
    found: list[str] = []
    for m in _LICENSE_RE.finditer(text):
        lic = canonical_license(*m.groups())
        if lic not in found:
            found.append(lic)
    return found, _LICENSE_RE.sub(" ", text)


def find_invoices(text: str) -> tuple[list[str], str | None]:
    """16-digit invoice numbers in normalized text; and a hint when numbers were rejected.

    A group of digits joined by spaces or dashes counts as one number when it adds up to 16
    digits ("2568-1104-0001-2345"); otherwise a single 16-digit chunk inside it counts. A TIS
    standard number, a tax ID (13), a phone (9-10) or a year (4) never adds up to 16.
    """
    text = _TIS_RE.sub(lambda m: " § ", text)
    found: list[str] = []
    hint: str | None = None
    for m in _NUMBER_GROUP_RE.finditer(text):
        chunks = _CHUNK_SPLIT_RE.split(m.group())
        # Digits glued to Latin letters ("abc2568", "X123") are codes, not our numbers, unless the
        # letters are an invoice prefix ("INV2568110400012345").
        before = text[m.start() - 1] if m.start() else ""
        if before.isascii() and before.isalpha() and not _INVOICE_PREFIX_RE.search(text[:m.start()]):
            chunks = chunks[1:]
        if m.end() < len(text) and text[m.end()].isascii() and text[m.end()].isalpha():
            chunks = chunks[:-1]
        if not chunks:
            continue
        joined = "".join(chunks)
        if len(joined) == INVOICE_DIGITS:
            candidates = [joined]
        else:
            candidates = [c for c in chunks if len(c) == INVOICE_DIGITS]
            if not candidates:
                hint = hint or _why_not(chunks)
        for c in candidates:
            if c not in found:
                found.append(c)
    if " § " in text and not found:
        hint = hint or "tis_standard"
    return found, hint


def _why_not(chunks: list[str]) -> str | None:
    from .taxid import is_valid_tax_id

    joined = "".join(chunks)
    if len(joined) == 13 and is_valid_tax_id(joined):
        return "tax_id"
    if _PHONE_RE.match(joined):  # "081-234-5678": a phone number, not a mistyped invoice number
        return None
    if len(joined) >= 8:
        return "wrong_length"
    return None


# Keywords, already in normalized form (lowercase for Latin). Order of checks matters:
# "ค้างชำระ" (outstanding) contains "ชำระ" (pay), so status is tested before pay. Thai words
# match anywhere (Thai runs its words together), so a word that holds another of its list is left
# out ("ประวัติการชำระ" is found by "ประวัติ"), and so is one a typo away from another in a list
# matched with typos ("เช็ก" is found by "เช็ค"). Latin words match whole.
_STATUS_WORDS = (
    "สถานะ", "เช็ค", "ตรวจสอบ", "แล้วยัง", "หรือยัง", "ค้างชำระ",
    "ยอดค้าง", "ติดตาม", "status", "check", "track", "paid?",
)
_PAY_WORDS = (
    "ชำระ", "จ่าย", "โอน", "ขอqr", "คิวอาร์", "qr", "ใบแจ้งหนี้", "ใบนำฝาก",
    "ค่าธรรมเนียม", "ยอด", "ใบอนุญาต", "pay", "invoice", "bill", "license", "licence", "fee",
)
_HELP_WORDS = (
    "วิธีใช้", "ช่วยเหลือ", "ช่วยด้วย", "ช่วยหน่อย", "เมนู", "วิธีชำระ", "ใช้ยังไง", "ใช้อย่างไร",
    "ทำยังไง", "ทำอย่างไร", "สอบถาม", "ใช้งาน", "ใช้ไม่เป็น", "ทำอะไร", "พิมพ์อะไร", "แนะนำ", "คู่มือ", "อธิบาย",
    "ขั้นตอน", "สอนใช้", "เริ่มต้น", "จะเริ่ม", "คำสั่ง", "ไม่เข้าใจ", "งง",
    "help", "menu", "how", "what can you do", "what should i", "usage", "guide", "instructions",
)
# Subscriptions and history. Tested before the pay and status words they contain
# ("ยกเลิกแจ้งเตือน" has "แจ้งเตือน"; "ใบอนุญาตของฉัน" has "ใบอนุญาต"; "ประวัติการชำระ" has "ชำระ").
_UNSUBSCRIBE_WORDS = (
    "ยกเลิกการแจ้งเตือน", "เลิกแจ้งเตือน", "หยุดแจ้งเตือน", "ไม่ต้องแจ้งเตือน",
    "ปิดแจ้งเตือน", "ปิดการแจ้งเตือน", "unsubscribe", "unsub", "stop notifications", "stop reminders",
)
# ...and any other way of saying no more of them: a word that stops or refuses ("ยกเลิก", "ไม่ต้อง",
# "stop", "no more") with a word for the notices ("เตือน", "แจ้ง" but not "ใบแจ้งหนี้", "ข่าวสาร",
# "ติดตาม"; "remind", "notif", "alert"), in that order. "เปิด" (on) is taken out first: it holds "ปิด".
_UNSUBSCRIBE_RE = re.compile(
    r"(ยกเลิก|เลิก|หยุด|ไม่ต้อง|ไม่อยาก|ไม่รับ|ปิด|ออกจาก).*(เตือน|แจ้ง(?!หนี้|ชำระ|การชำระ)|ข่าวสาร|ติดตาม)"
    r"|(?<![a-z])(stop|turn off|no more|disable|cancel|don't|do not)(?![a-z]).*(remind|notif|alert)")
_SUBSCRIBE_WORDS = (
    "แจ้งเตือน", "เตือน", "รับข่าวสาร", "subscribe", "notify me", "remind me", "notifications", "reminders",
    "remind", "reminder", "alert me", "notification",
)
_MY_LICENSES_WORDS = (
    "ใบอนุญาตของฉัน", "ใบอนุญาตของผม", "ใบอนุญาตของเรา", "ใบอนุญาตของดิฉัน", "แจ้งเตือนของฉัน", "my licenses", "my licences", "my license", "my licence", "my subscriptions",
    "รายการแจ้งเตือน", "subscriptions", "my alerts",
)
# ...or the licenses (or the notices) asked for as a list: "ใบอนุญาต" (or its common misspelling
# "ใบอนุญาติ") with a possessive or a word of listing; "แจ้งเตือน" with a question of what is on.
_MY_LICENSES_RE = re.compile(
    r"ใบอนุญาติ? ?(ของ)? ?(ฉัน|ผม|เรา|ดิฉัน|หนู|กระผม|พี่|บริษัทเรา)"
    r"|ใบอนุญาต.*(ที่(ฉัน|ผม|เรา)|ที่ติดตาม|ติดตามไว้|ที่ผูก|ที่บันทึก|ที่สมัคร|ที่ตั้ง|ที่ลงทะเบียน|ทั้งหมด|มีอะไรบ้าง|มีกี่ใบ|ใบไหน)"
    r"|เตือน.*(ที่ *ไว้|อะไรอยู่|อะไรบ้าง)"
    r"|(?<![a-z])(which|what) (licen[cs]es|subscriptions)|licen[cs]es (i|we) (follow|subscribed|have)")
_HISTORY_WORDS = (
    "ประวัติ", "รายการที่ชำระ", "ย้อนหลัง", "ที่ผ่านมา", "เคยจ่าย", "เคยชำระ", "เคยโอน", "ที่จ่ายไปแล้ว", "ที่ชำระไปแล้ว",
    "รายการที่จ่าย", "รายการที่โอน", "รายการจ่าย", "รายการโอน", "กี่รายการ", "สรุปรายการ", "จ่ายอะไรไป",
    "จ่ายไปเท่าไหร่", "ชำระล่าสุด", "จ่ายล่าสุด", "ที่ชำระไปล่าสุด",
    "history", "my payments", "paid so far", "past payments", "previous payments", "payment record", "transactions",
)
# ...or how much was paid over a time: "จ่ายค่าธรรมเนียมไปเท่าไหร่"
_HISTORY_RE = re.compile(r"(จ่าย|ชำระ|โอน).*ไป ?เท่า(ไหร่|ไร)")
# With a number: the receipt of that invoice; without one: the user's own receipts (tested before history).
_RECEIPT_WORDS = ("ใบเสร็จ", "ใบเสด็จ", "ใบกำกับ", "ใบรับเงิน", "หลักฐานการชำระ", "หลักฐานการโอน", "ยืนยันการชำระ", "receipt", "receipts")
# The payer says the money has gone: a claim that the invoice is paid (and perhaps not shown yet).
_PAID_CLAIM_WORDS = (
    "โอนแล้ว", "โอนไปแล้ว", "โอนเงินแล้ว", "โอนเงินไปแล้ว", "จ่ายแล้ว", "จ่ายไปแล้ว", "จ่ายเงินแล้ว", "ชำระแล้ว",
    "ชำระไปแล้ว", "ชำระเงินแล้ว", "ชำระเงินไปแล้ว", "i paid", "i have paid", "i've paid", "we paid",
    "we have paid", "we've paid", "already paid", "paid already", "transferred", "i transfered",
    "have paid", "payment done", "paid via", "paid yesterday", "paid today", "money sent", "sent the money",
)
# ...or a verb of paying followed, a few words on, by "แล้ว" or "เรียบร้อย" ("จ่ายผ่านตู้ ATM แล้ว",
# "โอนเงินค่าใบอนุญาตไปแล้ว"), or said to be just done ("เพิ่งโอน"); not "ยังไม่ได้โอน". Read with
# the numbers taken out, so that the invoice number between them does not count.
_PAID_CLAIM_RE = re.compile(r"(?<!ยังไม่)(?<!ยังไม่ได้)(โอน|จ่าย|ชำระ)[^?]{0,24}?(แล้ว|เรียบร้อย)|(เพิ่ง|พึ่ง)(โอน|จ่าย|ชำระ)")
# "แล้วยัง" asks ("โอนแล้วยัง": yet?) unless a statement goes on ("โอนแล้วยังไม่ขึ้น": still not shown).
_STILL_RE = re.compile(r"แล้ว ?ยัง(?=ไม่|ขึ้น|เป็น|เรียก|ค้าง|รอ)")
# ...unless it asks whether it is paid ("ชำระแล้วหรือยัง", "is it paid already?")
_PAID_QUESTION_WORDS = (
    "แล้วหรือยัง", "แล้วยัง", "แล้วรึยัง", "แล้วหรือไม่", "แล้วไหม", "แล้วมั้ย", "แล้วหรือเปล่า", "แล้วรึเปล่า",
    "แล้วหรอ", "แล้วเหรอ", "แล้วใช่ไหม", "isit", "hasit", "wasit", "did it", "has it", "is it", "was it", "?",
)
# A person, not the bot. Tested before help ("สอบถามเจ้าหน้าที่" asks for a person, not for help).
_HANDOFF_WORDS = (
    "เจ้าหน้าที่", "คุยกับคน", "พนักงาน", "แอดมิน", "จนท.", "มีคนตอบ", "คนจริง", "คนช่วย", "โทรกลับ", "ติดต่อกลับ",
    "เบอร์ติดต่อ", "เบอร์โทร", "ติดต่อคน", "ติดต่อใคร", "โทรหาใคร", "ฝ่ายการเงิน", "คุยกับบอท",
    "talk to a person", "talk to someone", "human", "agent", "operator", "staff", "admin", "speak to", "someone",
    "real person", "call me", "customer service",
)
# Ends a conversation with staff. Tested before the words for a person ("จบการสนทนากับเจ้าหน้าที่").
_END_CHAT_WORDS = ("จบการสนทนา", "จบแชท", "จบแชต", "ปิดแชท", "ปิดแชต", "เลิกคุย", "end chat", "end the chat",
                   "close chat", "stop chat")
_GREETING_WORDS = ("สวัสดี", "หวัดดี", "ดีครับ", "ดีค่ะ", "ดีค่า", "ดีจ้า", "ดีคร้าบ", "ดีคับ", "ฮัลโหล", "เฮลโหล", "อรุณสวัสดิ์",
                   "ทัก", "hello", "hi", "hey", "good morning", "good afternoon", "good evening", "good day", "yo")
_GREETING_RE = re.compile(r"(?<![a-z])(h+i+|hel+o+)(?![a-z])")  # "hii", "helloo"
# Too short to forgive a typo in: "เตือน" is one letter from "เดือน" (a month).
_EXACT_ONLY = frozenset({"เตือน"})
# A switch of language: the language's Thai or English name anywhere in a short message, or its
# code as a word ("en", "eng", "th").
_LANGUAGES = (("en", ("อังกฤษ", "english"), frozenset({"eng", "en"})), ("th", ("ไทย", "thai"), frozenset({"th"})))
_LANGUAGE_MAX_LEN = 40  # "เปลี่ยนเป็นภาษาอังกฤษค่ะ" is a switch; a long sentence is not


@lru_cache(maxsize=1024)  # pure; a worker asks it twice per message (the batch's look-ahead, the handler)
def parse_message(raw: str) -> ParsedMessage:
    """What the user asked for, from one chat message."""
    text = normalize(raw)
    lowered = text.lower()
    licenses, rest = find_licenses(text)
    invoices, hint = find_invoices(rest)
    has_number = bool(licenses or invoices)
    compact = lowered.replace(" ", "")

    # "เปิดแจ้งเตือน" (turn on) holds "ปิดแจ้งเตือน" (turn off): "เปิด" is kept apart from what follows
    spaced = _spaced(compact, lowered).replace("เปิด", "เปิด ")
    plain = lowered.replace("เปิด", " ")  # what the patterns read: "เปิด" (on) holds "ปิด" (off)
    claims_paid = _claims_paid(spaced, compact)
    if has_number:
        # A typo-tolerant match must not turn "เปิดแจ้งเตือน" (on) into "ปิดแจ้งเตือน" (off): exact words first
        intent = (_first_intent(spaced, plain, ((_UNSUBSCRIBE_WORDS, _UNSUBSCRIBE_RE, Intent.UNSUBSCRIBE),
                                                (_SUBSCRIBE_WORDS, None, Intent.SUBSCRIBE)))
                  or (Intent.RECEIPT if invoices and _has_any(spaced, _RECEIPT_WORDS) else None)
                  or (Intent.STATUS if _has_any(spaced, _STATUS_WORDS) else Intent.PAY))
        if claims_paid and intent in (Intent.SUBSCRIBE, Intent.UNSUBSCRIBE):
            intent = Intent.PAY  # "paid, and no notice came": about the payment, not the notices
        says_paid = intent in (Intent.PAY, Intent.STATUS) and claims_paid
        return ParsedMessage(intent, tuple(invoices), tuple(licenses), says_paid=says_paid)

    language = _language_switch(lowered, compact)
    if language:
        return ParsedMessage(Intent.LANGUAGE, language=language)
    found = _first_intent(spaced, plain, (
        (_END_CHAT_WORDS, None, Intent.END_CHAT), (_HANDOFF_WORDS, None, Intent.HANDOFF),
        (_MY_LICENSES_WORDS, _MY_LICENSES_RE, Intent.MY_LICENSES), (_RECEIPT_WORDS, None, Intent.RECEIPT),
        (_HISTORY_WORDS, _HISTORY_RE, Intent.HISTORY), (_UNSUBSCRIBE_WORDS, _UNSUBSCRIBE_RE, Intent.UNSUBSCRIBE),
        (_SUBSCRIBE_WORDS, None, Intent.SUBSCRIBE)))
    if claims_paid and found in (None, Intent.SUBSCRIBE, Intent.UNSUBSCRIBE):
        # "I transferred but it still shows unpaid", without the number: ask for it (or the e-slip)
        return ParsedMessage(Intent.NEED_NUMBER, hint=hint, says_paid=True)
    if found is not None:
        return ParsedMessage(found, hint=hint)
    if _has_any(spaced, _HELP_WORDS) or (compact and set(compact) == {"?"}):
        return ParsedMessage(Intent.HELP)
    if hint or _has_any(spaced, _STATUS_WORDS + _PAY_WORDS, fuzzy=False):
        return ParsedMessage(Intent.NEED_NUMBER, hint=hint)
    # a greeting before a typo of a word of paying: "สวัสดีตอนบ่าย" is not "จ่าย" mistyped
    if _has_any(spaced, _GREETING_WORDS, fuzzy=False) or _GREETING_RE.search(lowered):
        return ParsedMessage(Intent.GREETING)
    if _has_any(spaced, _STATUS_WORDS + _PAY_WORDS):
        return ParsedMessage(Intent.NEED_NUMBER)
    return ParsedMessage(Intent.UNKNOWN)


def _claims_paid(spaced: str, compact: str) -> bool:
    """Says the money has gone, and does not ask whether it has."""
    if _has_any(_STILL_RE.sub("แล้ว ", spaced), _PAID_QUESTION_WORDS, fuzzy=False):
        return False
    # exact words only: one letter from "โอนแล้ว" is "เตือนแล้ว" ("ไม่ต้องเตือนแล้ว": no more notices)
    return _has_any(spaced, _PAID_CLAIM_WORDS, fuzzy=False) or bool(_PAID_CLAIM_RE.search(re.sub(r"[0-9\-]", "", compact)))


def _first_intent(spaced: str, plain: str,
                  candidates: tuple[tuple[tuple[str, ...], re.Pattern[str] | None, Intent], ...]) -> Intent | None:
    """The first intent whose words the text holds exactly (or whose pattern it matches); failing
    that, the first within one typo of its words."""
    for fuzzy in (False, True):
        for words, pattern, intent in candidates:
            if _has_any(spaced, words, fuzzy=fuzzy) or (not fuzzy and pattern is not None and pattern.search(plain)):
                return intent
    return None


def _spaced(compact: str, lowered: str) -> str:
    """Thai keywords are matched without spaces, English ones with (\"my licenses\")."""
    return compact + " " + lowered


def _language_switch(lowered: str, compact: str) -> str | None:
    if len(compact) > _LANGUAGE_MAX_LEN:
        return None
    words = set(re.findall(r"[a-z]+", lowered))
    for code, names, codes in _LANGUAGES:
        if any(name in compact for name in names) or words & codes:
            return code
    return None


def _has_any(compact: str, words: tuple[str, ...], fuzzy: bool = True) -> bool:
    for w in words:
        if w.isascii():
            if _latin_word(w).search(compact):
                return True
        elif w in compact:
            return True
    if fuzzy and len(compact) <= MAX_FUZZY_TEXT:
        present = set(compact)
        return any(
            _near(compact, w) for w in words
            # One typo leaves at least len-1 of the word's letters in the text: a cheap pre-check.
            if len(w) >= 4 and not w.isascii() and w not in _EXACT_ONLY and sum(c in present for c in w) >= len(w) - 1
        )
    return False


@lru_cache(maxsize=None)
def _latin_word(word: str) -> re.Pattern[str]:
    """A Latin keyword as a whole word: "hi" must not fire inside "this". A sign at its edge
    needs no boundary there: the "?" of "paid?" is a question mark."""
    before = "(?<![a-z])" if word[0].isalpha() else ""
    after = "(?![a-z])" if word[-1].isalpha() else ""
    return re.compile(before + re.escape(word) + after)


def _near(text: str, word: str, max_edits: int = 1) -> bool:
    """True if `word` occurs in `text` with at most `max_edits` typos (Sellers' algorithm)."""
    prev = list(range(len(word) + 1))
    for ch in text:
        cur = [0]
        for j, wc in enumerate(word, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (wc != ch)))
        if cur[-1] <= max_edits:
            return True
        prev = cur
    return False
