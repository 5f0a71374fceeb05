"""Receipts: numbered in the payment's transaction, made off the bank's path, signed, served as
stored, voided by a reversal, and checked by `tisi-pay receipt verify` — over HTTP, on SQLite and
PostgreSQL."""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.config import DEMO_ISSUER_TAX_ID, Settings
from bot.core.dates import thai_fiscal_year
from bot.core.etda import FILE_NAME, read_receipt_xml
from bot.core.receiptno import parse_receipt_number, receipt_number
from bot.data.models import ChainLink, Receipt, ReceiptDocument
from bot.data.states import ChainKind
from bot.render.pades import embedded_file
from tests.conftest import (
    OTHER_USER,
    RECEIPT_PASSWORD,
    TAX_ID,
    invoice_row,
    make_env,
    receipt_env,
    wait_for,
)

INV = "2568110400000001"


@pytest.fixture
def settings(database_url, fake_line, receipt_p12) -> Settings:
    """The app of these tests issues receipts (the rest of the suite runs without a key)."""
    return Settings.from_env(make_env(database_url, fake_line.url, **receipt_env(receipt_p12)))


@pytest.fixture
def verify_env(database_url, receipt_p12):
    return {"DATABASE_URL": database_url, **receipt_env(receipt_p12), "RECEIPT_TRUST_ROOTS": ""}


def _cli(args, env):
    from bot.cli import cli

    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def _documents(db) -> list[ReceiptDocument]:
    with db.sessions() as s:
        return list(s.scalars(select(ReceiptDocument).order_by(ReceiptDocument.id)))


def _receipt_button(fake_line) -> str:
    """The URL of the paid notice's "ใบเสร็จรับเงิน" button."""
    push = fake_line.pushes()[-1]
    footer = push.messages[0]["contents"]["footer"]
    button = footer["contents"][0]["action"]
    assert button["label"] == "ใบเสร็จรับเงิน"
    return urlparse(button["uri"]).path


def _pay(bank, row, **kw):
    answer = bank.post(bank.body("payment", row, **kw)).get_json()
    assert answer["respCode"] == "0000", answer
    return answer


@pytest.fixture
def paid(line, bank, seed, fake_line, db):
    """An invoice asked about in the chat and paid: (row, receipt path, PDF bytes)."""
    row = seed(invoice_row(1, invoice_no=INV, payer_branch="12"))[0]
    line.say(INV)
    _pay(bank, row, bank_ref="KTBRCPT0001", channel="MOBILE", transDateTime="2026-11-25T14:30:00+07:00")
    assert fake_line.wait_for(lambda f: len(f.pushes()) >= 1)
    path = _receipt_button(fake_line)
    wait_for(lambda: len(_documents(db)) == 1, timeout=20, what="the worker made a receipt PDF")
    return row, path


# -- numbering -----------------------------------------------------------------------------------
def test_fiscal_year_turns_over_on_1_october_bangkok():
    bkk = timezone.utc  # written in UTC: 30 Sep 23:59:59 Bangkok is 16:59:59 UTC
    assert thai_fiscal_year(datetime(2026, 9, 30, 16, 59, 59, tzinfo=bkk)) == 2569
    assert thai_fiscal_year(datetime(2026, 9, 30, 17, 0, 0, tzinfo=bkk)) == 2570  # 1 Oct 00:00 Bangkok
    assert thai_fiscal_year(datetime(2027, 1, 1, tzinfo=bkk)) == 2570
    assert receipt_number("TISI", 2569, 123) == "TISI-2569-000123"
    assert parse_receipt_number("tisi-2570-000001") == ("TISI", 2570, 1)
    with pytest.raises(ValueError):
        receipt_number("TI SI", 2569, 1)


def test_numbers_follow_the_fiscal_year_of_the_payment_date(bank, seed, db):
    rows = seed(*(invoice_row(i) for i in (1, 2, 3)))
    _pay(bank, rows[0], transDateTime="2026-09-30T23:59:59+07:00")
    _pay(bank, rows[1], transDateTime="2026-10-01T00:00:00+07:00")
    _pay(bank, rows[2], transDateTime="2026-10-01T08:00:00+07:00")
    with db.sessions() as s:
        numbers = list(s.scalars(select(Receipt.number).order_by(Receipt.payment_id)))
    assert numbers == ["TISI-2569-000001", "TISI-2570-000001", "TISI-2570-000002"]


