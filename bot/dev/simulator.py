"""The demo's LINE simulator: type as a LINE user, see the bot's replies and pushes.

Every message goes as a signed webhook over HTTP to the real /callback; what the page shows
is what the bot sent to the (fake) LINE Messaging API through line-bot-sdk.
"""
from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import urllib.error
import urllib.request
import uuid

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
)
from sqlalchemy import select

from bot.core.signing import bank_signature, line_signature
from bot.core.thaiqr import crc16_ccitt_false, tlv
from bot.data.models import Invoice
from bot.services import services

bp = Blueprint("simulator", __name__)


def webhook_event(kind: str, user_id: str, *, text: str = "", data: str = "", reply_token: str | None = None,
                  message_id: str | None = None, file_name: str = "") -> dict:
    """One webhook event shaped like the ones LINE sends (see tests/fixtures)."""
    event = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": False},
    }
    if kind != "unfollow":
        event["replyToken"] = reply_token or uuid.uuid4().hex
    if kind == "message":
        event["message"] = {"id": str(int(time.time() * 1e6)), "type": "text", "text": text, "quoteToken": "q"}
    elif kind in ("image", "file"):  # a photo or a file: its bytes wait on the fake's content host
        message: dict[str, object] = {"id": message_id or str(int(time.time() * 1e6)), "type": kind, "quoteToken": "q"}
        if kind == "image":
            message["contentProvider"] = {"type": "line"}
        else:
            message.update(fileName=file_name or "slip.pdf", fileSize=1)
        event["type"], event["message"] = "message", message
    elif kind == "sticker":
        event["type"] = "message"
        event["message"] = {"id": str(int(time.time() * 1e6)), "type": "sticker", "packageId": "446",
                            "stickerId": "1988", "stickerResourceType": "STATIC", "quoteToken": "q"}
    elif kind == "postback":
        event["postback"] = {"data": data}
    elif kind == "follow":
        event["follow"] = {"isUnblocked": False}
    return event


