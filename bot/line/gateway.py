"""The LINE edge: replies and pushes through line-bot-sdk v3 `MessagingApi` at LINE_API_URL."""
from __future__ import annotations

import threading
import time

from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    ShowLoadingAnimationRequest,
)
from linebot.v3.messaging.exceptions import ApiException
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from bot import metrics
from bot.core.delivery import Outcome, parse_retry_after

# (connect, read) seconds. Every call has its own timeout, so a hanging LINE holds one sender
# thread at most this long; the others go on.
# A reply waits as long as LINE may take (slow spells of 8 s were seen): giving up early only
# turns a reply LINE accepted into one whose outcome is unknown, and a token works once.
REPLY_TIMEOUT = (3.0, 25.0)
PUSH_TIMEOUT = (3.0, 10.0)
LOADING_TIMEOUT = (2.0, 3.0)
LOADING_SECONDS = 20  # LINE takes 5-60 in steps of 5; the animation ends anyway when our reply arrives
CONTENT_TIMEOUT = (3.0, 20.0)


class Content:
    """What LINE's content host answered for a message's content."""

    def __init__(self, status: int, data: bytes = b"", content_type: str = "", too_large: bool = False,
                 detail: str = ""):
        self.status, self.data, self.content_type = status, data, content_type
        self.too_large, self.detail = too_large, detail


def _wire(**fields) -> dict:
    """A request body in LINE's JSON shape (camelCase), built by us and handed to the SDK's public
    ApiClient.call_api as it is.

    The generated `to_dict()` of line-bot-sdk's models re-serialises each nested Flex component
    once per level of nesting; for our cards that was about 3 ms of every reply, more than the
    rest of the request. The SDK still does everything else (auth, headers, retry key, HTTP,
    errors). Every message shape we build is checked against the SDK models and LINE's published
    schema in the tests (tests/test_messages_sdk.py), so nothing unvalidated reaches LINE."""
    return {_camel(k): v for k, v in fields.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class LineGateway:
    def __init__(self, api_url: str, access_token: str, push_timeout: tuple[float, float] = PUSH_TIMEOUT,
                 data_api_url: str | None = None):
        self._configuration = Configuration(host=api_url, access_token=access_token)
        # What users send lives on LINE's content host only (api-data.line.me): its own configuration.
        self._data_configuration = Configuration(host=data_api_url or api_url, access_token=access_token)
        self._push_timeout = push_timeout
        self._local = threading.local()

    @property
    def blob(self) -> MessagingApiBlob:
        blob = getattr(self._local, "blob", None)
        if blob is None:
            blob = self._local.blob = MessagingApiBlob(ApiClient(self._data_configuration))
        return blob

    def content(self, message_id: str, max_bytes: int) -> Content:
        """A message's content (a photo, a file), read at most to `max_bytes` + 1: a larger one is
        reported `too_large` and not kept. 404: unknown or expired; 410: the user unsent it."""
        start = time.perf_counter()
        try:
            answer = self.blob.get_message_content_with_http_info(
                message_id, _preload_content=False, _request_timeout=CONTENT_TIMEOUT)
            raw = answer.raw_data
            data = raw.read(max_bytes + 1) if hasattr(raw, "read") else bytes(raw or b"")[: max_bytes + 1]
            headers = answer.headers or {}
            result = Content(answer.status_code or 200, b"" if len(data) > max_bytes else bytes(data),
                             str(_header(headers, "Content-Type") or ""), too_large=len(data) > max_bytes)
            if hasattr(raw, "release_conn"):
                raw.release_conn()
        except ApiException as exc:
            result = Content(exc.status or 0, detail=str(exc.reason or ""))
        except Exception as exc:  # timeouts, refused connections: try again later
            result = Content(0, detail=type(exc).__name__)
        metrics.line_call("content", result.status, time.perf_counter() - start)
        return result

    @property
    def api(self) -> MessagingApi:
        # One client per thread, created lazily (after gunicorn forks, never before).
        api = getattr(self._local, "api", None)
        if api is None:
            api = self._local.api = MessagingApi(ApiClient(self._configuration))
        return api

    def reply(self, reply_token: str, messages: list[dict]) -> Outcome:
        """One reply. A reply token works once: an attempt whose answer was lost may have used it."""
        body = _wire(reply_token=reply_token, messages=messages[:5])
        return self._call("reply", lambda: self._post("/v2/bot/message/reply", body, timeout=REPLY_TIMEOUT))

    def push(self, to: str, messages: list[dict], retry_key: str) -> Outcome:
        body = _wire(to=to, messages=messages[:5])
        outcome = self._call("push", lambda: self._post("/v2/bot/message/push", body, timeout=self._push_timeout,
                                                        headers={"X-Line-Retry-Key": retry_key}))
        if outcome.status == 409:  # the same retry key was accepted before: already delivered
            return Outcome.ok(409)
        return outcome

    def _post(self, path: str, body: dict, *, timeout, headers: dict | None = None) -> None:
        """POST a JSON body through the SDK's ApiClient (auth, HTTP, ApiException on an error)."""
        client = self.api.api_client
        client.call_api(path, "POST", {}, [], {"Accept": "application/json", "Content-Type": "application/json",
                                              **(headers or {})},
                        body=body, response_types_map={}, auth_settings=["Bearer"], _preload_content=False,
                        _request_timeout=timeout)

    def show_loading(self, chat_id: str, seconds: int = LOADING_SECONDS) -> Outcome:
        """LINE's typing dots in a one-to-one chat, until our reply arrives or `seconds` pass."""
        request = ShowLoadingAnimationRequest(chat_id=chat_id, loading_seconds=seconds)
        return self._call("loading", lambda: self.api.show_loading_animation(request, _request_timeout=LOADING_TIMEOUT))

    @staticmethod
    def _call(call: str, send) -> Outcome:
        start = time.perf_counter()
        try:
            send()
            outcome = Outcome.ok()
        except ApiException as exc:
            body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body or "")
            outcome = Outcome.from_status(exc.status or 0, body, parse_retry_after(_header(exc.headers, "Retry-After")))
        except Exception as exc:  # timeouts and connection errors surface as urllib3 errors
            outcome = Outcome.no_answer(exc, sent=not _never_sent(exc))
        metrics.line_call(call, outcome.status, time.perf_counter() - start)
        return outcome


def _never_sent(exc: BaseException) -> bool:
    """The connection was never made: LINE cannot have seen the request."""
    reason = exc.reason if isinstance(exc, MaxRetryError) else exc
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _header(headers, name: str):
    if not headers:
        return None
    return headers.get(name) or headers.get(name.lower())