def test_reversal_voids_the_receipt_and_a_new_payment_gets_a_new_number(line, bank, seed, fake_line, db, client):
    row = seed(invoice_row(1, invoice_no=INV))[0]
    line.say(INV)
    _pay(bank, row, bank_ref="KTBFIRST01")
    assert fake_line.wait_for(lambda f: len(f.pushes()) >= 1)
    first_path = _receipt_button(fake_line)
    assert bank.post(bank.body("reversal", row, bank_ref="KTBFIRST01")).get_json()["respCode"] == "0000"
    _pay(bank, row, bank_ref="KTBSECOND1")
    with db.sessions() as s:
        receipts = list(s.scalars(select(Receipt).order_by(Receipt.payment_id)))
    assert [r.number for r in receipts] == ["TISI-2570-000001", "TISI-2570-000002"]
    assert receipts[0].voided_at is not None and "KTBFIRST01" in receipts[0].void_reason
    assert receipts[1].voided_at is None
    # The first link still answers, now with the receipt marked void (ยกเลิก) and why.
    void_pdf = client.get(first_path)
    assert void_pdf.status_code == 200 and void_pdf.mimetype == "application/pdf"
    text = _text(void_pdf.data)
    assert "ยกเลิก" in text and "TISI-2570-000001" in text and "KTBFIRST01" in text
    assert read_receipt_xml(embedded_file(void_pdf.data, FILE_NAME)).void_reason
    assert client.get(first_path).data == void_pdf.data  # served as stored


def test_fifty_concurrent_payments_get_fifty_consecutive_numbers(database_url, seed, db, receipt_p12):
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrency of separate connections: PostgreSQL (SQLite has one writer)")
    from bot.bank import protocol as p
    from bot.bank import service
    from bot.data.db import Database
    from bot.ledger.receipts import ReceiptBook

    rows = seed(*(invoice_row(i) for i in range(1, 51)))
    book = ReceiptBook("TISI", lambda key: f"http://x/{key}")
    pool = Database(database_url, pool_size=25, max_overflow=30)
    barrier = threading.Barrier(50)
    answers = []

    def pay(row):
        cmd = p.BankCommand(command="payment", bank_code="006", bank_ref=f"KTBC{row['invoice_no'][-4:]}",
                            biller_id="099999999999990", ref1=row["invoice_no"], ref2=row["ref2"],
                            amount=Decimal(row["amount"]), channel="QR",
                            transacted_at=datetime(2026, 11, 25, 7, 30, tzinfo=timezone.utc))
        barrier.wait()
        answers.append(service.handle(pool, cmd, b"{}", book=book).status)

    threads = [threading.Thread(target=pay, args=(r,)) for r in rows]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pool.dispose()
    assert answers == [200] * 50
    with db.sessions() as s:
        seqs = sorted(s.scalars(select(Receipt.seq)))
        numbers = set(s.scalars(select(Receipt.number)))
    assert seqs == list(range(1, 51))
    assert len(numbers) == 50


# -- the document ----------------------------------------------------------------------------------
def _text(pdf: bytes) -> str:
    """pdfplumber's (pdfminer's) characters, each through the font's ToUnicode, in content order
    (its own line-building moves Thai marks by position), spaces dropped."""
    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        assert len(doc.pages) == 1 and (round(doc.pages[0].width), round(doc.pages[0].height)) == (595, 842)  # A4
        chars = "".join(c["text"] for c in doc.pages[0].chars)
    assert "(cid:" not in chars
    return chars.replace(" ", "")


