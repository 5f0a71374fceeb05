"""A local fake of the LINE Messaging API, over real HTTP, for the demo, tests and benchmarks.

It answers the paths line-bot-sdk v3 calls (reply, push, profile, loading, rich menus), remembers what it
was sent, honours `X-Line-Retry-Key` as LINE does (409 for a key already accepted), and can be
told to fail the next pushes or replies (5xx, 429 with Retry-After, or hang) or to answer every
call late (`latency`, also settable over HTTP at /__fake__/latency for the benchmarks).

Where our guarantees depend on it, it behaves as LINE does:
- a reply token is accepted once (again: 400 "Invalid reply token"), and not after it expired
  (`reply_token_ttl` after the webhook that carried it, when the token was `issue_reply_token`ed);
- content lives on its own host: message content and rich-menu images are served and taken only
  by `data_host` (`data_url` once started), and the API host answers 404 for them, as
  api.line.me does; the data host answers nothing else.
"""
from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from bot.dev import line_limits, line_schema


@dataclass
class Sent:
    seq: int
    kind: str  # reply or push
    to: str  # reply token or user id
    messages: list
    retry_key: str | None = None
    at: float = field(default_factory=time.time)


_CONTENT_PATH = re.compile(r"/v2/bot/(message/[^/]+/content(/preview|/transcoding)?|richmenu/[^/]+/content)$")
REPLY_TOKEN_TTL = 60.0  # LINE: a reply token is good for about a minute after the webhook


class _DataHost:
    """api-data.line.me: the same fake, answering only content paths."""

    def __init__(self, fake: "FakeLine"):
        self.fake = fake

    def __call__(self, environ, start_response):
        return self.fake._dispatch(Request(environ), data_host=True)(environ, start_response)


