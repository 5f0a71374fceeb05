"""The public URLs of an invoice (QR image, tracking page, pay-in slip) and of a receipt, signed
with SECRET_KEY.

Its own module, light to import: `tisi-pay remind` and `invoices import` build links without
loading the web app or the LINE SDK."""
from __future__ import annotations

from bot.config import Settings
from bot.core.tokens import make_token
from bot.data.models import Invoice
from bot.render.messages import Links


def make_links(settings: Settings) -> Links:
    def qr_url(inv: Invoice) -> str:
        return f"{settings.public_base_url}/qr/{make_token(settings.secret_key, 'qr', inv.public_id)}.png"

    def track_url(inv: Invoice) -> str:
        return f"{settings.public_base_url}/track/{make_token(settings.secret_key, 'track', inv.public_id)}"

    def slip_url(inv: Invoice) -> str:
        return f"{settings.public_base_url}/slip/{make_token(settings.secret_key, 'slip', inv.public_id)}.pdf"

    def receipt_url(key: str) -> str:  # bot.ledger.receipts.receipt_key: the invoice's public id and the payment's id
        return f"{settings.public_base_url}/receipt/{make_token(settings.secret_key, 'receipt', key)}.pdf"

    return Links(qr_url=qr_url, track_url=track_url, slip_url=slip_url, receipt_url=receipt_url)