def test_receipt_pdf_is_signed_whole_and_says_what_was_paid(paid, client, db, receipt_p12):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from pypdf import PdfReader

    from bot.render.pades import ReceiptSigner

    row, path = paid
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.data
    assert client.get(path).data == pdf  # same receipt, same bytes
    assert hashlib.sha256(pdf).hexdigest() == _documents(db)[0].sha256
    assert response.headers["ETag"] == f'"{hashlib.sha256(pdf).hexdigest()}"'  # the whole SHA-256, as promised

    cert = ReceiptSigner(receipt_p12, RECEIPT_PASSWORD).certificate
    (sig,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    status = validate_pdf_signature(sig, ValidationContext(trust_roots=[cert]))
    assert status.intact and status.valid and status.coverage.name == "ENTIRE_FILE"
    assert sig.self_reported_timestamp is not None  # the signing time (/M)

    # Copied text is the Thai that was written (pdfminer and pypdf), with the number and tax IDs.
    for text in (_text(pdf), PdfReader(io.BytesIO(pdf)).pages[0].extract_text().replace(" ", "")):
        for expected in ("ใบเสร็จรับเงิน", "ได้รับเงินไว้ถูกต้องแล้ว", "TISI-2570-000001", TAX_ID, DEMO_ISSUER_TAX_ID,
                         "หนึ่งพันบาทถ้วน", "KTBRCPT0001", INV, "สาขาที่00012", "บริษัทไทยอุตสาหกรรมเหล็กจำกัด",
                         "ชำระเมื่อ", "25พ.ย.256914:30น."):  # paid on, Bangkok time, Buddhist era
            assert expected in text, (expected, text)

    xml = read_receipt_xml(embedded_file(pdf, FILE_NAME))
    assert (xml.number, xml.type_code, xml.amount, xml.invoice_no, xml.bank_ref) == (
        "TISI-2570-000001", "T01", Decimal("1000.00"), INV, "KTBRCPT0001")
    assert xml.seller_tax == DEMO_ISSUER_TAX_ID + "00000" and xml.buyer_tax == TAX_ID + "00012"
    assert xml.void_reason is None

    # PDF/A-3: the XML is an associated file (Alternative) listed in the catalog's /AF.
    reader = PdfReader(io.BytesIO(pdf))
    af = reader.trailer["/Root"]["/AF"]
    spec = af[0].get_object()
    assert spec["/AFRelationship"] == "/Alternative" and spec["/F"] == FILE_NAME
    assert b"pdfaid:part" in reader.trailer["/Root"]["/Metadata"].get_object().get_data()


@pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf not installed (apt-get install qpdf; CI installs it)")
def test_qpdf_finds_nothing_wrong(paid, client, tmp_path):
    path = tmp_path / "r.pdf"
    path.write_bytes(client.get(paid[1]).data)
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors" in result.stdout


def test_unknown_or_forged_receipt_links_are_404(paid, client):
    path = paid[1]
    token = path.rsplit("/", 1)[1].removesuffix(".pdf")
    public_id, tag = token.split(".")
    assert client.get(f"/receipt/{public_id}.{'A' * len(tag)}.pdf").status_code == 404
    assert client.get("/receipt/nothing.pdf").status_code == 404


# -- verify ----------------------------------------------------------------------------------------
def test_receipt_verify_good_tampered_foreign_and_not_in_chain(paid, client, tmp_path, verify_env, db, receipt_p12):
    pdf = client.get(paid[1]).data
    good = tmp_path / "good.pdf"
    good.write_bytes(pdf)
    result = _cli(["receipt", "verify", str(good)], verify_env)
    assert result.exit_code == 0, result.output
    assert "VALID: receipt TISI-2570-000001, 1000.00 baht" in result.output
    assert "covers the whole file" in result.output and "chain: link" in result.output

    # One changed byte inside the signed range.
    bad = bytearray(pdf)
    at = len(pdf) // 4  # in the first revision, far from the signature itself
    bad[at] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(bad))
    result = _cli(["receipt", "verify", str(tampered)], verify_env)
    assert result.exit_code == 1 and "modified" in result.output, result.output

    # Bytes appended after the signature (an incremental update).
    appended = tmp_path / "appended.pdf"
    appended.write_bytes(pdf + b"\n1 0 obj\n<<>>\nendobj\n")
    result = _cli(["receipt", "verify", str(appended)], verify_env)
    assert result.exit_code == 1 and "modified" in result.output, result.output

    # A well-formed incremental update, as an editor saves one: one line of verdict, no traceback
    # (pyHanko logs one while it compares the revisions).
    from pyhanko.pdf_utils.generic import pdf_string
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    writer.root["/Lang"] = pdf_string("en")
    writer.update_root()
    saved = io.BytesIO()
    writer.write(saved)
    edited = tmp_path / "edited.pdf"
    edited.write_bytes(saved.getvalue())
    run = subprocess.run([str(Path(sys.executable).parent / "tisi-pay"), "receipt", "verify", str(edited)],
                         capture_output=True, text=True, env={**os.environ, **verify_env}, timeout=120)
    said = (run.stdout + run.stderr).strip()
    assert run.returncode == 1 and "modified" in said and "Traceback" not in said, said
    assert len(said.splitlines()) == 1, said

    # Signed by a certificate that is not ours.
    from bot.dev.testcert import make_test_p12
    from bot.ledger.receipts import receipt_data
    from bot.render.pades import ReceiptSigner
    from bot.render.receipt import render_receipt

    other = tmp_path / "other.p12"
    make_test_p12(other, "x", common_name="Somebody else")
    with db.sessions() as s:
        data = receipt_data(s, s.scalars(select(Receipt)).one(), "0999999999991")
    foreign = tmp_path / "foreign.pdf"
    foreign.write_bytes(ReceiptSigner(other, "x").sign(render_receipt(data)))
    result = _cli(["receipt", "verify", str(foreign)], verify_env)
    assert result.exit_code == 1 and "unknown signer" in result.output, result.output

    # Signed with our key, but never issued here: not in the chain.
    ours = tmp_path / "unissued.pdf"
    ours.write_bytes(ReceiptSigner(receipt_p12, RECEIPT_PASSWORD).sign(render_receipt(data)))
    result = _cli(["receipt", "verify", str(ours)], verify_env)
    assert result.exit_code == 1 and "not in the chain" in result.output, result.output


