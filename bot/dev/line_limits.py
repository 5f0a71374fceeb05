"""What LINE's Messaging API refuses in a reply or push, as documented (Messaging API reference:
"Message objects", "Flex Message elements", "Quick reply", "Action objects"): the fake LINE API
answers 400 in LINE's error shape for any of it, so a message real LINE would refuse fails the
suite. Lengths are counted as LINE counts them, in UTF-16 code units."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

MAX_MESSAGES = 5
TEXT_MAX = 5000
ALT_TEXT_MAX = 1500
BUBBLE_MAX_BYTES = 30 * 1024
CAROUSEL_MAX_BUBBLES = 12
CAROUSEL_MAX_BYTES = 50 * 1024
QUICK_REPLY_MAX = 13
QUICK_LABEL_MAX = 20
ACTION_LABEL_MAX = 40  # a button's label in a Flex message
POSTBACK_DATA_MAX = 300
URI_MAX = 1000
IMAGE_URL_MAX = 2000
MESSAGE_TYPES = {"text", "image", "flex", "sticker", "video", "audio", "location", "imagemap", "template"}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}  # the contract lets tests and the demo serve images over http


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def problems(messages: object) -> list[dict]:
    """LINE's `details` for a request's `messages`: [{"message": …, "property": …}], empty when fine."""
    out: list[dict] = []

    def bad(prop: str, message: str) -> None:
        out.append({"message": message, "property": prop})

    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        bad("messages", f"Size must be between 1 and {MAX_MESSAGES}")
        return out
    for i, m in enumerate(messages):
        p = f"messages[{i}]"
        if not isinstance(m, dict) or m.get("type") not in MESSAGE_TYPES:
            bad(f"{p}.type", "Invalid message type")
            continue
        kind = m["type"]
        if kind == "text":
            text = m.get("text")
            if not isinstance(text, str) or not text:
                bad(f"{p}.text", "Must not be empty")
            elif units(text) > TEXT_MAX:
                bad(f"{p}.text", f"Length must be between 0 and {TEXT_MAX}")
        elif kind == "image":
            for key in ("originalContentUrl", "previewImageUrl"):
                _image_url(m.get(key), f"{p}.{key}", bad)
        elif kind == "flex":
            alt = m.get("altText")
            if not isinstance(alt, str) or not alt or units(alt) > ALT_TEXT_MAX:
                bad(f"{p}.altText", f"Length must be between 1 and {ALT_TEXT_MAX}")
            _flex(m.get("contents"), f"{p}.contents", bad)
        quick = m.get("quickReply")
        if quick is not None:
            items = quick.get("items") if isinstance(quick, dict) else None
            if not isinstance(items, list) or not 1 <= len(items) <= QUICK_REPLY_MAX:
                bad(f"{p}.quickReply.items", f"Size must be between 1 and {QUICK_REPLY_MAX}")
            else:
                for j, item in enumerate(items):
                    action = item.get("action") if isinstance(item, dict) else None
                    _action(action, f"{p}.quickReply.items[{j}].action", bad, label_max=QUICK_LABEL_MAX,
                            label_needed=True)
    return out


def _image_url(url: object, prop: str, bad) -> None:
    if not isinstance(url, str) or not url or units(url) > IMAGE_URL_MAX:
        bad(prop, f"Length must be between 1 and {IMAGE_URL_MAX}")
        return
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        bad(prop, "Must be an https URL")


def _flex(contents: object, prop: str, bad) -> None:
    if not isinstance(contents, dict) or contents.get("type") not in ("bubble", "carousel"):
        bad(f"{prop}.type", "Must be bubble or carousel")
        return
    size = len(json.dumps(contents, ensure_ascii=False, separators=(",", ":")).encode())
    if contents["type"] == "carousel":
        bubbles = contents.get("contents")
        if not isinstance(bubbles, list) or not 1 <= len(bubbles) <= CAROUSEL_MAX_BUBBLES:
            bad(f"{prop}.contents", f"Size must be between 1 and {CAROUSEL_MAX_BUBBLES}")
            return
        if size > CAROUSEL_MAX_BYTES:
            bad(prop, f"A carousel must be at most {CAROUSEL_MAX_BYTES} bytes")
        for k, bubble in enumerate(bubbles):
            _bubble(bubble, f"{prop}.contents[{k}]", bad)
    else:
        _bubble(contents, prop, bad)


def _bubble(bubble: object, prop: str, bad) -> None:
    if not isinstance(bubble, dict) or bubble.get("type") != "bubble":
        bad(f"{prop}.type", "Must be bubble")
        return
    if len(json.dumps(bubble, ensure_ascii=False, separators=(",", ":")).encode()) > BUBBLE_MAX_BYTES:
        bad(prop, f"A bubble must be at most {BUBBLE_MAX_BYTES} bytes")
    _walk(bubble, prop, bad)


def _walk(node: object, prop: str, bad) -> None:
    """Every action inside a Flex component, wherever it sits; every image's URL."""
    if isinstance(node, dict):
        if node.get("type") == "image" and "url" in node:
            _image_url(node.get("url"), f"{prop}.url", bad)
        for key, value in node.items():
            if key == "action":
                _action(value, f"{prop}.action", bad, label_max=ACTION_LABEL_MAX, label_needed=False)
            else:
                _walk(value, f"{prop}.{key}", bad)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _walk(value, f"{prop}[{i}]", bad)


def _action(action: object, prop: str, bad, *, label_max: int, label_needed: bool) -> None:
    if not isinstance(action, dict) or not isinstance(action.get("type"), str):
        bad(f"{prop}.type", "Must be an action")
        return
    label = action.get("label")
    if label is not None and (not isinstance(label, str) or units(label) > label_max):
        bad(f"{prop}.label", f"Length must be between 0 and {label_max}")
    if label_needed and action["type"] != "camera" and action["type"] != "cameraRoll" and not label:
        bad(f"{prop}.label", "Must not be empty")
    if action["type"] == "postback":
        data = action.get("data")
        if not isinstance(data, str) or units(data) > POSTBACK_DATA_MAX:
            bad(f"{prop}.data", f"Length must be between 0 and {POSTBACK_DATA_MAX}")
    if action["type"] == "uri":
        uri = action.get("uri")
        if not isinstance(uri, str) or not uri or units(uri) > URI_MAX:
            bad(f"{prop}.uri", f"Length must be between 1 and {URI_MAX}")
    if action["type"] == "message":
        text = action.get("text")
        if not isinstance(text, str) or not text or units(text) > 300:
            bad(f"{prop}.text", "Length must be between 1 and 300")
