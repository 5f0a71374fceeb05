"""The HTTP edge that people and the Institute's systems call: LINE's webhook, the pages people
open (tracking, QR images, pay-in slips), the invoice API, the metrics endpoint, and the headers
and rate limits every answer gets. The bank's endpoints are their own edge, `bot.bank`."""