def test_receipt_verify_says_voided_after_a_reversal(paid, bank, client, tmp_path, verify_env):
    row, path = paid
    pdf = client.get(path).data
    assert bank.post(bank.body("reversal", row, bank_ref="KTBRCPT0001")).get_json()["respCode"] == "0000"
    original = tmp_path / "original.pdf"
    original.write_bytes(pdf)
    result = _cli(["receipt", "verify", str(original)], verify_env)
    assert result.exit_code == 1 and "voided" in result.output, result.output


def test_receipt_verify_accepts_a_certificate_of_a_trusted_root(database_url, fake_line, tmp_path, db, seed):
    """An Institute certificate issued by a CA: accepted through RECEIPT_TRUST_ROOTS alone."""
    from bot.dev.testcert import make_test_ca, make_test_p12, pem
    from bot.factory import create_app
    from bot.ledger.receipts import key_of
    from tests.conftest import Bank

    ca = make_test_ca()
    p12 = tmp_path / "issued.p12"
    make_test_p12(p12, "pw", common_name="TISI receipts (test, CA-issued)", issuer=ca)
    roots = tmp_path / "roots.pem"
    roots.write_bytes(pem(ca[0]))
    app = create_app(Settings.from_env(make_env(database_url, fake_line.url, RECEIPT_SIGNING_P12=str(p12),
                                                RECEIPT_SIGNING_PASSWORD="pw")), db=db)
    try:
        row = seed(invoice_row(1))[0]
        client = app.test_client()
        _pay(Bank(client), row)
        with db.sessions() as s:
            key = key_of(s, s.scalars(select(Receipt)).one())
        pdf = client.get(urlparse(app.extensions["tisi"].links.receipt_url(key)).path).data
    finally:
        app.extensions["tisi"].close()
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    result = _cli(["receipt", "verify", str(path)], {"DATABASE_URL": database_url, "RECEIPT_SIGNING_P12": "",
                                                    "RECEIPT_TRUST_ROOTS": str(roots)})
    assert result.exit_code == 0, result.output


def test_every_receipt_pdf_is_a_link_of_the_chain(paid, bank, db, database_url):
    from bot.ledger.audit import verify

    row, _ = paid
    bank.post(bank.body("reversal", row, bank_ref="KTBRCPT0001"))
    wait_for(lambda: len(_documents(db)) == 2, timeout=20)  # the receipt, and it marked void
    with db.sessions() as s:
        linked = set(s.scalars(select(ChainLink.row_id).where(ChainLink.kind == ChainKind.RECEIPT)))
        verdict = verify(s, None)
    assert linked == {d.id for d in _documents(db)}
    assert verdict.intact, verdict.problems


