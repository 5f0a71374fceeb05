from tests.conftest import invoice_row


def test_invoice_message_gets_card_and_qr(line, seed):
    seed(invoice_row(12345, invoice_no="2568110400012345"))
    messages = line.say("ขอชำระใบแจ้งหนี้ ๒๕๖๘๑๑๐๔๐๐๐๑๒๓๔๕ ครับ")
    assert [m["type"] for m in messages] == ["flex", "image"]