class FakeLine:
    _data_urls: dict[str, str] = {}  # api url -> data url of every started fake (for test settings)

    @classmethod
    def data_url_of(cls, api_url: str) -> str | None:
        return cls._data_urls.get(api_url)

    def __init__(self, access_token: str | None = None):
        self.access_token = access_token
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.sent: list[Sent] = []
        self.push_attempts: list[dict] = []
        self._accepted_keys: dict[str, str] = {}
        self._push_plan: list[dict] = []
        self._used_reply_tokens: set[str] = set()
        self.push_delay = 0.0  # seconds every push takes, to make deliveries slow on purpose
        self.latency = 0.0  # seconds every API call takes (reply, push, loading): LINE slow on purpose
        self.outage_status: int | None = None  # while set, every reply and push is answered this (LINE down)
        self.reply_plan: list[dict] = []  # like plan_push_failures, for replies
        self.content_failures: dict[str, int] = {}  # message id -> 500s still to answer
        self.reply_attempts: list[dict] = []
        self.refusals: list[dict] = []  # replies and pushes refused for their content (400)
        self.loading: list[dict] = []
        self._epoch = 0  # bumped by reset(): a call still hanging from before is not recorded after it
        self.rich_menus: dict[str, dict] = {}  # id -> the menu as created, plus "image" once uploaded
        self.default_rich_menu: str | None = None
        self.reply_token_ttl = REPLY_TOKEN_TTL
        self._issued_tokens: dict[str, float] = {}  # reply token -> when its webhook was sent
        self.contents: dict[str, tuple[int, bytes, str]] = {}  # message id -> (status, body, content type)
        self.data_host = _DataHost(self)
        self._server: BaseWSGIServer | None = None
        self._data_server: BaseWSGIServer | None = None
        self.url = ""
        self.data_url = ""

    # -- control -------------------------------------------------------------------------
    def plan_push_failures(self, *steps: dict) -> None:
        """Each step answers one push attempt: {"status": 500}, {"status": 429, "retry_after": 1},
        {"hang": 5} (sleep, then answer normally). After the plan, pushes succeed."""
        with self._lock:
            self._push_plan.extend(steps)

    def issue_reply_token(self, token: str, at: float | None = None) -> None:
        """A webhook carrying this token was sent (at `at`, default now): it expires after
        `reply_token_ttl`."""
        with self._lock:
            self._issued_tokens[token] = time.time() if at is None else at

    def put_content(self, message_id: str, body: bytes, content_type: str = "image/jpeg", status: int = 200,
                    failures: int = 0) -> None:
        """What a user sent, as LINE keeps it for a while (status 404/410: gone, e.g. unsent);
        `failures`: the content host answers 500 that many times first (its bad spells)."""
        with self._lock:
            self.contents[message_id] = (status, body, content_type)
            self.content_failures[message_id] = failures

    def reset(self) -> None:
        with self._lock:
            self._issued_tokens.clear()
            self.contents.clear()
            self.content_failures.clear()
            self.reply_token_ttl = REPLY_TOKEN_TTL
            self.sent.clear()
            self.push_attempts.clear()
            self._accepted_keys.clear()
            self._push_plan.clear()
            self._used_reply_tokens.clear()
            self.push_delay = 0.0
            self.latency = 0.0
            self.outage_status = None
            self.reply_plan.clear()
            self.reply_attempts.clear()
            self.refusals.clear()
            self.loading.clear()
            self.rich_menus.clear()
            self.default_rich_menu = None
            self._epoch += 1

    def replies(self) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.kind == "reply"]

    def pushes(self) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.kind == "push"]

    def since(self, seq: int) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.seq > seq]

    def wait_for(self, predicate, timeout: float = 10.0) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate(self):
                return True
            time.sleep(0.01)
        return predicate(self)

    # -- HTTP ----------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request, data_host: bool = False) -> Response:
        path = request.path
        if self.access_token and request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return _json({"message": "Authentication failed"}, 401)
        content = _CONTENT_PATH.search(path)
        if bool(content) != data_host:  # each host serves only its own paths, as LINE's do
            return _json({"message": "Not found"}, 404)
        if content and path.startswith("/v2/bot/message/") and request.method == "GET":
            return self._content(path.split("/")[4])
        if request.method == "POST" and path.endswith("/v2/bot/message/reply"):
            return self._reply(request)
        if request.method == "POST" and path.endswith("/v2/bot/message/push"):
            return self._push(request)
        if request.method == "GET" and "/v2/bot/profile/" in path:
            user_id = path.rsplit("/", 1)[-1]
            return _json({"displayName": "Demo user", "userId": user_id, "language": "th"})
        if request.method == "GET" and path == "/__fake__/stats":
            with self._lock:
                return _json({"replies": sum(s.kind == "reply" for s in self.sent),
                              "reply_at": [[s.to, s.at] for s in self.sent if s.kind == "reply"],
                              "loading": len(self.loading),
                              "pushes": [{"to": s.to, "key": s.retry_key, "at": s.at} for s in self.sent if s.kind == "push"],
                              "push_attempts": len(self.push_attempts)})
        if request.method == "POST" and path == "/__fake__/reset":
            self.reset()
            return _json({})
        if request.method == "POST" and path == "/__fake__/latency":
            self.latency = float((request.get_json(silent=True) or {}).get("seconds", 0))
            return _json({"latency": self.latency})
        if request.method == "POST" and path.endswith("/v2/bot/chat/loading/start"):
            return self._loading(request)
        if "/v2/bot/richmenu" in path or "/v2/bot/user/all/richmenu" in path:
            return self._rich_menu(request, path)
        return _json({"message": "Not found"}, 404)

    # -- rich menus: what `tisi-pay richmenu deploy` calls, checked as LINE checks it ----------
    def _rich_menu(self, request: Request, path: str) -> Response:
        method = request.method
        tail = path.split("/v2/bot/", 1)[1]
        with self._lock:
            if method == "POST" and tail == "richmenu":
                return self._create_rich_menu(request.get_json(silent=True) or {})
            if method == "GET" and tail == "richmenu/list":
                return _json({"richmenus": [_menu_view(i, m) for i, m in self.rich_menus.items()]})
            if tail == "user/all/richmenu" and method == "GET":
                if self.default_rich_menu is None:
                    return _json({"message": "no default rich menu"}, 404)
                return _json({"richMenuId": self.default_rich_menu})
            if tail.startswith("user/all/richmenu/") and method == "POST":
                menu_id = tail.rsplit("/", 1)[1]
                menu = self.rich_menus.get(menu_id)
                if menu is None:
                    return _json({"message": "richmenu not found"}, 404)
                if "image" not in menu:
                    return _json({"message": "must upload richmenu image before applying it to user"}, 400)
                self.default_rich_menu = menu_id
                return _json({})
            parts = tail.split("/")  # richmenu/<id>[/content]
            menu = self.rich_menus.get(parts[1]) if len(parts) >= 2 else None
            if menu is None:
                return _json({"message": "richmenu not found"}, 404)
            if len(parts) == 3 and parts[2] == "content" and method == "POST":
                return self._upload_rich_menu_image(menu, request)
            if len(parts) == 3 and parts[2] == "content" and method == "GET":
                if "image" not in menu:
                    return _json({"message": "Not found"}, 404)
                return Response(menu["image"], mimetype="image/png")
            if len(parts) == 2 and method == "GET":
                return _json(_menu_view(parts[1], menu))
            if len(parts) == 2 and method == "DELETE":
                del self.rich_menus[parts[1]]
                if self.default_rich_menu == parts[1]:
                    self.default_rich_menu = None
                return _json({})
        return _json({"message": "Not found"}, 404)

    def _create_rich_menu(self, body: dict) -> Response:
        if line_schema.problems("RichMenuRequest", body):
            return _json({"message": "The request body has 1 error(s)",
                          "details": line_schema.problems("RichMenuRequest", body)}, 400)
        size, areas = body.get("size") or {}, body.get("areas")
        if (size.get("width") != 2500 or size.get("height") not in (1686, 843) or not isinstance(areas, list)
                or not 1 <= len(areas) <= 20 or not body.get("name") or len(body.get("chatBarText", "")) > 14):
            return _json({"message": "The request body has 1 error(s)"}, 400)
        for area in areas:
            b = area.get("bounds") or {}
            if b.get("x", -1) < 0 or b.get("y", -1) < 0 or b.get("x", 0) + b.get("width", 0) > size["width"] \
                    or b.get("y", 0) + b.get("height", 0) > size["height"] or not area.get("action"):
                return _json({"message": "The request body has 1 error(s)", "details": [{"property": "areas"}]}, 400)
        menu_id = "richmenu-" + uuid.uuid4().hex
        self.rich_menus[menu_id] = dict(body)
        return _json({"richMenuId": menu_id})

    @staticmethod
    def _upload_rich_menu_image(menu: dict, request: Request) -> Response:
        if "image" in menu:
            return _json({"message": "An image has already been uploaded to the richmenu"}, 400)
        data = request.get_data()
        if request.mimetype not in ("image/png", "image/jpeg") or not data or len(data) > 1_000_000:
            return _json({"message": "invalid image"}, 400)
        import io

        from PIL import Image

        try:
            width, height = Image.open(io.BytesIO(data)).size
        except Exception:
            return _json({"message": "invalid image"}, 400)
        if (width, height) != (menu["size"]["width"], menu["size"]["height"]):
            return _json({"message": "image size must match the rich menu size"}, 400)
        menu["image"] = data
        return _json({})

    def _loading(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        epoch = self._epoch
        if self.latency:
            time.sleep(self.latency)
        seconds = body.get("loadingSeconds", 20)
        if line_schema.problems("ShowLoadingAnimationRequest", body) or not isinstance(seconds, int) or seconds % 5:
            return _json({"message": "The request body has 1 error(s)"}, 400)
        with self._lock:
            if epoch == self._epoch:
                self.loading.append({"chatId": body["chatId"], "seconds": seconds, "at": time.time()})
        return _json({}, 202)

    def _content(self, message_id: str) -> Response:
        with self._lock:
            found = self.contents.get(message_id)
            failing = self.content_failures.get(message_id, 0)
            if failing:
                self.content_failures[message_id] = failing - 1
        if failing:
            return _json({"message": "Internal server error"}, 500)
        if found is None:
            return _json({"message": "Not found"}, 404)
        status, body, content_type = found
        if status != 200:
            return _json({"message": "Not found"}, status)
        return Response(body, mimetype=content_type)

    def _reply(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        token, messages = body.get("replyToken"), body.get("messages")
        epoch = self._epoch
        with self._lock:
            step = self.reply_plan.pop(0) if self.reply_plan else None
            self.reply_attempts.append({"token": token, "step": step, "at": time.time()})
        if self.latency:
            time.sleep(self.latency)
        if self.outage_status:
            return _json({"message": "planned outage"}, self.outage_status)
        if step and "hang" in step:
            time.sleep(step["hang"])
        elif step:
            return _json({"message": step.get("message", "planned failure")}, step["status"])
        if request.headers.get("X-Line-Retry-Key"):
            return _json({"message": "The retry key is not supported for this API"}, 400)
        if not token or not isinstance(messages, list) or not 1 <= len(messages) <= 5:
            return _json({"message": "The request body has 1 error(s)"}, 400)
        refused = self._refused("ReplyMessageRequest", body)
        if refused is not None:
            return refused
        with self._lock:
            issued = self._issued_tokens.get(token)
            expired = issued is not None and time.time() - issued > self.reply_token_ttl
            if token in self._used_reply_tokens or expired:
                return _json({"message": "Invalid reply token"}, 400)
            self._used_reply_tokens.add(token)
            if epoch == self._epoch:
                self.sent.append(Sent(next(self._seq), "reply", token, messages))
        return _json({"sentMessages": [{"id": uuid.uuid4().hex[:16], "quoteToken": "q"} for _ in messages]})

    def _push(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        key = request.headers.get("X-Line-Retry-Key")
        epoch = self._epoch
        with self._lock:
            step = self._push_plan.pop(0) if self._push_plan else None
            self.push_attempts.append({"key": key, "to": body.get("to"), "step": step, "at": time.time()})
        if self.push_delay or self.latency:
            time.sleep(self.push_delay + self.latency)
        if self.outage_status:
            return _json({"message": "planned outage"}, self.outage_status)
        if step and "hang" in step:
            time.sleep(step["hang"])
        elif step:
            headers = {"Retry-After": str(step["retry_after"])} if "retry_after" in step else {}
            return _json({"message": "planned failure"}, step["status"], headers)
        to, messages = body.get("to"), body.get("messages")
        if not to or not isinstance(messages, list) or not 1 <= len(messages) <= 5:
            return _json({"message": "The request body has 1 error(s)"}, 400)
        refused = self._refused("PushMessageRequest", body)
        if refused is not None:
            return refused
        with self._lock:
            if key and key in self._accepted_keys:
                return _json(
                    {"message": "The retry key is already accepted", "sentMessages": [{"id": "1", "quoteToken": "q"}]},
                    409, {"x-line-accepted-request-id": self._accepted_keys[key]},
                )
            request_id = uuid.uuid4().hex
            if epoch != self._epoch:
                return _json({"message": "reset while this call was hanging"}, 500)
            if key:
                self._accepted_keys[key] = request_id
            self.sent.append(Sent(next(self._seq), "push", to, messages, retry_key=key))
        return _json({"sentMessages": [{"id": uuid.uuid4().hex[:16], "quoteToken": "q"} for _ in messages]},
                     headers={"X-Line-Request-Id": request_id})

    def _refused(self, schema: str, body: dict) -> Response | None:
        """LINE's 400, in its error shape, for a body that breaks LINE's OpenAPI document
        (bot.dev.line_schema) or its documented limits (bot.dev.line_limits); None if fine. Each
        refusal is kept in `refusals`: the tests fail on one they did not ask for."""
        details = line_schema.problems(schema, body) + line_limits.problems(body.get("messages"))
        if not details:
            return None
        with self._lock:
            self.refusals.append({"schema": schema, "details": details, "messages": body.get("messages")})
        return _json({"message": f"The request body has {len(details)} error(s)", "details": details}, 400)

    # -- serving -------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> "FakeLine":
        """Serve the API host and the data host, each on a port of its own."""
        api = self._server = make_server(host, port, self, threaded=True)
        data = self._data_server = make_server(host, 0, self.data_host, threaded=True)
        self.url = f"http://{host}:{api.server_port}"
        self.data_url = f"http://{host}:{data.server_port}"
        FakeLine._data_urls[self.url] = self.data_url
        for name, server in (("fake-line", api), ("fake-line-data", data)):
            threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
        return self

    def stop(self) -> None:
        for server in (self._server, self._data_server):
            if server:
                server.shutdown()
                server.server_close()
        FakeLine._data_urls.pop(self.url, None)


def _menu_view(menu_id: str, menu: dict) -> dict:
    return {"richMenuId": menu_id, **{k: v for k, v in menu.items() if k != "image"}}


def _json(data: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json", headers=headers or {})


def create_app() -> FakeLine:
    """For gunicorn (benchmarks): `gunicorn -w 1 -k gthread --threads 16 'bot.dev.fake_line:create_app()'`."""
    return FakeLine()