# -- off the bank's path ----------------------------------------------------------------------------
def test_the_bank_path_allocates_the_number_and_the_worker_makes_the_pdf(seed, db, receipt_p12):
    from bot.bank import protocol as p
    from bot.bank import service
    from bot.data.states import WorkerKind
    from bot.ledger.receipts import ReceiptBook, ReceiptMaker
    from bot.render.pades import ReceiptSigner
    from bot.runtime.receipts import ReceiptQueue
    from bot.runtime.worker import Dispatcher

    row = seed(invoice_row(1))[0]
    cmd = p.BankCommand(command="payment", bank_code="006", bank_ref="KTBOFFPATH", biller_id="099999999999990",
                        ref1=row["invoice_no"], ref2=row["ref2"], amount=Decimal("1000.00"), channel="QR",
                        transacted_at=datetime(2026, 11, 25, 7, 30, tzinfo=timezone.utc))
    status = service.handle(db, cmd, b"{}", book=ReceiptBook("TISI", lambda r: "x")).status
    assert status == 200
    with db.sessions() as s:
        receipt = s.scalars(select(Receipt)).one()
        assert receipt.pending == "issued"
        assert s.scalar(select(func.count()).select_from(ReceiptDocument)) == 0  # nothing rendered on the way
    maker = ReceiptMaker(ReceiptSigner(receipt_p12, RECEIPT_PASSWORD), "0999999999999")
    dispatcher = Dispatcher(db, [ReceiptQueue(db, maker)], kind=WorkerKind.EXTERNAL)
    try:
        wait_for(lambda: (dispatcher.step() or True) and len(_documents(db)) == 1, timeout=20)
    finally:
        dispatcher.close()
    with db.sessions() as s:
        assert s.get(Receipt, receipt.payment_id).pending is None


# -- where people get it ------------------------------------------------------------------------------
def test_chat_receipt_command_answers_with_the_link_or_not_paid_yet(paid, line, seed, client):
    _, path = paid
    reply = line.say(f"ขอใบเสร็จ {INV}")
    assert "TISI-2570-000001" in reply[0]["text"] and path in reply[0]["text"]
    assert client.get(urlparse(reply[0]["text"].split()[-1]).path).status_code == 200
    seed(invoice_row(2, invoice_no="2568110400000002"))
    reply = line.say("receipt 2568110400000002", user_id=OTHER_USER)
    assert reply[0]["text"] == "Invoice 2568110400000002 is not paid yet, so there is no receipt. This is how to pay it:"
    assert [m["type"] for m in reply] == ["text", "flex", "image"]  # the card and QR, without asking for the number again
    reply = line.say("ขอใบเสร็จ 2568110400000002")
    assert "ยังไม่ได้ชำระ" in reply[0]["text"]


def test_a_receipt_goes_only_to_who_asked_before_paying_or_proves_the_payment(paid, line, seed):
    """CONTRACT §8: the receipt shows the payer's full name and tax ID."""
    row, path = paid
    stranger = line.say(f"receipt {INV}", user_id=OTHER_USER)
    said = json.dumps(stranger, ensure_ascii=False)
    assert "/receipt/" not in said and row["payer_name"] not in said
    assert "bank reference on your transfer slip" in stranger[0]["text"]
    assert "/receipt/" not in json.dumps(line.say(f"receipt {INV} KTBWRONG0001", user_id=OTHER_USER))
    for proof in ("KTBRCPT0001", "ktbrcpt0001", row["tax_id"]):  # the slip's bank reference, or the payer's tax ID
        assert path in line.say(f"ขอใบเสร็จ {INV} {proof}", user_id=OTHER_USER)[0]["text"], proof
    assert path in line.say(f"ขอใบเสร็จ {INV}")[0]["text"]  # the user who asked before paying


def test_receipt_without_a_number_lists_the_users_own(paid, line):
    _, path = paid
    mine = line.say("ขอใบเสร็จ")
    carousel = mine[-1]["contents"]
    assert carousel["type"] == "carousel" and len(carousel["contents"]) == 1
    button = carousel["contents"][0]["footer"]["contents"][0]["action"]
    assert button["type"] == "uri" and path in button["uri"]
    theirs = line.say("receipt please", user_id=OTHER_USER)
    assert "/receipt/" not in json.dumps(theirs) and "bank reference" in theirs[0]["text"]


