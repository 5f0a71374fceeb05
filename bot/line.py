"""The LINE edge: replies and pushes through line-bot-sdk v3 `MessagingApi` at LINE_API_URL."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, PushMessageRequest, ReplyMessageRequest
from linebot.v3.messaging.exceptions import ApiException
from pydantic.v1 import PrivateAttr

log = logging.getLogger(__name__)
REPLY_TIMEOUT = (3.0, 5.0)  # (connect, read) seconds; a reply token is good for about a minute
PUSH_TIMEOUT = (3.0, 10.0)


class _Wire:
    """Hands the SDK the request body in LINE's JSON shape, already built by us.

    The generated `to_dict()` of line-bot-sdk's models re-serialises each nested Flex component
    once per level of nesting; for our cards that was about 3 ms of every reply, more than the
    rest of the request. The SDK still does everything else (auth, headers, retry key, HTTP,
    errors). Every message shape we build is checked against the SDK models in the tests
    (tests/test_messages_sdk.py), so nothing unvalidated reaches LINE.
    """

    @classmethod
    def of(cls, **wire):
        fields = {name: value for name, value in wire.items() if name != "messages"}
        request = cls.construct(messages=[], **fields)
        request._wire = {_camel(k): v for k, v in wire.items()}
        return request

    def to_dict(self):
        return self._wire


class WireReply(_Wire, ReplyMessageRequest):
    _wire: dict = PrivateAttr()


class WirePush(_Wire, PushMessageRequest):
    _wire: dict = PrivateAttr()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True)
class PushOutcome:
    """What LINE said to one push attempt."""

    delivered: bool  # 200, or 409: the retry key was already accepted
    retry: bool  # 5xx, 429, timeouts: try again later
    status: int
    detail: str = ""
    retry_after: float | None = None


class LineGateway:
    def __init__(self, api_url: str, access_token: str, push_timeout: tuple[float, float] = PUSH_TIMEOUT):
        self._configuration = Configuration(host=api_url, access_token=access_token)
        self._push_timeout = push_timeout
        self._local = threading.local()

    @property
    def api(self) -> MessagingApi:
        # One client per thread, created lazily (after gunicorn forks, never before).
        api = getattr(self._local, "api", None)
        if api is None:
            api = self._local.api = MessagingApi(ApiClient(self._configuration))
        return api

    def reply(self, reply_token: str, messages: list[dict]) -> bool:
        if not reply_token or not messages:
            return False
        request = WireReply.of(reply_token=reply_token, messages=messages[:5])
        try:
            self.api.reply_message(request, _request_timeout=REPLY_TIMEOUT)
            return True
        except ApiException as exc:
            log.warning("LINE reply failed: status=%s reason=%s", exc.status, exc.reason)
        except Exception as exc:  # network errors, timeouts: the event is already handled
            log.warning("LINE reply failed: %s", type(exc).__name__)
        return False

    def push(self, to: str, messages: list[dict], retry_key: str) -> PushOutcome:
        request = WirePush.of(to=to, messages=messages[:5])
        try:
            self.api.push_message(request, x_line_retry_key=retry_key, _request_timeout=self._push_timeout)
            return PushOutcome(delivered=True, retry=False, status=200)
        except ApiException as exc:
            status = exc.status or 0
            body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body or "")
            if status == 409:  # the same retry key was accepted before: already delivered
                return PushOutcome(delivered=True, retry=False, status=409)
            if status == 429 or status >= 500 or status == 0:
                return PushOutcome(False, True, status, body[:500], _retry_after(exc.headers))
            return PushOutcome(False, False, status, body[:500])
        except Exception as exc:  # timeouts and connection errors surface as urllib3 errors
            return PushOutcome(False, True, 0, type(exc).__name__)


def _retry_after(headers) -> float | None:
    if not headers:
        return None
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