def post_signed(url: str, secret: str, events: list[dict]) -> int:
    body = json.dumps({"destination": "U" + "0" * 32, "events": events}, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Line-Signature": line_signature(secret, body)})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def bank_request(url: str, secret: str, payload: dict) -> tuple[int, dict]:
    body = json.dumps(payload).encode()
    ts = str(int(time.time()))
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Bank-Timestamp": ts, "X-Bank-Signature": bank_signature(secret, ts, body)})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@bp.get("/simulator")
def page():
    return render_template("html/simulator.html")


PHOTO_MAX_BYTES = 10 * 1024 * 1024  # LINE's own limit for an image a user sends
PHOTO_TYPES = {"image/jpeg": "image", "image/png": "image", "application/pdf": "file"}


def _photo(data: dict) -> tuple[bytes, str] | str:
    """The bytes and content type of a photo the simulator's user sends: a file they chose (base64),
    or an image of this app they were sent (its path: a QR, or the simulated bank's e-slip). An
    error code otherwise."""
    source = str(data.get("from") or "")
    if source:
        if not source.startswith("/") or source.startswith("//"):
            return "bad_source"  # only this app's own images
        answer = current_app.test_client().get(source)
        body, content_type = answer.get_data(), (answer.mimetype or "")
        if answer.status_code != 200:
            return "source_not_found"
    else:
        try:
            body = base64.b64decode(str(data.get("data") or ""), validate=True)
        except (binascii.Error, ValueError):
            return "bad_data"
        content_type = str(data.get("contentType") or "image/jpeg")
    if not body or len(body) > PHOTO_MAX_BYTES:
        return "bad_size"
    return body, content_type


@bp.post("/simulator/send")
def send():
    sim = current_app.extensions["simulator"]
    data = request.get_json(silent=True) or {}
    user_id = str(data.get("userId") or "U" + "d" * 32)
    kind = data.get("kind", "message")
    if kind not in ("message", "sticker", "postback", "follow", "unfollow", "image"):
        return jsonify({"error": "bad_kind"}), 400
    message_id, file_name = None, ""
    if kind == "image":
        photo = _photo(data)
        if isinstance(photo, str):
            return jsonify({"error": photo}), 400
        body, content_type = photo
        kind = PHOTO_TYPES.get(content_type, "image")  # anything else is sent as LINE would: an image it cannot read
        message_id = str(int(time.time() * 1e6))
        file_name = str(data.get("fileName") or "slip.pdf")[:100]
        sim["fake"].put_content(message_id, body, content_type)
    event = webhook_event(kind, user_id, text=str(data.get("text", ""))[:5000], data=str(data.get("data", "")),
                          message_id=message_id, file_name=file_name)
    if "replyToken" in event:
        sim["tokens"][event["replyToken"]] = user_id
        sim["fake"].issue_reply_token(event["replyToken"])
    settings = services().settings
    status = post_signed(f"{settings.public_base_url}/callback", settings.line_channel_secret, [event])
    return jsonify({"status": status})


@bp.post("/simulator/pay")
def pay():
    """Play the bank: a signed `payment` for an invoice, to the real bank endpoint."""
    tisi = services()
    number = str((request.get_json(silent=True) or {}).get("invoiceNo", ""))
    with tisi.db.sessions() as session:
        inv = session.scalar(select(Invoice).where(Invoice.invoice_no == number))
    if inv is None:
        return jsonify({"error": "unknown_invoice"}), 404
    bank_ref = "SIM" + uuid.uuid4().hex[:12].upper()
    if (request.get_json(silent=True) or {}).get("via") == "soap" and tisi.settings.directlink_enabled:
        status, answer = directlink_request(f"{tisi.settings.public_base_url}/bank/ktb/directlink", tisi.settings,
                                            inv, bank_ref)
        return jsonify({"status": status, "answer": answer, "via": "soap"})
    payload = {
        "command": "payment", "bankCode": "006", "bankRef": bank_ref,
        "billerId": tisi.settings.biller_id, "ref1": inv.invoice_no, "ref2": inv.ref2, "amount": f"{inv.amount:.2f}",
        "channel": "QR", "transDateTime": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
    }
    status, answer = bank_request(f"{tisi.settings.public_base_url}/bank/ktb/billpayment",
                                  current_app.extensions["simulator"]["bank_secret"], payload)
    return jsonify({"status": status, "answer": answer, "via": "json", "eslip": f"/simulator/eslip/{bank_ref}.png"})


@bp.get("/simulator/eslip/<bank_ref>.png")
def eslip(bank_ref: str):
    """The e-slip the simulated bank app shows after paying: a screen with the slip's mini QR (bank
    006 and the transaction reference), which a user can send to the bot as a photo."""
    import io

    import segno
    from PIL import Image, ImageDraw

    if not bank_ref.isalnum() or len(bank_ref) > 25:
        return jsonify({"error": "bad_ref"}), 404
    payload = tlv("00", tlv("00", "000001") + tlv("01", "006") + tlv("02", bank_ref)) + tlv("51", "TH") + "9104"
    payload += crc16_ccitt_false(payload)
    code = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(code, kind="png", scale=6, border=4)
    shot = Image.new("RGB", (720, 1280), (244, 246, 250))
    draw = ImageDraw.Draw(shot)
    draw.rectangle((0, 0, 720, 140), fill=(0, 166, 81))
    draw.text((40, 50), "Krungthai NEXT (simulated) - transfer successful", fill=(255, 255, 255))
    draw.text((40, 220), f"Ref. {bank_ref}", fill=(40, 40, 40))
    qr = Image.open(code).convert("RGB")
    shot.paste(qr, ((720 - qr.width) // 2, 700))
    out = io.BytesIO()
    shot.save(out, "PNG")
    return Response(out.getvalue(), mimetype="image/png", headers={"Cache-Control": "no-store"})


def directlink_request(url: str, settings, inv, bank_ref: str) -> tuple[int, dict]:
    """Krungthai's Direct Link `Payment` call (docs/integrators.md, Direct Link), as its servers would send it."""
    from xml.etree import ElementTree as ET
    from xml.sax.saxutils import escape

    from bot.core.dates import today_bangkok

    fields = {"user": settings.ktb_directlink_user, "password": settings.ktb_directlink_password,
              "comcode": settings.ktb_company_code, "prodcode": "TISI", "command": "Payment", "bankcode": "6",
              "bankref": bank_ref, "datetime": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
              "effdate": today_bangkok().strftime("%Y%m%d"), "amount": f"{inv.amount:.2f}", "channel": "NEXT", "ref1": inv.invoice_no,
              "ref2": inv.ref2}
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
    body = ('<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><RequestCode>'
            f"{inner}</RequestCode></soapenv:Body></soapenv:Envelope>").encode()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        answer = {el.tag.rsplit("}", 1)[-1]: el.text for el in ET.fromstring(raw).iter() if len(el) == 0}
    except ET.ParseError:
        answer = {"raw": raw[:200].decode("utf-8", "replace")}
    return status, answer


@bp.get("/simulator/richmenu")
def rich_menu():
    """The channel's default rich menu as LINE's app would show it: deployed on first use with
    `tisi-pay richmenu deploy`'s own code, through line-bot-sdk, to the fake LINE API."""
    from bot.line.richmenu import deploy

    sim = current_app.extensions["simulator"]
    fake, settings = sim["fake"], services().settings
    with sim["lock"]:
        if fake.default_rich_menu is None:
            deploy(settings.line_api_url, settings.line_data_api_url, settings.line_channel_access_token)
    menu_id = fake.default_rich_menu
    menu = fake.rich_menus[menu_id]
    return jsonify({"richMenuId": menu_id, "size": menu["size"], "chatBarText": menu.get("chatBarText"),
                    "areas": menu["areas"], "image": f"/simulator/richmenu/{menu_id}.png"})


@bp.get("/simulator/richmenu/<menu_id>.png")
def rich_menu_image(menu_id: str):
    menu = current_app.extensions["simulator"]["fake"].rich_menus.get(menu_id)
    if menu is None or "image" not in menu:
        return jsonify({"error": "not_found"}), 404
    return Response(menu["image"], mimetype="image/png")


@bp.get("/simulator/feed")
def feed():
    """What the bot sent to LINE since `since`: replies (mapped back to the user) and pushes."""
    sim = current_app.extensions["simulator"]
    since = request.args.get("since", default=0, type=int)
    items = []
    sent_so_far = sim["fake"].since(0)
    for sent in sent_so_far:
        if sent.seq <= since:
            continue
        user = sim["tokens"].get(sent.to) if sent.kind == "reply" else sent.to
        items.append({"seq": sent.seq, "kind": sent.kind, "userId": user, "messages": sent.messages})
    # the last number given out: a page that saw more was open before the demo restarted
    return jsonify({"items": items, "latest": sent_so_far[-1].seq if sent_so_far else 0})


@bp.get("/simulator/staff")
def staff_sign_in():
    """The demo's staff account and the code its authenticator would show now: so that someone
    trying the demo can open the console (/staff) without a phone. Demo only."""
    import pyotp

    account = current_app.extensions["simulator"].get("staff")
    if not account:
        return Response("no demo staff account", status=404, mimetype="text/plain")
    html = render_template("html/simulator_staff.html", name=account["name"], password=account["password"],
                           code=pyotp.TOTP(account["secret"]).now(), uri=account["uri"])
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})


def init_simulator(app: Flask, fake, bank_secret: str, staff: dict | None = None) -> None:
    app.extensions["simulator"] = {"fake": fake, "tokens": {}, "bank_secret": bank_secret, "lock": threading.Lock(),
                                   "staff": staff}
    app.config["TISI_HOME_REDIRECT"] = "/simulator"  # the demo's front door is its simulator
    app.register_blueprint(bp)