def test_receipts_of_expired_and_cancelled_invoices_are_answered_truthfully(line, seed, db):
    from bot.data.models import Invoice

    seed(invoice_row(3, invoice_no="2567010100000003", due_date="2024-03-31"),
         invoice_row(4, invoice_no="2568110400000004"))
    with db.transaction() as s:
        s.scalar(select(Invoice).where(Invoice.invoice_no == "2568110400000004")).status = "cancelled"
    expired = line.say("ขอใบเสร็จ 2567010100000003")[0]["text"]
    assert "ไม่ได้ชำระภายในวันครบกำหนด (31 มีนาคม 2567)" in expired and "พิมพ์เลขที่ใบแจ้งหนี้" not in expired
    assert line.say("receipt 2568110400000004")[0]["text"] == "Invoice 2568110400000004 was cancelled, so it has no receipt."


def test_tracking_page_of_a_paid_invoice_links_the_receipt(paid, client, line, fake_line):
    _, path = paid
    card = line.say(INV)[0]
    track = next(b["action"]["uri"] for b in card["contents"]["footer"]["contents"] if "/track/" in b["action"]["uri"])
    page = client.get(urlparse(track).path).get_data(as_text=True)
    assert f'id="receipt" href="http://127.0.0.1:8080{path}"' in page


def test_payer_branch_is_checked_on_import(seed, db):
    from bot.ledger.invoices import upsert_invoices

    with db.transaction() as s:
        result = upsert_invoices(s, [(2, invoice_row(1, payer_branch="ABC")), (3, invoice_row(2, payer_branch="0")),
                                     (4, invoice_row(3, payer_branch="00007"))], actor="test")
    assert [r for r, _ in result.rejected] == [2]
    assert "payer_branch" in result.rejected[0][1]
    from bot.data.models import Invoice

    with db.sessions() as s:
        branches = dict(s.execute(select(Invoice.invoice_no, Invoice.payer_branch)).all())
    assert branches == {"2568110400000002": None, "2568110400000003": "00007"}


def test_the_receipt_is_dated_the_day_the_money_was_received(bank, seed, db):
    """Paid 30 Sep 2569 at 23:59 Bangkok, made weeks later: number and date of that day, in the
    page and in the XML; the day it was made is its XML's CreationDateTime."""
    from bot.core.dates import format_long_date, to_bangkok, utcnow
    from tests.pdfreaders import pdfium_text

    row = seed(invoice_row(1, payer_address="99/1 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพมหานคร",
                           payer_postcode="10110"))[0]
    _pay(bank, row, transDateTime="2026-09-30T23:59:00+07:00")
    wait_for(lambda: len(_documents(db)) == 1, timeout=20, what="the worker made a receipt PDF")
    document = _documents(db)[0]
    text = " ".join(pdfium_text(document.pdf).split())
    assert document.number == "TISI-2569-000001"
    assert "TISI-2569-000001" in text and "30 กันยายน 2569" in text
    assert format_long_date(to_bangkok(utcnow()).date(), "th") not in text
    xml = embedded_file(document.pdf, FILE_NAME).decode()
    assert "<ram:IssueDateTime>2026-09-30T23:59:00+07:00</ram:IssueDateTime>" in xml
    assert "<ram:LineOne>99/1 ถนนสุขุมวิท" in xml and "<ram:PostcodeCode>10110</ram:PostcodeCode>" in xml


def test_a_test_certificates_receipt_says_sample_and_a_real_ones_does_not(tmp_path, receipt_p12):
    """The demo's and the tests' certificate (organisation "TISI Pay test") marks its receipts as
    samples; a certificate of anyone else does not."""
    from bot.dev.testcert import make_test_p12
    from bot.ledger.receipts import ReceiptMaker, make_pdf
    from bot.render.pades import ReceiptSigner
    from tests.pdfreaders import missing
    from tests.test_pdf_text import receipt

    data = receipt("บริษัท ตัวอย่าง จำกัด", Decimal("500"))
    sample = make_pdf(data, ReceiptMaker(ReceiptSigner(receipt_p12, RECEIPT_PASSWORD), "0999999999991"))
    assert missing(sample, ["ตัวอย่าง — ไม่ใช่ใบเสร็จจริง", "SAMPLE — not a receipt"]) == {}
    real_p12 = tmp_path / "institute.p12"
    make_test_p12(real_p12, "pw", common_name="Thai Industrial Standards Institute", organization="TISI")
    real = make_pdf(data, ReceiptMaker(ReceiptSigner(real_p12, "pw"), "0999999999991"))
    assert set(missing(real, ["SAMPLE — not a receipt"])) == {"poppler", "pdfium", "pdfminer", "pypdf"}


def test_signing_keeps_the_receipt_a_pdf_1_7_and_refuses_keys_that_would_not(tmp_path, receipt_p12):
    """PDF/A-3 is a PDF 1.7 profile. pyHanko marks a file signed with ECDSA as PDF 2.0 (ISO 32002),
    so only RSA keys are taken; an RSA signature leaves the header and the catalog at 1.7."""
    import pypdf

    from bot.dev.testcert import make_test_p12
    from bot.render.pades import ReceiptSigner, SignerError
    from bot.render.receipt import render_receipt
    from tests.test_pdf_text import receipt

    signed = ReceiptSigner(receipt_p12, RECEIPT_PASSWORD).sign(render_receipt(receipt("บริษัท ก จำกัด", Decimal("1"))))
    catalog = pypdf.PdfReader(io.BytesIO(signed)).trailer["/Root"]
    assert signed.startswith(b"%PDF-1.7") and catalog.get("/Version") in (None, "/1.7")
    assert catalog["/Extensions"]["/ESIC"]["/BaseVersion"] == "/1.7"
    ec_p12 = tmp_path / "ec.p12"
    make_test_p12(ec_p12, "pw", key_type="ec")
    with pytest.raises(SignerError, match="RSA"):
        ReceiptSigner(ec_p12, "pw")


def test_the_key_file_is_opened_once_until_it_is_replaced(tmp_path):
    """Every app and command reads RECEIPT_SIGNING_P12 (a PKCS#12 key derivation each time): it is
    decrypted once per process; a key file replaced in place (a renewed certificate) is read anew,
    and a wrong password is still refused."""
    from bot.dev.testcert import make_test_p12
    from bot.render import pades

    p12 = tmp_path / "rotated.p12"
    make_test_p12(p12, "pw", common_name="first")
    opened = pades._opened.cache_info().misses
    first = pades.ReceiptSigner(p12, "pw")
    again = pades.ReceiptSigner(p12, "pw")
    assert pades._opened.cache_info().misses == opened + 1
    assert again.subject == first.subject and "first" in first.subject
    make_test_p12(p12, "pw", common_name="renewed")
    os.utime(p12, ns=(p12.stat().st_atime_ns, p12.stat().st_mtime_ns + 1_000_000))  # a new version
    assert "renewed" in pades.ReceiptSigner(p12, "pw").subject
    with pytest.raises(pades.SignerError, match="wrong RECEIPT_SIGNING_PASSWORD"):
        pades.ReceiptSigner(p12, "not the password")


def test_a_wrong_signing_password_is_a_one_line_configuration_error(settings, db, receipt_p12):
    """pyHanko raises ValueError for a wrong password: the app said so with a traceback."""
    from dataclasses import replace

    from bot.config import ConfigError
    from bot.factory import create_app

    wrong = replace(settings, receipt_signing_p12=str(receipt_p12), receipt_signing_password="not it")
    with pytest.raises(ConfigError, match="wrong RECEIPT_SIGNING_PASSWORD") as refused:
        create_app(wrong, db=db)
    assert "\n" not in str(refused.value)


def test_a_payment_wakes_its_process_receipt_maker(app, bank, seed, db):
    """WORKER=inline: the payment's request wakes this process's receipt queue (a thread event),
    so the PDF does not wait for the queue's next look (every second; here, never)."""
    import time

    dispatcher = app.extensions["tisi"].worker._started()
    dispatcher.idle_poll = 3600.0
    dispatcher.wake()  # one look now, the next in an hour
    wait_for(lambda: dispatcher._look["receipts"] > time.monotonic() + 600, what="the dispatcher's hour-long wait")
    row = seed(invoice_row(1, invoice_no=INV))[0]
    _pay(bank, row, bank_ref="KTBWAKE0001")
    wait_for(lambda: len(_documents(db)) == 1, timeout=20, what="the payment's receipt PDF, made without a look")
